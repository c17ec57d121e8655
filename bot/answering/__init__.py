"""Answering: the Answerer protocol, what it is given and what every answerer returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from bot.answering.moment import moment_url
from bot.retrieval.rerank import RankedPassage
from db.search import SearchHit
from db.traces import Trace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Citation:
    """A quote and where it was said: episode, turn number, speaker and time, and the
    episode's page (a video, say) when its source named one."""

    episode_slug: str
    episode_title: str
    position: int
    speaker: str
    start_seconds: float | None
    quote: str
    episode_url: str | None = None
    # The episode's chapter the quote falls in, when its feed gave chapters.
    chapter: str | None = None

    @property
    def turn_id(self) -> str:
        """The cited turn's stable id, `slug#turn-23`, as traces store citations."""
        return f"{self.episode_slug}#turn-{self.position}"

    @property
    def url(self) -> str | None:
        """A link that starts playing where the quote was said, when there can be one."""
        return moment_url(self.episode_url, self.start_seconds)


@dataclass(frozen=True)
class Answer:
    """An answer to one question. `covered` is False when the episode does not address it."""

    question: str
    text: str
    covered: bool
    answerer: str
    citations: list[Citation] = field(default_factory=list)
    # One plain sentence for the reader about how this answer was made (Claude unavailable).
    notice: str | None = None
    trace: Trace | None = None


@dataclass(frozen=True)
class Exchange:
    """An earlier question in the thread and the answer it got, with the turns it cited
    (`slug#turn-23`), which a library-wide follow-up is given again."""

    question: str
    answer: str
    cited: tuple[str, ...] = ()


@dataclass(frozen=True)
class EpisodeText:
    """One episode's citable passages, in transcript order (sponsor reads left out)."""

    slug: str
    title: str
    passages: Sequence[SearchHit]


@dataclass(frozen=True)
class EpisodeEntry:
    """One episode as a list of the library shows it to an answerer."""

    slug: str
    title: str
    guest: str | None
    published_on: date | None


class LibraryReader(Protocol):
    """The library, read a piece at a time: what an answerer that searches for itself (Claude
    with tools, on a library-wide question) is given instead of fixed passages. Each call
    reads and lets go, so nothing is held open while the answerer thinks."""

    def search(self, query: str, *, episode: str | None, limit: int) -> Sequence[SearchHit]:
        """The best passages for `query`, one per turn, best first; raises EmptyQuery (no
        words to search for) or UnknownEpisode."""
        ...

    def turns(self, episode: str, start: int, end: int) -> Sequence[SearchHit]:
        """The passages of turns `start` to `end` of an episode, in order (sponsor reads
        included, as the transcript has them); raises UnknownEpisode."""
        ...

    def episodes(self) -> Sequence[EpisodeEntry]:
        """Every episode, newest first."""
        ...


class Watcher:
    """Hears an answer being made, for a person who would otherwise wait without a word:
    that answering began (about one episode, or the library), what it searches for, and
    the answer's text so far as it is written. Called from the answering thread; each
    method does nothing here, and a surface overrides what it shows. A watcher that fails
    never costs the answer (see `tell`)."""

    def started(self, episode_title: str | None) -> None:
        """The question was read and answering begins: about `episode_title`, or across
        the library (None)."""

    def searching(self, doing: str) -> None:
        """What the answerer is doing now (`Searching for “pricing”`)."""

    def writing(self, text: str) -> None:
        """The answer's text so far (markers included); each call's text goes on from the
        last's, except when an answer is replaced (an outage, say): the finished Answer is
        what counts."""


def tell(watcher: Watcher | None, hear: Callable[[Watcher], None]) -> None:
    """Pass something on to `watcher`; one that fails (Slack refusing an update, say) is
    logged and forgotten."""
    if watcher is None:
        return
    try:
        hear(watcher)
    except Exception:
        log.warning("an answer's progress could not be shown", exc_info=True)


@dataclass(frozen=True)
class AnswerRequest:
    """Everything an answerer may use: the question, the passages retrieval ranked for it,
    the whole episode when the question is about one, and the thread so far."""

    question: str
    passages: Sequence[RankedPassage]
    episode: EpisodeText | None = None
    history: Sequence[Exchange] = ()
    # What retrieval looked for: a short follow-up is read with the thread's question.
    searched_for: str | None = None
    # Asked of the whole library rather than one episode.
    library_wide: bool = False
    # The library to search further, for an answerer that can (library-wide questions).
    library: LibraryReader | None = None
    # A library-wide follow-up: the passages the thread's last answer cited, to build on.
    carried: Sequence[SearchHit] = ()
    watcher: Watcher | None = None

    @property
    def terms_text(self) -> str:
        """The words that say what the question is about."""
        return self.searched_for or self.question


class Answerer(Protocol):
    """Turns a question and what it was given into an Answer."""

    name: str
    # Whether it wants the whole episode (EpisodeText) or only the retrieved passages.
    reads_whole_episode: bool
    # How many answers the Slack app works out at once with it.
    answers_at_once: int
    # Whether its answers take seconds and are written as they go (the watcher hears the
    # text): worth showing progress for. An answer ready at once is simply posted.
    writes_as_it_goes: bool

    def answer(self, request: AnswerRequest) -> Answer:
        """Answer `request.question` from the transcript only."""
        ...


def as_thread_text(answer: Answer) -> str:
    """An answer as the thread remembers it: its text and its numbered quotes, so a quoted
    answer still tells a follow-up what was said."""
    quotes = [
        f"[{n}] {c.speaker} (turn {c.position}): “{c.quote}”"
        for n, c in enumerate(answer.citations, start=1)
    ]
    return "\n".join([answer.text, *quotes])


def parse_turn_id(turn_id: str) -> tuple[str, int] | None:
    """`slug#turn-23` (or a passage's `slug#turn-23.2`) -> ("slug", 23); None if malformed."""
    slug, _, turn = turn_id.partition("#turn-")
    number = turn.split(".", 1)[0]
    return (slug, int(number)) if slug and number.isdigit() else None


def passage_id(hit: SearchHit) -> str:
    """A passage's stable id: `slug#turn-23`, or `slug#turn-23.2` for a long turn's 2nd part."""
    suffix = f".{hit.part + 1}" if hit.part else ""
    return f"{hit.episode_slug}#turn-{hit.position}{suffix}"


def format_timestamp(seconds: float | None) -> str | None:
    """`1:02:03` or `2:03`, or None when the source had no times."""
    if seconds is None:
        return None
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
