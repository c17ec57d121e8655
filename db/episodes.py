"""Episode queries: store (idempotent, replace in one transaction), look up, list."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from db.models import Channel, Episode, Segment, SpeakerToken, Takeaway


class StoreOutcome(StrEnum):
    """What storing an episode did."""

    INGESTED = "ingested"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


class EpisodeExists(Exception):
    """The slug is taken by an episode with different content and --replace was not given."""


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


def store_episode(
    session: Session,
    record: EpisodeRecord,
    segments: Sequence[dict[str, object]],
    summary_takeaways: Sequence[str],
    speaker_tokens: Sequence[str],
    *,
    replace: bool,
) -> StoreOutcome:
    """Insert the episode, or swap it in for the old one with that slug.

    Runs inside the caller's transaction, so a failure anywhere leaves the old episode
    (or nothing) in place.
    """
    existing = session.scalar(select(Episode).where(Episode.slug == record.slug))
    outcome = StoreOutcome.INGESTED
    focused: list[str] = []
    if existing is not None:
        if existing.content_hash == record.content_hash:
            return StoreOutcome.UNCHANGED
        if not replace:
            raise EpisodeExists(record.slug)
        # Channels that discuss it keep discussing it (the delete would unset their focus).
        focused = list(
            session.scalars(select(Channel.id).where(Channel.focus_episode_id == existing.id))
        )
        # Core delete: the FK cascade and the FTS triggers clear segments and takeaways.
        session.execute(delete(Episode).where(Episode.id == existing.id))
        session.expunge(existing)
        outcome = StoreOutcome.REPLACED

    episode = Episode(**asdict(record))
    session.add(episode)
    session.flush()
    if focused:
        session.execute(
            update(Channel).where(Channel.id.in_(focused)).values(focus_episode_id=episode.id)
        )
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
    return outcome


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
