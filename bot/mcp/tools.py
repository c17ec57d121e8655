"""What `episode-bot mcp` serves, from the library's services: the tools' results as typed
records and an episode's transcript as markdown. No MCP SDK here (bot/mcp/server.py wires
these up); a request that cannot be served raises Refusal with one plain sentence.

Transcript text is passed on as data, in fields named for what they hold (`text`, `quote`);
nothing this module writes around it is phrased as an instruction."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from bot.answering import Answerer, format_timestamp
from bot.answering.moment import moment_url
from bot.retrieval import EmptyQuery, OnlyCommonWords, UnknownEpisode
from bot.services import library as library_service
from bot.services import takeaways as takeaway_service
from bot.services.asking import ask as ask_library
from bot.services.chapters import chapters_by_episode, chapters_of_episode
from bot.services.library import DatabaseError, Library, SearchHit

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter

log = logging.getLogger(__name__)

MAX_TURNS = 200  # get_turns: the most turns one call returns
# How a passage's kind is shown in the transcript resource; content is left unmarked.
KIND_LABELS = {
    "teaser": "cold-open teaser",
    "sponsor": "sponsor read",
    "intro": "intro",
    "outro": "outro",
}


class Refusal(ValueError):
    """A request the library cannot serve; the message is one sentence saying what to do."""


class NotFound(Refusal):
    """No episode has the slug asked for."""


# -- results -------------------------------------------------------------------------------


class Chapter(BaseModel):
    """A chapter of an episode."""

    start_seconds: float
    title: str


class EpisodeInfo(BaseModel):
    """One episode of the library."""

    slug: str = Field(description="The episode's id: pass it as `episode` to the other tools.")
    title: str
    guest: str | None = Field(description="The guest, when the source names one.")
    published: str | None = Field(description="Publication date, YYYY-MM-DD, when known.")
    turns: int = Field(description="How many speaker turns the transcript has.")
    url: str | None = Field(description="The episode's page (a video, say), when known.")
    chapters: list[Chapter] = Field(
        default_factory=list, description="Its chapters, when its feed gave them."
    )


class EpisodeList(BaseModel):
    """Every episode, newest first."""

    episodes: list[EpisodeInfo] = Field(description="Newest first; undated episodes last.")


class Passage(BaseModel):
    """A passage of a transcript that matches the query, with where it was said."""

    episode: str = Field(description="Slug of the passage's episode.")
    episode_title: str
    speaker: str
    turn: int = Field(description="The transcript's own turn number.")
    timestamp: str | None = Field(description="When it was said (m:ss or h:mm:ss), if known.")
    kind: str = Field(description="content, teaser (cold open), sponsor, intro or outro.")
    text: str = Field(description="The passage, verbatim from the transcript.")
    score: float = Field(description="Relevance to the query; higher is better.")
    url: str | None = Field(description="A link that plays the moment it was said, if any.")


class SearchResults(BaseModel):
    """Passages matching a query, best first."""

    query: str
    episode: str | None = Field(description="The episode searched; null: the whole library.")
    passages: list[Passage] = Field(description="Best first, at most one per turn.")


class Turn(BaseModel):
    """One whole turn of the conversation: who spoke, when, and what they said."""

    turn: int
    speaker: str
    timestamp: str | None = Field(description="When the turn starts (m:ss or h:mm:ss), if known.")
    kind: str = Field(
        description="content, teaser (cold open), sponsor, intro or outro; a turn with an ad "
        "read inside other talk has both, joined by '+' (intro+sponsor)."
    )
    text: str = Field(description="The whole turn, verbatim from the transcript.")


class TurnRange(BaseModel):
    """Consecutive turns of one episode."""

    episode: str
    episode_title: str
    first_turn: int = Field(description="The episode's first turn number.")
    last_turn: int = Field(description="The episode's last turn number.")
    turns: list[Turn] = Field(description="The turns asked for that exist, in order.")


class QuotedSource(BaseModel):
    """A verbatim quote an answer rests on, and where it was said."""

    episode: str = Field(description="Slug of the quote's episode.")
    episode_title: str
    speaker: str
    turn: int
    timestamp: str | None
    quote: str = Field(description="Verbatim from the transcript.")
    url: str | None = Field(description="The moment it was said, else the episode's page.")
    chapter: str | None = Field(default=None, description="The chapter it was said in.")


class AnswerResult(BaseModel):
    """An answer from the transcripts, with the quotes it rests on."""

    question: str
    answer: str = Field(description="The answer, written from the transcripts only.")
    covered: bool = Field(description="False when the transcripts do not address the question.")
    answerer: str = Field(description="claude (written by Claude) or offline (quotes only).")
    notice: str | None = Field(description="How this answer was made, when worth saying.")
    citations: list[QuotedSource]


class TakeawayInfo(BaseModel):
    """A point from the episode worth discussing, with the quote that supports it."""

    text: str = Field(description="The point.")
    quote: str | None = Field(description="A verbatim quote supporting it, once located.")
    speaker: str | None
    turn: int | None
    timestamp: str | None
    url: str | None = Field(description="The moment the quote was said, if known.")
    origin: str = Field(
        description="summary (the episode's own key takeaways), generated (written by Claude) "
        "or extracted (a quotable line of the guest)."
    )


class TakeawayList(BaseModel):
    """An episode's takeaways, in the order the daily post uses them."""

    episode: str
    episode_title: str
    takeaways: list[TakeawayInfo] = Field(description="In the order the daily post uses them.")


# -- reading the library --------------------------------------------------------------------


@contextmanager
def library_errors() -> Iterator[None]:
    """Storage failures as one sentence (the details go to the log, on stderr)."""
    try:
        yield
    except (SQLAlchemyError, DatabaseError) as exc:
        log.warning("library error: %s", type(exc).__name__, exc_info=exc)
        raise Refusal(
            "The library could not be read (is DATABASE_URL an episode-bot database?); "
            "`episode-bot doctor` checks it."
        ) from None


def _words(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise Refusal(f"The {what} is empty: give some words to look for.")
    return text


def episodes(library: Library) -> EpisodeList:
    """Every episode of the library, with its chapters."""
    chapters = chapters_by_episode(library)
    return EpisodeList(
        episodes=[
            EpisodeInfo(
                slug=e.slug,
                title=e.title,
                guest=e.guest,
                published=e.published_on.isoformat() if e.published_on else None,
                turns=e.turns,
                url=e.url,
                chapters=[Chapter(start_seconds=s, title=t) for s, t in chapters.get(e.slug, [])],
            )
            for e in library_service.episodes(library)
        ]
    )


@contextmanager
def _query_refusals(what: str, episode: str | None) -> Iterator[None]:
    try:
        yield
    except OnlyCommonWords:
        raise Refusal(
            f"The {what} has only common words (the, and, of…), which every passage holds: "
            "add a word that says what to look for."
        ) from None
    except EmptyQuery:
        raise Refusal(f"The {what} has no words to look for: use letters or numbers.") from None
    except UnknownEpisode:
        raise NotFound(
            f"No episode has the slug {episode!r}; list_episodes gives the slugs."
        ) from None


def search(library: Library, query: str, episode: str | None, limit: int) -> SearchResults:
    """The best `limit` passages for `query`, in one episode or the library (None)."""
    text = _words(query, "query")
    with _query_refusals("query", episode):
        ranked = library_service.search(library, text, episode=episode, limit=limit)
    return SearchResults(
        query=text,
        episode=episode,
        passages=[
            Passage(
                episode=r.hit.episode_slug,
                episode_title=r.hit.episode_title,
                speaker=r.hit.speaker,
                turn=r.hit.position,
                timestamp=format_timestamp(r.hit.start_seconds),
                kind=r.hit.kind,
                text=r.hit.text,
                score=round(r.score, 4),
                url=moment_url(r.hit.episode_url, r.hit.start_seconds),
            )
            for r in ranked
        ],
    )


def _whole_turns(passages: Sequence[SearchHit]) -> list[Turn]:
    """Passages joined into whole turns (a long turn is stored in parts, and so is one with
    an ad read inside it)."""
    turns = []
    for position, group in groupby(passages, key=lambda hit: hit.position):
        parts = list(group)
        kinds = list(dict.fromkeys(part.kind for part in parts))
        turns.append(
            Turn(
                turn=position,
                speaker=parts[0].speaker,
                timestamp=format_timestamp(parts[0].start_seconds),
                kind="+".join(kinds),
                text=" ".join(part.text for part in parts),
            )
        )
    return turns


def turns(library: Library, slug: str, start: int, end: int) -> TurnRange:
    """Turns `start` to `end` of an episode, each whole."""
    if start > end:
        raise Refusal(
            f"start ({start}) is after end ({end}): give start at most end, "
            f"such as start={end}, end={start}."
        )
    if end - start + 1 > MAX_TURNS:
        raise Refusal(
            f"That range holds {end - start + 1} turns and get_turns returns at most "
            f"{MAX_TURNS} at a time: ask for start={start}, end={start + MAX_TURNS - 1}, "
            "then continue from there."
        )
    with _query_refusals("episode", slug):
        window = library_service.read_turns(library, slug, start, end)
    if window.span is None:
        raise Refusal(f"The episode {slug!r} has no transcript turns stored.")
    first, last = window.span
    if start > last or end < first:
        raise Refusal(
            f"The episode {slug!r} has turns {first} to {last}: ask for a range within them."
        )
    return TurnRange(
        episode=window.episode.slug,
        episode_title=window.episode.title,
        first_turn=first,
        last_turn=last,
        turns=_whole_turns(window.passages),
    )


def ask(library: Library, answerer: Answerer, question: str, episode: str | None) -> AnswerResult:
    """The same flow as `episode-bot ask` and Slack: retrieve, answer, keep the trace."""
    text = _words(question, "question")
    with _query_refusals("question", episode):
        answer = ask_library(library, text, answerer, episode=episode)
    return AnswerResult(
        question=answer.question,
        answer=answer.text,
        covered=answer.covered,
        answerer=answer.answerer,
        notice=answer.notice,
        citations=[
            QuotedSource(
                episode=c.episode_slug,
                episode_title=c.episode_title,
                speaker=c.speaker,
                turn=c.position,
                timestamp=format_timestamp(c.start_seconds),
                quote=c.quote,
                url=c.url or c.episode_url,
                chapter=c.chapter,
            )
            for c in answer.citations
        ],
    )


def takeaways(library: Library, slug: str, writer: TakeawayWriter | None = None) -> TakeawayList:
    """The episode's takeaways, located and added to the first time they are asked for,
    by the same code as the takeaway of the day."""
    with _query_refusals("episode", slug):
        episode, found = takeaway_service.of_episode(library, slug, writer)
    return TakeawayList(
        episode=episode.slug,
        episode_title=episode.title,
        takeaways=[
            TakeawayInfo(
                text=t.text,
                quote=t.quote,
                speaker=t.speaker,
                turn=t.position,
                timestamp=format_timestamp(t.start_seconds),
                url=moment_url(episode.url, t.start_seconds),
                origin=t.origin,
            )
            for t in found
        ],
    )


def transcript_markdown(library: Library, slug: str) -> str:
    """The episode's metadata, then a line per turn, `Speaker (turn N, m:ss): text`; a
    stretch that is not conversation is marked (sponsor read, cold-open teaser...), on a line
    of its own when the turn also holds conversation."""
    with _query_refusals("episode", slug):
        episode, passages = library_service.read_episode(library, slug)
    lines = [f"# {episode.title}", ""]
    facts = [
        ("Slug", episode.slug),
        ("Guest", episode.guest),
        ("Published", episode.published_on.isoformat() if episode.published_on else None),
        ("URL", episode.url),
        ("Turns", str(episode.turns)),
    ]
    lines += [f"- {name}: {value}" for name, value in facts if value]
    if episode.summary:
        lines += ["", "## Summary", "", episode.summary.strip()]
    if chapters := chapters_of_episode(library, episode.slug):
        lines += ["", "## Chapters", ""]
        lines += [f"- {format_timestamp(start) or '0:00'} {title}" for start, title in chapters]
    lines += ["", "## Transcript", ""]
    for (position, kind), group in groupby(passages, key=lambda hit: (hit.position, hit.kind)):
        parts = list(group)
        where = [f"turn {position}"]
        if stamp := format_timestamp(parts[0].start_seconds):
            where.append(stamp)
        if label := KIND_LABELS.get(kind):
            where.append(label)
        text = " ".join(part.text for part in parts)
        lines.append(f"{parts[0].speaker} ({', '.join(where)}): {text}")
    return "\n".join(lines) + "\n"
