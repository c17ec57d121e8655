"""Replaying stored answer traces with another model or answerer, to see whether it answers
better or worse: the same question, the same thread, the same episode (or the library),
searched again and answered again, old and new side by side.

Replays are not stored as traces: they answer nobody."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.answering import Answer, Answerer, Exchange, LibraryReader, passage_id
from bot.answering.prepare import cited_passages, prepare
from bot.retrieval import EmptyQuery, UnknownEpisode
from db.models import AnswerTrace
from db.traces import ToolCall, Trace, history_of, tool_calls_of


@dataclass(frozen=True)
class Side:
    """One answer to a traced question: who answered, what it said and cited, its cost."""

    answerer: str
    model: str | None
    text: str
    citations: list[str]
    passages: list[str]
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    latency_ms: float
    fallback_reason: str | None = None
    # The cited quotes with who said them and where; a stored answer keeps only the turns.
    quotes: list[str] = field(default_factory=list)
    # The library tools Claude called, one line each (`search “merge queue” → 6 passages`).
    searches: list[str] = field(default_factory=list)
    round_trips: int = 1


def describe_call(call: ToolCall) -> str:
    """One tool call as a line: what was asked and what came back."""
    given = call.input
    if call.tool == "search_transcripts":
        what = f"search “{given.get('query', '')}”"
        if given.get("episode"):
            what += f" in {given['episode']}"
    elif call.tool == "read_turns":
        what = (
            f"read {given.get('episode', '?')} turns "
            f"{given.get('start_turn', '?')}-{given.get('end_turn', '?')}"
        )
    elif call.tool == "list_episodes":
        what = "list episodes" + (f" with “{given['contains']}”" if given.get("contains") else "")
    else:
        what = call.tool
    if call.error:
        return f"{what} → error: {call.error}"
    return f"{what} → {len(call.results)} new passages"


@dataclass(frozen=True)
class Replayed:
    """A trace and its replay; `after` is None when it could not be answered again (its
    episode is gone, say), and `problem` says why."""

    trace_id: int
    created_at: datetime
    question: str
    episode: str | None
    before: Side
    after: Side | None
    problem: str | None = None

    @property
    def same_passages(self) -> bool:
        """Whether the new answer was given the passages the old one was."""
        return self.after is not None and self.after.passages == self.before.passages


QUOTE_CHARS = 240  # of a cited turn shown on the Before side


def _cited_quotes(session: Session, turn_ids: Sequence[str]) -> list[str]:
    """The turns a stored answer cited, as the Now side shows its quotes: a stored answer
    keeps which turns it cited, not its excerpts, so the turn's opening stands for them."""
    quotes = []
    shown_turns: set[tuple[str, int]] = set()
    for hit in cited_passages(session, turn_ids):
        if (hit.episode_slug, hit.position) in shown_turns:  # a turn's later parts
            continue
        shown_turns.add((hit.episode_slug, hit.position))
        text = " ".join(hit.text.split())
        shown = text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rsplit(" ", 1)[0] + "…"
        quotes.append(f"“{shown}” ({hit.speaker}, {hit.episode_slug} turn {hit.position})")
    return quotes


def _before(session: Session, row: AnswerTrace) -> Side:
    citations = list(json.loads(row.citations))
    return Side(
        answerer=row.answerer,
        model=row.model,
        text=row.answer,
        citations=citations,
        passages=list(json.loads(row.passages)),
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_creation_input_tokens=row.cache_creation_input_tokens,
        cache_read_input_tokens=row.cache_read_input_tokens,
        latency_ms=row.latency_ms,
        fallback_reason=row.fallback_reason,
        searches=[describe_call(call) for call in tool_calls_of(row)],
        round_trips=row.round_trips or 1,
        quotes=_cited_quotes(session, citations),
    )


def _after(answer: Answer, passages: list[str], took_ms: float) -> Side:
    trace = answer.trace or Trace(answerer=answer.answerer)
    return Side(
        answerer=trace.answerer,
        model=trace.model,
        text=answer.text,
        citations=[c.turn_id for c in answer.citations],
        passages=passages,
        input_tokens=trace.input_tokens,
        output_tokens=trace.output_tokens,
        cache_creation_input_tokens=trace.cache_creation_input_tokens,
        cache_read_input_tokens=trace.cache_read_input_tokens,
        # The model's own time when it reports one; the offline answerer's is the wall clock.
        latency_ms=trace.latency_ms or took_ms,
        fallback_reason=trace.fallback_reason,
        quotes=[
            f"“{c.quote}” ({c.speaker}, {c.episode_slug} turn {c.position})"
            for c in answer.citations
        ],
        searches=[describe_call(call) for call in trace.tool_calls],
        round_trips=trace.round_trips,
    )


def replay(
    session: Session,
    rows: Sequence[AnswerTrace],
    answerer: Answerer,
    *,
    reader: LibraryReader | None = None,
) -> list[Replayed]:
    """Answer every traced question again with `answerer`; `reader` lets it search the
    library again on a library-wide question, as it would when asked."""
    replayed: list[Replayed] = []
    for row in rows:
        history = [Exchange(q, a) for q, a in history_of(session, row)]
        after: Side | None = None
        problem = None
        try:
            request = prepare(
                session,
                row.question,
                answerer,
                episode=row.episode_slug,
                history=history,
                reader=reader,
            )
        except UnknownEpisode:
            problem = f"episode {row.episode_slug} is no longer in the library"
        except EmptyQuery:
            problem = "the question has no words to search for"
        else:
            started = time.perf_counter()
            answer = answerer.answer(request)
            took_ms = (time.perf_counter() - started) * 1000
            # What the answerer says it was given (the whole episode, for Claude on one).
            given = answer.trace.passages if answer.trace else ()
            passages = list(given) or [passage_id(p.hit) for p in request.passages]
            after = _after(answer, passages, took_ms)
        replayed.append(
            Replayed(
                row.id,
                row.created_at,
                row.question,
                row.episode_slug,
                _before(session, row),
                after,
                problem,
            )
        )
    return replayed


def as_json(replayed: Sequence[Replayed]) -> list[dict[str, object]]:
    """Plain JSON types, one object per trace."""
    return [
        {
            "trace_id": r.trace_id,
            "created_at": r.created_at.isoformat(),
            "question": r.question,
            "episode": r.episode,
            "before": asdict(r.before),
            "after": asdict(r.after) if r.after else None,
            "same_passages": r.same_passages,
            "problem": r.problem,
        }
        for r in replayed
    ]
