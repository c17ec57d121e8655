"""The library as an answerer that searches for itself reads it: each call opens a session,
reads, and closes it, so a Claude tool loop holds no database connection while it waits."""

from __future__ import annotations

from bot.answering import EpisodeEntry
from bot.services.library import Library, episodes, read_turns, search
from db.search import SearchHit


class LibraryReader:
    """`bot.answering.LibraryReader` over a Library handle."""

    def __init__(self, library: Library) -> None:
        self._library = library

    def search(self, query: str, *, episode: str | None, limit: int) -> list[SearchHit]:
        """The bot's own retrieval, as `episode-bot search` runs it."""
        return [found.hit for found in search(self._library, query, episode=episode, limit=limit)]

    def turns(self, episode: str, start: int, end: int) -> list[SearchHit]:
        """Turns `start` to `end` of one episode, in order."""
        return list(read_turns(self._library, episode, start, end).passages)

    def episodes(self) -> list[EpisodeEntry]:
        """Every episode, newest first."""
        return [
            EpisodeEntry(e.slug, e.title, e.guest, e.published_on) for e in episodes(self._library)
        ]
