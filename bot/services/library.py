"""The episode library as every surface opens and reads it: settings -> a migrated database
(the bundled sample episode loaded the first time it is used empty), episodes listed and
looked up, transcripts ingested and searched, and an episode read turn by turn."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.ingest.pipeline import FileResult, expand_paths, ingest_file, ingest_files
from bot.retrieval import OnlyCommonWords, UnknownEpisode, retrieve
from bot.retrieval.evidence import library_index
from bot.retrieval.rerank import RankedPassage
from bot.retrieval.words import STOPWORDS, query_terms
from bot.services.suggest import closest, matching
from db.engine import DatabaseError, head_revision, open_database
from db.episodes import count_episodes, get_episode, list_episodes
from db.models import Episode
from db.search import SearchHit, episode_passages, turn_span
from db.shelves import LIBRARY_OF

SAMPLE_FILE = "mike-krieger-anthropic-cpo.txt"

__all__ = ["DatabaseError", "EpisodeInfo", "Library", "SearchHit", "UnknownEpisode"]


@dataclass(frozen=True)
class Library:
    """An open library: the one handle every service takes (surfaces never see sessions),
    for one workspace: what services read and write of channels, threads, feedback, traces
    and daily posts is `workspace`'s alone (the episode library itself is shared)."""

    sessions: sessionmaker[Session]
    # The Slack team id; '' for the command line and for data from before workspaces.
    workspace: str = ""
    # LIBRARY_PER_WORKSPACE: a workspace sees only the episodes ingested for it.
    per_workspace: bool = False

    def of_workspace(self, team_id: str) -> Library:
        """The same library, for workspace `team_id`: with a library per workspace, its
        sessions see only that workspace's episodes (db/shelves.py); for '' (the command
        line's operator) every episode."""
        sessions = self.sessions
        if self.per_workspace:
            info = {LIBRARY_OF: team_id} if team_id else {}
            sessions = sessionmaker(**{**self.sessions.kw, "info": info})
        return replace(self, workspace=team_id, sessions=sessions)


@dataclass(frozen=True)
class EpisodeInfo:
    """One episode as the surfaces show it."""

    slug: str
    title: str
    guest: str | None
    turns: int
    published_on: date | None
    url: str | None
    summary: str | None = None

    @classmethod
    def of(cls, episode: Episode) -> EpisodeInfo:
        """From the stored row."""
        return cls(
            episode.slug,
            episode.title,
            episode.guest,
            episode.turn_count,
            episode.published_on,
            episode.source_url,
            episode.summary,
        )


@dataclass(frozen=True)
class TurnWindow:
    """Some turns of one episode: its first and last turn numbers (None when it has no
    passages) and the passages of the turns asked for that exist, in order."""

    episode: EpisodeInfo
    span: tuple[int, int] | None
    passages: Sequence[SearchHit]


def sample_episode_path() -> Path:
    """The bundled sample transcript (Lenny's Podcast with Mike Krieger)."""
    return Path(str(resources.files("bot") / "samples" / SAMPLE_FILE))


def open_library(settings: Settings, *, load_sample: bool = True) -> tuple[Library, str | None]:
    """The library, and a one-line note when the sample episode was just loaded. Raises
    DatabaseError (one sentence) when the database cannot be opened or migrated."""
    library = Library(
        open_database(settings.database_url), per_workspace=settings.library_per_workspace
    )
    if not (load_sample and settings.load_sample_episode):
        return library, None
    if episode_count(library):
        return library, None
    result = ingest_file(library.sessions, sample_episode_path())
    if result.failed:
        return library, f"Could not load the sample episode: {result.message}."
    if result.status != "ingested":  # another process loaded it a moment ago
        return library, None
    return library, (
        f"The library was empty, so I loaded the sample episode '{result.slug}' "
        f"({result.turns} turns)."
    )


def migrate(settings: Settings) -> str | None:
    """Create the database or bring it to the latest schema; the revision it is at."""
    open_database(settings.database_url)
    return head_revision()


def warm_up(library: Library) -> None:
    """Build the library-wide index now rather than at the first question (about 40 ms at
    300 episodes; rebuilt only when the library changes)."""
    with library.sessions() as session:
        library_index(session)


def episode_count(library: Library) -> int:
    """How many episodes the library holds."""
    with library.sessions() as session:
        return count_episodes(session)


def episodes(library: Library) -> list[EpisodeInfo]:
    """Every episode, newest publication first, undated ones last."""
    with library.sessions() as session:
        return [EpisodeInfo.of(e) for e in list_episodes(session)]


@dataclass(frozen=True)
class EpisodePage:
    """One page of the library's episodes (newest first), maybe only those matching some
    words: the page's episodes, its number (from 1), how many pages and episodes in all."""

    episodes: list[EpisodeInfo]
    page: int
    pages: int
    total: int
    words: str = ""


def episode_page(library: Library, words: str = "", page: int = 1, size: int = 25) -> EpisodePage:
    """Page `page` of the episodes whose title, guest or slug contain every one of `words`
    (all episodes when there are none), `size` to a page, newest first. A page past the
    last is the last; an empty result is page 1 of 0."""
    found = episodes_matching(library, words)
    pages = -(-len(found) // size)
    page = min(max(page, 1), max(pages, 1))
    start = (page - 1) * size
    return EpisodePage(found[start : start + size], page, pages, len(found), words.strip())


def episodes_matching(library: Library, words: str) -> list[EpisodeInfo]:
    """The episodes whose title, guest or slug contain every one of `words` (any case),
    newest first; every episode when there are none."""
    return matching(words, episodes(library))


def closest_episodes(library: Library, slug: str, limit: int = 3) -> list[EpisodeInfo]:
    """Up to `limit` episodes closest to a slug the library does not have (did you mean),
    closest first; none when nothing is close."""
    return closest(slug, episodes(library), limit)


def find_episode(session: Session, slug: str) -> Episode:
    """The stored episode with this slug; UnknownEpisode when there is none."""
    episode = get_episode(session, slug)
    if episode is None:
        raise UnknownEpisode(slug)
    return episode


def search(library: Library, text: str, *, episode: str | None, limit: int) -> list[RankedPassage]:
    """The best `limit` passages for `text` in one episode (by slug) or the library (None).
    Raises EmptyQuery (OnlyCommonWords for "the and of") or UnknownEpisode. (A question of
    common words only is still asked: a thread's follow-up "and why?" leans on the thread.)"""
    terms = query_terms(text)
    if terms and all(term in STOPWORDS for term in terms):
        raise OnlyCommonWords("only common words")
    with library.sessions() as session:
        return retrieve(session, text, episode=episode, limit=limit)


def transcript_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileResult]]:
    """The transcript files under `paths` (folders walked), and the paths that are missing."""
    return expand_paths(paths)


def ingest(
    library: Library,
    files: list[Path],
    *,
    fmt: str = "auto",
    slug: str | None = None,
    replace: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Store `files` (from `transcript_files`), one transaction each; `on_result` sees each
    outcome as it comes. Raises ParseError when `slug` is given for several files."""
    return ingest_files(
        library.sessions, files, fmt=fmt, slug=slug, replace=replace, on_result=on_result
    )


def read_turns(library: Library, slug: str, start: int, end: int) -> TurnWindow:
    """Turns `start` to `end` (inclusive) of an episode; UnknownEpisode for a bad slug."""
    with library.sessions() as session:
        episode = find_episode(session, slug)
        span = turn_span(session, episode.id)
        within = span is not None and start <= span[1] and end >= span[0]
        passages = episode_passages(session, episode.id, turns=(start, end)) if within else []
        return TurnWindow(EpisodeInfo.of(episode), span, passages)


def read_episode(library: Library, slug: str) -> tuple[EpisodeInfo, list[SearchHit]]:
    """An episode and all its passages in transcript order; UnknownEpisode for a bad slug."""
    with library.sessions() as session:
        episode = find_episode(session, slug)
        return EpisodeInfo.of(episode), episode_passages(session, episode.id)
