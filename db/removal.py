"""Removing an episode: what points at it, counted, and the episode deleted with everything
that belongs to it (passages, takeaways, aliases, chapters, owners: the foreign keys
cascade), while what only refers to it lets go (channels focused on it, threads about it,
feed items, and the daily posts of its takeaways keep their rows)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import Channel, Conversation, DailyPost, Episode, Segment, Takeaway


@dataclass(frozen=True)
class References:
    """How much of the library an episode's removal takes or touches."""

    passages: int
    takeaways: int
    focused_channels: int
    threads: int
    daily_posts: int


def _count(session: Session, statement: object) -> int:
    return int(session.scalar(statement) or 0)  # type: ignore[call-overload]


def references(session: Session, episode_id: int) -> References:
    """What removing the episode would delete (passages, takeaways) and unlink."""
    takeaway_ids = select(Takeaway.id).where(Takeaway.episode_id == episode_id)
    return References(
        passages=_count(session, select(func.count()).where(Segment.episode_id == episode_id)),
        takeaways=_count(session, select(func.count()).where(Takeaway.episode_id == episode_id)),
        focused_channels=_count(
            session, select(func.count()).where(Channel.focus_episode_id == episode_id)
        ),
        threads=_count(session, select(func.count()).where(Conversation.episode_id == episode_id)),
        daily_posts=_count(
            session, select(func.count()).where(DailyPost.takeaway_id.in_(takeaway_ids))
        ),
    )


def delete_episode(session: Session, episode_id: int) -> None:
    """Delete the episode (in the caller's transaction); the foreign keys do the rest."""
    session.execute(delete(Episode).where(Episode.id == episode_id))
