"""What a channel's questions are about: its focus episode (`/episode use`), or the whole
library when it has none."""

from __future__ import annotations

from bot.retrieval.rerank import RankedPassage
from bot.services.library import (
    EpisodeInfo,
    EpisodePage,
    Library,
    closest_episodes,
    episode_page,
    search,
)
from db.channels import clear_focus, focus_episode, set_focus_episode
from db.episodes import count_episodes, get_episode


def focus_of(library: Library, channel: str) -> str | None:
    """The slug of the channel's focus episode; None: the whole library."""
    with library.sessions() as session:
        focus = focus_episode(session, library.workspace, channel)
        return focus.slug if focus else None


def use_episode(library: Library, channel: str, slug: str) -> str | None:
    """Make the episode with this slug (any case) the channel's focus; its title, or None
    when no episode has the slug."""
    with library.sessions.begin() as session:
        episode = get_episode(session, slug.strip().lower())
        if episode is None:
            return None
        set_focus_episode(session, library.workspace, channel, episode)
        return episode.title


def use_whole_library(library: Library, channel: str) -> int:
    """The channel's questions go across the library again; how many episodes it holds."""
    with library.sessions.begin() as session:
        clear_focus(session, library.workspace, channel)
        return count_episodes(session)


def search_here(library: Library, channel: str, text: str, limit: int) -> list[RankedPassage]:
    """The best passages for `text` in the channel's focus episode, else the library."""
    return search(library, text, episode=focus_of(library, channel), limit=limit)


def episode_page_here(
    library: Library, channel: str, words: str = "", page: int = 1
) -> tuple[EpisodePage, str | None]:
    """A page of the episodes (those matching `words`, if any), and the slug of the
    channel's focus."""
    return episode_page(library, words, page), focus_of(library, channel)


def did_you_mean(library: Library, slug: str) -> list[EpisodeInfo]:
    """The episodes closest to a slug `/episode use` did not find, closest first."""
    return closest_episodes(library, slug)
