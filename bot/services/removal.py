"""Removing an episode from the library: first what would go, then all of it in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.library import Library, find_episode
from db.removal import References, delete_episode, references


@dataclass(frozen=True)
class Removal:
    """An episode to remove (or removed), and what goes or lets go of it with it."""

    slug: str
    title: str
    references: References


def removal_of(library: Library, slug: str) -> Removal:
    """What removing the episode would do; UnknownEpisode for a slug the library lacks."""
    with library.sessions() as session:
        episode = find_episode(session, slug.strip().lower())
        return Removal(episode.slug, episode.title, references(session, episode.id))


def remove_episode(library: Library, slug: str) -> Removal:
    """Remove the episode and everything of it, in one transaction: channels focused on it
    ask across the library again, threads about it stay (without their episode), the days
    its takeaways were posted stay in the daily history. UnknownEpisode for a bad slug."""
    with library.sessions.begin() as session:
        episode = find_episode(session, slug.strip().lower())
        removed = Removal(episode.slug, episode.title, references(session, episode.id))
        delete_episode(session, episode.id)
    return removed
