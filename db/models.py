"""SQLAlchemy 2 typed models. Alembic migrations own the schema; a test keeps them in step."""

from __future__ import annotations

from datetime import date, datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# What a passage is: the conversation itself, or a cold-open teaser, an ad read, the host's
# intro or outro. Listed once: the `ck_segments_kind` constraint is built from it.
SEGMENT_KINDS = ("content", "teaser", "sponsor", "intro", "outro")


class Base(DeclarativeBase):
    """Declarative base for every table."""


class Episode(Base):
    """One podcast episode; `content_hash` makes re-ingesting identical content a no-op, and
    `title_key` finds it again when another source of it is ingested."""

    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text)
    # The normalised title (bot/ingest/identity.py) that tells the same episode from another
    # source; None when the source gave no title. Not unique: libraries from before it may
    # hold one episode twice.
    title_key: Mapped[str | None] = mapped_column(Text, index=True)
    # bot.ingest.identity.conversation_hash of its passages: the same transcript under
    # another title.
    conversation_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str | None] = mapped_column(Text)
    guest: Mapped[str | None] = mapped_column(String(200))
    published_on: Mapped[date | None] = mapped_column(Date)
    source_url: Mapped[str | None] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(String(20))
    content_hash: Mapped[str] = mapped_column(String(64))
    turn_count: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())

    segments: Mapped[list[Segment]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", passive_deletes=True
    )
    takeaways: Mapped[list[Takeaway]] = relationship(
        back_populates="episode", cascade="all, delete-orphan", passive_deletes=True
    )


class Segment(Base):
    """A passage of one speaker turn: a turn is split only where its kind changes (an ad read
    inside a host's intro), so `part` is 0 for almost every turn."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("episode_id", "position", "part", name="uq_segments_episode_position"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in SEGMENT_KINDS) + ")",
            name="ck_segments_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[int] = mapped_column(Integer, default=0)
    speaker: Mapped[str] = mapped_column(String(200))
    start_seconds: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10), default="content")

    episode: Mapped[Episode] = relationship(back_populates="segments")


class SpeakerToken(Base):
    """A word of a speaker's name in an episode ("mike", "krieger"): lets retrieval tell a
    question that names a speaker from one about a topic without scanning every segment."""

    __tablename__ = "speaker_tokens"

    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Takeaway(Base):
    """A point worth discussing, with the turn numbers that support it."""

    __tablename__ = "takeaways"
    __table_args__ = (
        # Two processes preparing one episode's takeaways at once: the second one fails here.
        UniqueConstraint("episode_id", "rank", name="uq_takeaways_episode_rank"),
        CheckConstraint(
            "origin IN ('summary', 'generated', 'extracted')", name="ck_takeaways_origin"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    # JSON list of turn numbers, e.g. "[2, 21]"; empty for summary bullets not yet located.
    positions: Mapped[str] = mapped_column(Text, default="[]")
    origin: Mapped[str] = mapped_column(String(10))
    # Set once located: the supporting passage, a verbatim quote from it, and a question
    # that invites discussion. Unlocated takeaways are never posted.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    quote: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str | None] = mapped_column(Text)
    # Order of posting within the episode (lower first): summary bullets, then the rest.
    rank: Mapped[int] = mapped_column(Integer, default=0)

    episode: Mapped[Episode] = relationship(back_populates="takeaways")


class Channel(Base):
    """A Slack channel's settings: the episode its questions are about by default."""

    __tablename__ = "channels"

    # The workspace's team id ('' for settings from before workspaces) and Slack's channel id.
    team_id: Mapped[str] = mapped_column(
        String(32), primary_key=True, default="", server_default=""
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    focus_episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL")
    )
    # The takeaway of the day: None = as the DIGEST_* settings say (on for DIGEST_CHANNEL).
    digest_enabled: Mapped[bool | None] = mapped_column()
    digest_time: Mapped[str | None] = mapped_column(String(5))  # "09:30"
    digest_timezone: Mapped[str | None] = mapped_column(String(64))  # "Europe/Berlin"
    digest_days: Mapped[str | None] = mapped_column(String(40))  # "mon-fri"
    # When the setting last changed (naive UTC): a post time before it is not caught up.
    digest_since: Mapped[datetime | None] = mapped_column(DateTime)


class Conversation(Base):
    """A Slack thread the bot answers in: rooted at its answer, or at a message that
    mentioned it. `thread_ts` is set once the root message exists."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "thread_ts", "team_id", name="uq_conversations_thread"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class ConversationTurn(Base):
    """One message of a conversation: a person's question or the bot's answer."""

    __tablename__ = "conversation_turns"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'assistant')", name="ck_conversation_turns_role"),
        Index("ix_conversation_turns_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # JSON list of the transcript turn numbers the answer cites.
    cited_positions: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp(), index=True
    )


class PendingAsk(Base):
    """A question the bot acknowledged and owes an answer: stored before the acknowledgement
    goes out, claimed by the process that answers it (a lease, as daily posts have), marked
    done once the answer is posted. A process that dies leaves its asks for the next one;
    `dedup_key` (the event id, or the slash command's trigger_id) makes a replay of the same
    request the same ask."""

    __tablename__ = "pending_asks"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'working', 'done', 'told')", name="ck_pending_asks_state"
        ),
        CheckConstraint("kind IN ('command', 'event')", name="ck_pending_asks_kind"),
        Index("ix_pending_asks_open", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    # The bot's thread the answer goes in (None: a new message, as `/episode ask` posts).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(Text)
    # The asker's own workspace (another than team_id in a shared channel): a streamed
    # answer in a channel names it.
    recipient_team_id: Mapped[str | None] = mapped_column(String(32))
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # The message showing the answer as it is written, once there is one.
    answer_ts: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class EpisodeAlias(Base):
    """Another slug an episode is known by: the slug of a second source of it that ingest
    recognised and did not store (an archive's `-20` copy, say), so what people type, and
    question sets written against that source, still find it."""

    __tablename__ = "episode_aliases"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )


class EpisodeOwner(Base):
    """A workspace an episode was ingested for. With LIBRARY_PER_WORKSPACE=true a workspace
    sees only the episodes it owns (db/shelves.py); the same transcript ingested for two
    workspaces is one episode with two owners."""

    __tablename__ = "episode_owners"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LibraryGeneration(Base):
    """One row whose counter triggers on `episodes` move at every change (migration 0008):
    how a process knows its cached view of the library is out of date."""

    __tablename__ = "library_generation"
    __table_args__ = (CheckConstraint("id = 1", name="ck_library_generation_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class ProcessedEvent(Base):
    """A Slack event id already handled (migration 0003). No longer written: an event's
    question is its own key in pending_asks; the table stays until a migration drops it."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class Feedback(Base):
    """A person's verdict on one answer; a later click replaces an earlier one."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("turn_id", "user_id", name="uq_feedback_turn_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    turn_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_turns.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32))
    helpful: Mapped[bool] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class AnswerTrace(Base):
    """How one answer was made: the request (enough to answer it again), the passages given,
    the model, its token counts and latency, and which answerer answered."""

    __tablename__ = "answer_traces"
    __table_args__ = (Index("ix_answer_traces_team_created", "team_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace asked in; '' for the command line and for traces from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp(), index=True
    )
    # The stored answer in a Slack thread, when it was one (CLI answers have none).
    turn_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation_turns.id", ondelete="SET NULL")
    )
    # A slug, not a key: a trace outlives re-ingesting or deleting its episode.
    episode_slug: Mapped[str | None] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    history: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[question, answer], ...]
    passages: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of passage ids
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of passage ids
    answerer: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_creation_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    # JSON list of the library tools called (see db.traces.ToolCall), and API requests made.
    tool_calls: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    round_trips: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class DailyPost(Base):
    """A channel's takeaway of the day. The row is claimed before posting, so however many
    bot processes are due at once, one posts; a claim left by a crash is retaken after a
    lease, a failed post is retried later, and one Slack will never take ("not_in_channel")
    is skipped for the day."""

    __tablename__ = "daily_posts"
    __table_args__ = (
        UniqueConstraint("channel", "local_date", "team_id", name="uq_daily_posts_channel_date"),
        CheckConstraint(
            "status IN ('claimed', 'posted', 'failed', 'skipped')", name="ck_daily_posts_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace (Slack team id) the row belongs to; '' for rows from before workspaces.
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[date] = mapped_column(Date)
    takeaway_id: Mapped[int | None] = mapped_column(
        ForeignKey("takeaways.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(100))


class Workspace(Base):
    """A Slack workspace the bot is (or was) installed in: by OAuth, or the one of
    SLACK_BOT_TOKEN. Uninstalled, its data is kept until WORKSPACE_GRACE_DAYS have passed."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    installed_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    uninstalled_at: Mapped[datetime | None] = mapped_column(DateTime)


# slack_sdk's installation and OAuth state stores read and write these tables; declared
# here by slack_sdk's own builders so the migrations are checked against its shapes.
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, "slack_oauth_states"
)


class EpisodeChapter(Base):
    """One chapter of an episode, as its feed's chapters file names it: where it starts and
    its title (a quote's chapter is the last one starting at or before it)."""

    __tablename__ = "episode_chapters"

    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_seconds: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(Text)


class Feed(Base):
    """A podcast feed a workspace subscribed to: what it is called, where new episodes are
    announced, the validators of the last fetch and how polling it has been going."""

    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("team_id", "url", name="uq_feeds_team_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The workspace subscribed; '' for the command line's (and a single workspace's).
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    # Where its new episodes are announced; None: loaded without an announcement.
    channel: Mapped[str | None] = mapped_column(String(32))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    polled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A feed that keeps failing waits longer each time (backed off) before it is polled again.
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    # The items the last poll could not read, a line each (JSON list).
    skipped: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[FeedItemRow]] = relationship(
        back_populates="feed", cascade="all, delete-orphan", passive_deletes=True
    )


# What became of a feed's item: listed when the subscription began (not loaded), waiting for
# a transcript (none offered yet, or its fetch failed), loaded, or broken (unreadable).
FEED_ITEM_STATES = ("earlier", "waiting", "ingested", "broken")


class FeedItemRow(Base):
    """One item of a feed, seen by a poll: what the feed said of it, what became of it, and
    its announcement (claimed before posting, so it is posted once)."""

    __tablename__ = "feed_items"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid", name="uq_feed_items_feed_guid"),
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in FEED_ITEM_STATES) + ")",
            name="ck_feed_items_state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    link: Mapped[str | None] = mapped_column(Text)
    audio_url: Mapped[str | None] = mapped_column(Text)
    guest: Mapped[str | None] = mapped_column(String(200))
    transcript_url: Mapped[str | None] = mapped_column(Text)
    transcript_type: Mapped[str | None] = mapped_column(String(60))
    chapters_url: Mapped[str | None] = mapped_column(Text)
    # The show notes, as plain text: the episode's summary when its transcript has none.
    summary: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    # Why it waits or is broken, in one sentence.
    note: Mapped[str | None] = mapped_column(Text)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    episode_id: Mapped[int | None] = mapped_column(
        ForeignKey("episodes.id", ondelete="SET NULL"), index=True
    )
    seen_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    announce_claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    announced_ts: Mapped[str | None] = mapped_column(String(32))

    feed: Mapped[Feed] = relationship(back_populates="items")
    episode: Mapped[Episode | None] = relationship()


class Lease(Base):
    """A job only one process may run at a time (the feed poller), held until `expires_at`
    by `holder`; one left by a process that died is taken over once it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
