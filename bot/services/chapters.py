"""Episode chapters where people read them: the chapter each quote of an answer falls in,
and each episode's chapters for the MCP listing."""

from __future__ import annotations

import dataclasses

from bot.answering import Answer
from bot.ingest.chapters import chapter_at
from bot.services.library import Library, episodes
from db.episodes import get_episode
from db.feeds import chapters_of


def with_chapters(library: Library, answer: Answer) -> Answer:
    """`answer` with each quote's chapter named, for episodes that have chapters."""
    slugs = {c.episode_slug for c in answer.citations if c.start_seconds is not None}
    if not slugs:
        return answer
    with library.sessions() as session:
        ids = {slug: e.id for slug in slugs if (e := get_episode(session, slug)) is not None}
        stored = chapters_of(session, list(ids.values()))
    if not stored:
        return answer
    by_slug = {
        slug: [(c.start_seconds, c.title) for c in stored.get(i, [])] for slug, i in ids.items()
    }
    cited = [
        dataclasses.replace(c, chapter=chapter_at(by_slug.get(c.episode_slug, []), c.start_seconds))
        for c in answer.citations
    ]
    return dataclasses.replace(answer, citations=cited)


def chapters_of_episode(library: Library, slug: str) -> list[tuple[float, str]]:
    """One episode's chapters (start seconds, title); none when it has none or no such
    episode is on the library's shelf."""
    with library.sessions() as session:
        episode = get_episode(session, slug)
        if episode is None:
            return []
        stored = chapters_of(session, [episode.id]).get(episode.id, [])
        return [(c.start_seconds, c.title) for c in stored]


def chapters_by_episode(library: Library) -> dict[str, list[tuple[float, str]]]:
    """Each episode's chapters (start seconds, title), by slug; episodes without any left
    out."""
    listed = episodes(library)
    with library.sessions() as session:
        ids = {e.slug: found.id for e in listed if (found := get_episode(session, e.slug))}
        stored = chapters_of(session, list(ids.values()))
    return {
        slug: [(c.start_seconds, c.title) for c in stored[i]]
        for slug, i in ids.items()
        if i in stored
    }
