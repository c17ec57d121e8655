"""Episode queries: store (idempotent, replace in one transaction, the same episode from
another source recognised by its title), look up, list."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from dataclasses import replace as with_changes
from datetime import date
from enum import StrEnum

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from db.models import Channel, Conversation, Episode, Segment, SpeakerToken, Takeaway
from db.titles import same_conversation


class StoreOutcome(StrEnum):
    """What storing an episode did."""

    INGESTED = "ingested"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


class EpisodeExists(Exception):
    """The slug is taken by an episode with different content and --replace was not given."""


class SameEpisode(Exception):
    """Another source of a stored episode (same title and conversation, or the very same
    conversation under another title; other slug, different content) that may not replace
    it: nothing was written. `slug` is the stored episode's."""

    def __init__(self, slug: str, *, by_title: bool = True) -> None:
        super().__init__(slug)
        self.slug = slug
        self.by_title = by_title


@dataclass(frozen=True)
class Stored:
    """What storing did, under which slug (the stored episode's when found by title), and
    how it was found. `title_shared_with`: a stored episode of the same title but another
    conversation (a source's metadata copied from the wrong episode, say)."""

    outcome: StoreOutcome
    slug: str
    by_title: bool = False
    title_shared_with: str | None = None
    by_conversation: bool = False


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
    # The normalised title (db.titles.title_key); None when the source gave no title.
    title_key: str | None = None
    # db.titles.conversation_hash of the passages' speakers and texts.
    conversation_hash: str | None = None


def _texts(session: Session, episode_id: int) -> list[str]:
    return list(session.scalars(select(Segment.text).where(Segment.episode_id == episode_id)))


def _same_title(
    session: Session, record: EpisodeRecord, segments: Sequence[dict[str, object]]
) -> tuple[Episode | None, str | None]:
    """The stored episode this record is another source of: same title key and the same
    conversation (oldest first, should a library hold one twice). Else None, and the slug
    of an episode that only shares the title, if any."""
    if record.title_key is None:
        return None, None
    namesakes = list(
        session.scalars(
            select(Episode).where(Episode.title_key == record.title_key).order_by(Episode.id)
        )
    )
    for episode in namesakes:
        if episode.content_hash == record.content_hash:
            return episode, None
    new_texts = [str(row["text"]) for row in segments]
    for episode in namesakes:
        if same_conversation(_texts(session, episode.id), new_texts):
            return episode, None
    return None, namesakes[0].slug if namesakes else None


def store_episode(
    session: Session,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
    *,
    replace: bool,
    keep: Collection[str] = (),
) -> Stored:
    """Insert the episode, or swap it in for the stored one it is a version of.

    Found by slug, different content: EpisodeExists unless `replace`. Not found by slug but
    by title, and the transcripts are of one conversation, or by the very same transcript
    under another title: another source of that episode, SameEpisode unless `replace` and
    its slug is not in `keep`; swapped in, it keeps the
    stored slug, so channel focus, links and what people type stay the same. Runs inside
    the caller's transaction, so a failure anywhere leaves the old episode (or nothing) in
    place.
    """
    existing = session.scalar(select(Episode).where(Episode.slug == record.slug))
    by_title, by_conversation, shared_with = False, False, None
    if existing is None:
        existing, shared_with = _same_title(session, record, segments)
        by_title = existing is not None
    if existing is None and record.conversation_hash is not None:
        existing = session.scalar(
            select(Episode)
            .where(Episode.conversation_hash == record.conversation_hash)
            .order_by(Episode.id)
            .limit(1)
        )
        by_conversation = existing is not None
    if existing is None:
        _insert(session, record, segments, summary_takeaways, speaker_tokens)
        return Stored(StoreOutcome.INGESTED, record.slug, title_shared_with=shared_with)
    another_source = by_title or by_conversation
    if existing.content_hash == record.content_hash:
        return Stored(StoreOutcome.UNCHANGED, existing.slug, by_title, None, by_conversation)
    if another_source and (not replace or existing.slug in keep):
        raise SameEpisode(existing.slug, by_title=by_title)
    if not another_source and not replace:
        raise EpisodeExists(record.slug)
    slug = existing.slug
    record = with_changes(record, slug=slug)
    # Channels and threads that discuss it keep discussing it (the delete unsets them).
    focused = list(
        session.scalars(select(Channel.id).where(Channel.focus_episode_id == existing.id))
    )
    threads = list(
        session.scalars(select(Conversation.id).where(Conversation.episode_id == existing.id))
    )
    # Core delete: the FK cascade and the FTS triggers clear segments and takeaways.
    session.execute(delete(Episode).where(Episode.id == existing.id))
    session.expunge(existing)
    episode_id = _insert(session, record, segments, summary_takeaways, speaker_tokens)
    if focused:
        session.execute(
            update(Channel).where(Channel.id.in_(focused)).values(focus_episode_id=episode_id)
        )
    if threads:
        session.execute(
            update(Conversation).where(Conversation.id.in_(threads)).values(episode_id=episode_id)
        )
    return Stored(StoreOutcome.REPLACED, slug, by_title, None, by_conversation)


def _insert(
    session: Session,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
) -> int:
    """Write the episode and its rows; returns its id."""
    episode = Episode(**asdict(record))
    session.add(episode)
    session.flush()
    # Core executemany: the ORM's bulk path costs more than the rows themselves here.
    session.connection().execute(
        insert(Segment.__table__), [{**row, "episode_id": episode.id} for row in segments]
    )
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


def get_episode(session: Session, slug: str) -> Episode | None:
    """The episode with this slug, if any."""
    return session.scalar(select(Episode).where(Episode.slug == slug))


def list_episodes(session: Session) -> list[Episode]:
    """Every episode, newest publication first, undated ones last."""
    return list(
        session.scalars(
            select(Episode).order_by(
                Episode.published_on.is_(None), Episode.published_on.desc(), Episode.slug
            )
        )
    )


def count_episodes(session: Session) -> int:
    """How many episodes the library holds."""
    return session.scalar(select(func.count(Episode.id))) or 0


def namesake_rows(
    session: Session, title_key: str
) -> list[tuple[int, str, str, str | None, list[str]]]:
    """Every episode with this title key: id, slug, title, guest and speaker name words."""
    episodes = session.execute(
        select(Episode.id, Episode.slug, Episode.title, Episode.guest)
        .where(Episode.title_key == title_key)
        .order_by(Episode.id)
    ).all()
    return [
        (
            row.id,
            row.slug,
            row.title,
            row.guest,
            list(
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
