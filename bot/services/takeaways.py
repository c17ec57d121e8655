"""Takeaways outside the daily post: the one a channel gets next (`episode-bot takeaway`) and
an episode's whole list (MCP), prepared by the same code as the takeaway of the day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.services.library import EpisodeInfo, Library, find_episode
from bot.takeaways.picking import Pick, ensure_takeaways, next_takeaway
from db.digest import takeaways_of
from db.models import Segment

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter


@dataclass(frozen=True)
class Takeaway:
    """A point from an episode, with the quote that supports it once one is located."""

    text: str
    quote: str | None
    speaker: str | None
    position: int | None
    start_seconds: float | None
    origin: str


def next_for_channel(
    library: Library, channel: str, *, when_done: str, writer: TakeawayWriter | None
) -> Pick | None:
    """The takeaway `channel` would get next, or None when the library has none."""
    return next_takeaway(
        library.sessions, library.workspace, channel, when_done=when_done, writer=writer
    )


def of_episode(
    library: Library, slug: str, writer: TakeawayWriter | None = None
) -> tuple[EpisodeInfo, list[Takeaway]]:
    """The episode's takeaways in posting order, located and added to the first time they
    are asked for. UnknownEpisode for a bad slug."""
    with library.sessions() as session:
        episode_id = find_episode(session, slug).id
    ensure_takeaways(library.sessions, episode_id, writer)
    with library.sessions() as session:
        episode = find_episode(session, slug)
        found = []
        for row in takeaways_of(session, episode.id):
            segment = session.get(Segment, row.segment_id) if row.segment_id else None
            found.append(
                Takeaway(
                    text=row.text,
                    quote=row.quote,
                    speaker=segment.speaker if segment else None,
                    position=segment.position if segment else None,
                    start_seconds=segment.start_seconds if segment else None,
                    origin=row.origin,
                )
            )
        return EpisodeInfo.of(episode), found
