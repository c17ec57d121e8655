"""Asking: the one flow every surface answers a question by (the CLI, Slack and MCP), so the
CLI shows what Slack users get.

Prepare (read the library), answer (no database held open: Claude may take seconds), then
keep the trace. One failure policy everywhere: a trace that cannot be stored is logged and
the answer still goes out, since the answer is worth more to its reader than its record.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.answering import Answer, Answerer, AnswerRequest, Exchange, Watcher, tell
from bot.answering.prepare import prepare
from bot.services.chapters import with_chapters
from bot.services.library import Library
from bot.services.library_reader import LibraryReader
from bot.services.retrying import retried
from db.traces import Trace, record_trace

log = logging.getLogger(__name__)

# Stores an answer where it is shown (a Slack thread's turns) and returns the stored reply's
# id, which the trace points at; it runs after answering and before the trace is kept.
RecordReply = Callable[[Answer], int | None]


def ask(
    library: Library,
    question: str,
    answerer: Answerer,
    *,
    episode: str | None = None,
    history: Sequence[Exchange] = (),
    record_reply: RecordReply | None = None,
    watcher: Watcher | None = None,
) -> Answer:
    """Answer `question` from one episode (by slug) or the whole library (None), with the
    thread so far; library-wide, Claude may search the library further. `watcher` hears
    that answering began, what it searches for and the text as it is written. Raises
    EmptyQuery, UnknownEpisode, or SQLAlchemyError when the library cannot be read (or
    `record_reply` cannot store the reply)."""
    with library.sessions() as session:
        request = prepare(
            session,
            question,
            answerer,
            episode=episode,
            history=history,
            reader=LibraryReader(library),
            watcher=watcher,
        )
    tell(watcher, lambda w: w.started(_about(request)))
    started = time.perf_counter()
    answered = answerer.answer(request)
    answer = with_chapters(library, _timed(answered, (time.perf_counter() - started) * 1000))
    # The answer is written: a database away for a moment must not cost it.
    turn_id = retried(lambda: record_reply(answer), "store the reply") if record_reply else None
    _keep_trace(library, answer, episode=episode, history=history, turn_id=turn_id)
    return answer


def _timed(answer: Answer, took_ms: float) -> Answer:
    """The answer with its latency: the answerer's own figure (Claude's), else the time it
    took here (the offline answerer reports none, and 0 ms would read as not measured)."""
    trace = answer.trace or Trace(answerer=answer.answerer)
    if trace.latency_ms:
        return answer
    return dataclasses.replace(answer, trace=dataclasses.replace(trace, latency_ms=took_ms))


def _about(request: AnswerRequest) -> str | None:
    """The title of the episode a question is about, or None across the library."""
    if request.library_wide:
        return None
    if request.episode is not None:
        return request.episode.title
    return request.passages[0].hit.episode_title if request.passages else None


def _keep_trace(
    library: Library,
    answer: Answer,
    *,
    episode: str | None,
    history: Sequence[Exchange],
    turn_id: int | None,
) -> None:
    """How `answer` was made (answer_traces), for cost figures and replays."""

    def store() -> None:
        with library.sessions.begin() as session:
            record_trace(
                session,
                answer.trace or Trace(answerer=answer.answerer),
                question=answer.question,
                answer=answer.text,
                citations=[c.turn_id for c in answer.citations],
                episode_slug=episode,
                history=[(e.question, e.answer) for e in history],
                turn_id=turn_id,
                team=library.workspace,
            )

    try:
        retried(store, "store the answer's trace", pauses=(0.5,))
    except SQLAlchemyError as exc:  # a locked or read-only database, say
        log.warning("answer trace not stored (%s)", type(exc).__name__)
        log.debug("answer trace not stored", exc_info=exc)
