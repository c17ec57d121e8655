"""Episode queries: insert one with its rows, swap one in for a stored one, find stored ones
by slug, title key or conversation hash, look up, list, retitle. Which stored episode a new
file is, and whether it may replace it, is decided by `bot.ingest.storing`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from db.dialect import is_postgres
from db.feeds import set_chapters
from db.models import (
    Channel,
    Conversation,
    Episode,
    EpisodeAlias,
    EpisodeChapter,
    EpisodeOwner,
    FeedItemRow,
    Segment,
    SpeakerToken,
    Takeaway,
)
from db.shelves import on_shelf, own


@dataclass(frozen=True)
class EpisodeRecord:
    """Episode metadata to store; `segments` are dicts of Segment columns."""

    slug: str
    title: str
    source_format: str
    content_hash: str
    turn_count: int
    summary: str | None = None
    audience: str | None = None
    guest: str | None = None
    published_on: date | None = None
    source_url: str | None = None
    # The normalised title (bot.ingest.identity.title_key); None when the source gave no title.
    title_key: str | None = None
    # bot.ingest.identity.conversation_hash of the passages' speakers and texts.
    conversation_hash: str | None = None


@dataclass(frozen=True)
class StoredVersion:
    """A stored episode as told apart from a new file of it: its id, slug and the hash of
    the file it was stored from."""

    id: int
    slug: str
    content_hash: str


@dataclass(frozen=True)
class NamesakeRow:
    """An episode sharing a title key with others: who it says it is with, and the words of
    its speakers' names."""

    episode_id: int
    slug: str
    title: str
    guest: str | None
    speaker_tokens: tuple[str, ...]


_VERSION_COLUMNS = (Episode.id, Episode.slug, Episode.content_hash)


def _version(row: Row[Any] | None) -> StoredVersion | None:
    return None if row is None else StoredVersion(**row._mapping)


def version_by_slug(session: Session, slug: str) -> StoredVersion | None:
    """The stored episode with this slug, if any."""
    return _version(session.execute(select(*_VERSION_COLUMNS).where(Episode.slug == slug)).first())


def versions_titled(session: Session, title_key: str) -> list[StoredVersion]:
    """Every stored episode with this title key, oldest first."""
    rows = session.execute(
        select(*_VERSION_COLUMNS).where(Episode.title_key == title_key).order_by(Episode.id)
    )
    return [StoredVersion(**row._mapping) for row in rows]


def version_by_conversation(session: Session, conversation_hash: str) -> StoredVersion | None:
    """The oldest stored episode with this conversation hash, if any."""
    return _version(
        session.execute(
            select(*_VERSION_COLUMNS)
            .where(Episode.conversation_hash == conversation_hash)
            .order_by(Episode.id)
            .limit(1)
        ).first()
    )


def passage_texts(session: Session, episode_id: int) -> list[str]:
    """The texts of one episode's passages."""
    return list(session.scalars(select(Segment.text).where(Segment.episode_id == episode_id)))


# Every column of a segment row but its id, in the table's order.
_SEGMENT_COLUMNS = tuple(column for column in Segment.__table__.columns if not column.primary_key)


def _pg_segments_sql() -> str:
    """PostgreSQL: one INSERT of a whole episode's passages, each column one array. One
    statement, so the statement triggers of `segments` (migration 0014) run once an
    episode, not once a passage; in the arrays' order, so ids follow it."""
    names = ", ".join(column.name for column in _SEGMENT_COLUMNS)
    arrays = ", ".join(
        f"%s::{column.type.compile(dialect=postgresql.dialect())}[]" for column in _SEGMENT_COLUMNS
    )
    return (
        f"INSERT INTO segments ({names}) SELECT {names} "
        f"FROM unnest({arrays}) WITH ORDINALITY AS given ({names}, ordinal) ORDER BY ordinal"
    )


_PG_SEGMENTS_SQL = _pg_segments_sql()


def _insert_segments(
    session: Session, episode_id: int, segments: Sequence[dict[str, object]]
) -> None:
    """Store one episode's passages, in order: ids ascend with the rows given."""
    rows = [{**row, "episode_id": episode_id} for row in segments]
    if not rows:
        return
    if not is_postgres(session):
        # Core executemany: the ORM's bulk path costs more than the rows themselves here.
        session.connection().execute(insert(Segment.__table__), rows)
        return
    # What executemany would have filled in for a column a row leaves out: its default.
    defaults = {
        column.name: column.default.arg
        if column.default is not None and column.default.is_scalar
        else None
        for column in _SEGMENT_COLUMNS
    }
    arrays = tuple(
        [row.get(column.name, defaults[column.name]) for row in rows] for column in _SEGMENT_COLUMNS
    )
    session.connection().exec_driver_sql(_PG_SEGMENTS_SQL, arrays)


def insert_episode(
    session: Session,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
) -> int:
    """Write the episode, its passages, speaker name words and summary takeaways; returns
    its id. Runs inside the caller's transaction."""
    episode = Episode(**asdict(record))
    session.add(episode)
    session.flush()
    _insert_segments(session, episode.id, segments)
    if speaker_tokens:
        session.connection().execute(
            insert(SpeakerToken.__table__),
            [{"episode_id": episode.id, "token": token} for token in sorted(set(speaker_tokens))],
        )
    if summary_takeaways:
        session.connection().execute(
            insert(Takeaway.__table__),
            [
                {
                    "episode_id": episode.id,
                    "text": text,
                    "positions": json.dumps([]),
                    "origin": "summary",
                    "rank": rank,
                }
                for rank, text in enumerate(summary_takeaways)
            ],
        )
    return episode.id


def swap_episode(
    session: Session,
    stored_id: int,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
) -> int:
    """Delete the stored episode and insert `record` with its rows in its place; channels
    focused on it and conversations about it point at the new one. Returns the new id. Runs
    inside the caller's transaction, so a failure leaves the stored episode whole."""
    # Channels and threads that discuss it keep discussing it (the delete unsets them).
    focused = [
        tuple(row)
        for row in session.execute(
            select(Channel.team_id, Channel.id).where(Channel.focus_episode_id == stored_id)
        )
    ]
    threads = list(
        session.scalars(select(Conversation.id).where(Conversation.episode_id == stored_id))
    )
    owners = list(
        session.scalars(select(EpisodeOwner.team_id).where(EpisodeOwner.episode_id == stored_id))
    )
    items = list(session.scalars(select(FeedItemRow.id).where(FeedItemRow.episode_id == stored_id)))
    chapters = [
        (c.start_seconds, c.title)
        for c in session.scalars(
            select(EpisodeChapter)
            .where(EpisodeChapter.episode_id == stored_id)
            .order_by(EpisodeChapter.position)
        )
    ]
    # Core delete: the FK cascade and the FTS triggers clear segments and takeaways.
    session.execute(delete(Episode).where(Episode.id == stored_id))
    episode_id = insert_episode(session, record, segments, summary_takeaways, speaker_tokens)
    if focused:
        session.execute(
            update(Channel)
            .where(tuple_(Channel.team_id, Channel.id).in_(focused))
            .values(focus_episode_id=episode_id)
        )
    for team in owners:
        own(session, team, episode_id)
    if items:  # its feed items keep it (and so do not announce it again)
        session.execute(
            update(FeedItemRow).where(FeedItemRow.id.in_(items)).values(episode_id=episode_id)
        )
    set_chapters(session, episode_id, chapters)
    if threads:
        session.execute(
            update(Conversation).where(Conversation.id.in_(threads)).values(episode_id=episode_id)
        )
    return episode_id


def get_episode(session: Session, slug: str) -> Episode | None:
    """The episode with this slug, or known by it (an alias), on the session's shelf, if
    any; its own slug may differ from the one asked for."""
    episode = session.scalar(select(Episode).where(Episode.slug == slug, on_shelf(session)))
    if episode is not None:
        return episode
    return session.scalar(
        select(Episode)
        .join(EpisodeAlias, EpisodeAlias.episode_id == Episode.id)
        .where(EpisodeAlias.slug == slug, on_shelf(session))
    )


def add_alias(session: Session, slug: str, episode_slug: str) -> None:
    """Remember that `slug` names the stored episode `episode_slug` (in the caller's
    transaction); nothing happens when `slug` is an episode's own or already an alias."""
    episode_id = session.scalar(select(Episode.id).where(Episode.slug == episode_slug))
    taken = session.scalar(select(Episode.id).where(Episode.slug == slug))
    if episode_id is None or taken is not None or session.get(EpisodeAlias, slug) is not None:
        return
    session.add(EpisodeAlias(slug=slug, episode_id=episode_id))


def list_episodes(session: Session) -> list[Episode]:
    """Every episode on the session's shelf, newest publication first, undated ones last."""
    return list(
        session.scalars(
            select(Episode)
            .where(on_shelf(session))
            .order_by(Episode.published_on.is_(None), Episode.published_on.desc(), Episode.slug)
        )
    )


# PostgreSQL: the advisory lock key for "storing an episode" (any constant will do).
STORE_LOCK_KEY = 7_170_018


def lock_for_storing(session: Session) -> None:
    """Store one episode at a time across every process, until the transaction ends: an
    episode's segment ids must be one unbroken range (retrieval scopes searches by it), and
    which stored episode a file is must not change while it is decided. SQLite has one
    writer at a time already."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORE_LOCK_KEY})


def refresh_statistics(session: Session) -> None:
    """Bring the query planner's statistics of the library's tables up to date, and the
    full-text index's pending entries into the index itself (PostgreSQL; SQLite plans FTS5
    queries without them)."""
    if is_postgres(session):
        session.execute(text("ANALYZE segments, episodes, speaker_tokens, episode_lexemes"))
        # A GIN index takes new entries into an unordered list that every search reads
        # whole until autovacuum gets to it: after an ingest, megabytes of it, and plans
        # made for the list. Merged now, by the index's owner (anyone else may not).
        session.execute(
            text(
                "SELECT gin_clean_pending_list(c.oid) FROM pg_class AS c "
                "WHERE c.oid = 'ix_segments_search'::regclass "
                "AND pg_has_role(c.relowner, 'USAGE')"
            )
        )


def newest_episode(session: Session) -> Episode | None:
    """The episode on the session's shelf published last (an undated one only when none
    has a date)."""
    return session.scalars(
        select(Episode)
        .where(on_shelf(session))
        .order_by(Episode.published_on.is_(None), Episode.published_on.desc(), Episode.slug)
        .limit(1)
    ).first()


def count_episodes(session: Session) -> int:
    """How many episodes the session's shelf holds."""
    return session.scalar(select(func.count(Episode.id)).where(on_shelf(session))) or 0


def namesake_rows(session: Session, title_key: str) -> list[NamesakeRow]:
    """Every episode with this title key, oldest first, with its speakers' name words."""
    episodes = session.execute(
        select(Episode.id, Episode.slug, Episode.title, Episode.guest)
        .where(Episode.title_key == title_key)
        .order_by(Episode.id)
    ).all()
    return [
        NamesakeRow(
            episode_id=row.id,
            slug=row.slug,
            title=row.title,
            guest=row.guest,
            speaker_tokens=tuple(
                session.scalars(select(SpeakerToken.token).where(SpeakerToken.episode_id == row.id))
            ),
        )
        for row in episodes
    ]


def retitle(session: Session, episode_id: int, title: str, guest: str | None) -> None:
    """Give an episode a title of its own, and drop what came with the other episode's
    title: its key, video URL, publication date and summary (and the guest, when None)."""
    session.execute(
        update(Episode)
        .where(Episode.id == episode_id)
        .values(
            title=title,
            title_key=None,
            source_url=None,
            published_on=None,
            summary=None,
            guest=guest,
        )
    )
