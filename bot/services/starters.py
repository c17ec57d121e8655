"""Questions to start with: what the bot suggests when someone opens its Messages tab, about
the conversation's own episode (`/episode use` there) or else the newest one, drawn from the
points the episode's own summary makes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.library import Library
from db.channels import focus_episode
from db.digest import takeaways_of
from db.episodes import newest_episode

# A summary point's headline ends at its first dash or colon ("Ship earlier - because ...").
HEADLINE_END = re.compile("\\s+[-\u2013\u2014]\\s+|:\\s+")
HEADLINE_WORDS = (3, 14)  # shorter is not a topic, longer is not a headline


@dataclass(frozen=True)
class Starters:
    """An episode to suggest questions about: its title, its guest, and up to three of the
    points its summary makes, as short headlines."""

    episode_title: str
    guest: str | None
    topics: tuple[str, ...]


def _headline(point: str) -> str | None:
    head = HEADLINE_END.split(point.strip(), maxsplit=1)[0].strip().rstrip(".")
    words = len(head.split())
    return head if HEADLINE_WORDS[0] <= words <= HEADLINE_WORDS[1] else None


def starters_for(library: Library, channel: str, *, topics: int = 3) -> Starters | None:
    """What to suggest in `channel` (a direct message with the bot): its focus episode, or
    the newest; None when the library is empty."""
    with library.sessions() as session:
        episode = focus_episode(session, library.workspace, channel) or newest_episode(session)
        if episode is None:
            return None
        headlines = [
            h for t in takeaways_of(session, episode.id) if (h := _headline(t.text)) is not None
        ]
        return Starters(episode.title, episode.guest, tuple(dict.fromkeys(headlines))[:topics])
