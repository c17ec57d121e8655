"""Episode chapters where people read them: the chapter each quote of an answer falls in,
and each episode's chapters for the MCP listing."""

from __future__ import annotations

import dataclasses

from bot.answering import Answer
from bot.ingest.chapters import chapter_at
from bot.services.library import Library
from db.feeds import chapters_by_slug


def with_chapters(library: Library, answer: Answer) -> Answer:
    """`answer` with each quote's chapter named, for episodes that have chapters."""
    slugs = {c.episode_slug for c in answer.citations if c.start_seconds is not None}
    if not slugs:
        return answer
    with library.sessions() as session:
        stored = chapters_by_slug(session, slugs)
    if not stored:
        return answer
    cited = [
        dataclasses.replace(c, chapter=chapter_at(stored.get(c.episode_slug, []), c.start_seconds))
        for c in answer.citations
    ]
    return dataclasses.replace(answer, citations=cited)


def chapters_of_episode(library: Library, slug: str) -> list[tuple[float, str]]:
    """One episode's chapters (start seconds, title); none when it has none or no such
    episode is on the library's shelf."""
    with library.sessions() as session:
        return chapters_by_slug(session, [slug]).get(slug, [])


def chapters_by_episode(library: Library) -> dict[str, list[tuple[float, str]]]:
    """Each episode's chapters (start seconds, title), by slug; episodes without any left
    out."""
    with library.sessions() as session:
        return chapters_by_slug(session)
