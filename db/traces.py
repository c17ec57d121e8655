"""Answer traces: one row per answer given, from the CLI or from Slack."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.dialect import storable
from db.models import AnswerTrace, ConversationTurn


@dataclass(frozen=True)
class ToolCall:
    """One library tool Claude called while answering: which round of the loop (0 is the
    first reply), the tool, what it asked for, the passages given back, or the error."""

    round: int
    tool: str
    input: dict[str, object]
    results: tuple[str, ...] = ()  # passage ids, as in Trace.passages
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        """Plain JSON types."""
        return {
            "round": self.round,
            "tool": self.tool,
            "input": self.input,
            "results": list(self.results),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, item: dict[str, object]) -> ToolCall:
        """Back from `as_json`; a field a newer writer added is ignored."""
        given = item.get("input")
        results = item.get("results")
        return cls(
            round=int(str(item.get("round", 0))),
            tool=str(item.get("tool", "")),
            input=dict(given) if isinstance(given, dict) else {},
            results=tuple(str(r) for r in results) if isinstance(results, list) else (),
            error=str(item["error"]) if item.get("error") is not None else None,
        )


@dataclass(frozen=True)
class Trace:
    """How an answer was made: what the answerer was given and what it cost."""

    answerer: str
    model: str | None = None
    passages: tuple[str, ...] = ()  # stable ids, `slug#turn-23` (`.2` for a turn's 2nd part)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    latency_ms: float = 0.0
    # Why Claude did not answer, when an answerer fell back to quoting.
    fallback_reason: str | None = None
    # The library tools Claude called, in order (library-wide questions only).
    tool_calls: tuple[ToolCall, ...] = ()
    # Messages API requests the answer took: 1, plus one for each tool round.
    round_trips: int = 1


def record_trace(
    session: Session,
    trace: Trace,
    *,
    question: str,
    answer: str,
    citations: Sequence[str],
    episode_slug: str | None,
    history: Sequence[tuple[str, str]] = (),
    turn_id: int | None = None,
    team: str = "",
) -> AnswerTrace:
    """Store one answer's trace; `history` is the thread's earlier (question, answer) pairs.
    An answer stored in a thread (`turn_id`) keeps no copy of them: the thread's turns are
    stored once, in its conversation, and `history_of` reads them back from there (a copy in
    every trace made one 500-message thread 36 MB of traces)."""
    row = AnswerTrace(
        team_id=team,
        turn_id=turn_id,
        episode_slug=episode_slug,
        question=storable(question),
        history=json.dumps([list(pair) for pair in history] if turn_id is None else []),
        passages=json.dumps(list(trace.passages)),
        answer=storable(answer),
        citations=json.dumps(list(citations)),
        answerer=trace.answerer,
        model=trace.model,
        input_tokens=trace.input_tokens,
        output_tokens=trace.output_tokens,
        cache_creation_input_tokens=trace.cache_creation_input_tokens,
        cache_read_input_tokens=trace.cache_read_input_tokens,
        latency_ms=trace.latency_ms,
        fallback_reason=trace.fallback_reason,
        tool_calls=json.dumps([call.as_json() for call in trace.tool_calls]),
        round_trips=trace.round_trips,
    )
    session.add(row)
    session.flush()
    return row


def history_of(session: Session, row: AnswerTrace) -> list[tuple[str, str]]:
    """The (question, answer) pairs the thread held before the traced answer: from the
    trace itself, or, for an answer in a thread, from the thread's stored turns."""
    kept = [tuple(pair) for pair in json.loads(row.history or "[]")]
    if kept or row.turn_id is None:
        return [(str(q), str(a)) for q, a in kept]
    reply = session.get(ConversationTurn, row.turn_id)
    if reply is None:
        return []
    earlier = session.scalars(
        select(ConversationTurn)
        .where(
            ConversationTurn.conversation_id == reply.conversation_id,
            ConversationTurn.id < reply.id,
        )
        .order_by(ConversationTurn.id)
    ).all()
    # The last of them is the traced answer's own question.
    turns = list(earlier[:-1])
    return [
        (asked.text, answered.text)
        for asked, answered in pairwise(turns)
        if asked.role == "user" and answered.role == "assistant"
    ]


def tool_calls_of(row: AnswerTrace) -> list[ToolCall]:
    """The tool calls a stored trace records (none for traces older than the column)."""
    try:
        items = json.loads(row.tool_calls or "[]")
    except ValueError:
        return []
    return [ToolCall.from_json(item) for item in items if isinstance(item, dict)]


def citations_by_turn(session: Session, turn_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The turns each stored thread answer cited (`slug#turn-23`), by the answer's turn id."""
    if not turn_ids:
        return {}
    rows = session.execute(
        select(AnswerTrace.turn_id, AnswerTrace.citations).where(AnswerTrace.turn_id.in_(turn_ids))
    )
    found: dict[int, tuple[str, ...]] = {}
    for turn_id, citations in rows:
        try:
            cited = json.loads(citations or "[]")
        except ValueError:
            continue
        found[turn_id] = tuple(str(c) for c in cited if isinstance(c, str))
    return found


def recent_traces(
    session: Session, *, since: datetime | None = None, limit: int = 20, team: str | None = None
) -> list[AnswerTrace]:
    """The newest `limit` traces (made at or after `since`, if given; of workspace `team`,
    if given), oldest first."""
    statement = select(AnswerTrace).order_by(AnswerTrace.created_at.desc(), AnswerTrace.id.desc())
    if team is not None:
        statement = statement.where(AnswerTrace.team_id == team)
    if since is not None:
        statement = statement.where(AnswerTrace.created_at >= since)
    return list(reversed(session.scalars(statement.limit(limit)).all()))
