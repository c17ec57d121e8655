"""The Claude answerer: written answers that cite transcript turns, with the offline answer
in their place whenever Claude cannot answer (outage, rate limit, refused key)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import anthropic
import httpx2

from bot.answering import Answer, Answerer, AnswerRequest
from bot.answering.breaker import Breaker
from bot.answering.claude.citations import ReplyReader, read_reply, unbacked
from bot.answering.claude.client import RETRY_BUDGET_SECONDS, RetryBudgetSpent, retry_budget
from bot.answering.claude.prompt import MAX_TOKENS, Prompt, build_prompt
from bot.answering.claude.streaming import read_stream
from bot.answering.claude.tool_loop import (
    MAX_ROUNDS,
    TOOL_BUDGET_SECONDS,
    USAGE_FIELDS,
    LoopResult,
    run_loop,
)
from db.traces import Trace

log = logging.getLogger(__name__)

UNAVAILABLE = "Claude is unavailable right now, so this answer quotes the transcript directly."
KEY_REFUSED = (
    "Claude answers are off: Anthropic refused the API key (ANTHROPIC_API_KEY), so answers "
    "quote the transcript until it is fixed; `episode-bot doctor` checks it."
)
MODEL_UNKNOWN = (
    "Claude answers are off: Anthropic does not know the model in ANTHROPIC_MODEL, so answers "
    "quote the transcript until it is fixed; `episode-bot doctor` checks it."
)
UNBACKED = (
    "Claude's answer could not be checked against the transcript, so this answer quotes the "
    "transcript directly."
)
COMPLETE = frozenset({"end_turn", "max_tokens", "stop_sequence"})
# What Claude cannot recover from by waiting: stop asking until the process restarts.
_CONFIG_FAULTS: dict[type[anthropic.APIStatusError], str] = {
    anthropic.AuthenticationError: KEY_REFUSED,
    anthropic.PermissionDeniedError: KEY_REFUSED,
    anthropic.NotFoundError: MODEL_UNKNOWN,
}


class ClaudeAnswerer:
    """Answers with Claude through the Messages API, citing passages it was given."""

    name = "claude"
    reads_whole_episode = True
    # Each answer mostly waits on the network: 200 questions at once, with Claude taking 3 s a
    # request, are answered within 45 s with 32 (benchmarks/soak.py --claude-seconds 3).
    # Rate limits are the client's Pacing's to meet: a 429 halves the requests open at once.
    answers_at_once = 32
    writes_as_it_goes = True

    def __init__(
        self,
        client: anthropic.Anthropic,
        model: str,
        fallback: Answerer,
        *,
        budget_seconds: float = RETRY_BUDGET_SECONDS,
        prompt_caching: bool = True,
        breaker: Breaker | None = None,
        max_tool_rounds: int = MAX_ROUNDS,
        tool_budget_seconds: float = TOOL_BUDGET_SECONDS,
    ) -> None:
        self._client = client
        self._model = model
        self._fallback = fallback
        self._budget = budget_seconds
        self._caching = prompt_caching
        self._breaker = breaker or Breaker()
        self._max_rounds = max_tool_rounds
        self._tool_budget = tool_budget_seconds
        self._switched_off: str | None = None  # why, once a fault says retrying is pointless
        self._lock = threading.Lock()

    def answer(self, request: AnswerRequest) -> Answer:
        """Claude's answer, or the fallback's with one line saying why."""
        began = time.perf_counter()
        if self._switched_off is not None:
            return self._fall_back(request, reason=self._switched_off, notice=None, began=began)
        if not self._breaker.allow():
            reason = "resting after repeated failures"
            return self._fall_back(request, reason=reason, notice=UNAVAILABLE, began=began)
        answer = self._ask_claude(request, began)
        # Refused keys are not Claude's outages; an answer that could not be checked is
        # not one either (Claude answered), and a trial call must always be recorded.
        if answer.notice in (None, UNAVAILABLE, UNBACKED):
            self._breaker.record(ok=answer.notice != UNAVAILABLE)
        return answer

    def _ask_claude(self, request: AnswerRequest, began: float) -> Answer:
        searching = request.library_wide and request.library is not None
        prompt = build_prompt(request, cache=self._caching, tools=searching)
        try:
            if searching:
                assert request.library is not None
                loop = run_loop(
                    self._client,
                    self._model,
                    prompt,
                    request.library,
                    retry_seconds=self._budget,
                    max_rounds=self._max_rounds,
                    tool_budget_seconds=self._tool_budget,
                    watcher=request.watcher,
                    cache=self._caching,
                    terms=request.terms_text,
                )
            else:
                loop = self._ask_once(prompt, request)
        except anthropic.APIStatusError as exc:
            for fault, notice in _CONFIG_FAULTS.items():
                if isinstance(exc, fault):
                    return self._switch_off(request, notice, exc)
            # An error event inside a stream arrives with the stream's own status, 200.
            reason = f"HTTP {exc.status_code}" if exc.status_code != 200 else "error in stream"
            log.warning("Claude did not answer (%s): %s", reason, _reason(exc))
            return self._fall_back(request, reason=reason, notice=UNAVAILABLE, began=began)
        except (anthropic.APIError, RetryBudgetSpent, httpx2.HTTPError) as exc:
            log.warning("Claude did not answer: %s", type(exc).__name__)
            return self._fall_back(
                request, reason=type(exc).__name__, notice=UNAVAILABLE, began=began
            )
        except Exception:  # a malformed stream must cost one answer, never the reply
            log.exception("Claude's reply could not be read")
            return self._fall_back(
                request, reason="unreadable reply", notice=UNAVAILABLE, began=began
            )
        latency_ms = (time.perf_counter() - began) * 1000
        message = loop.message
        reply = read_reply(message.content, loop.prompt, request.terms_text)
        if message.stop_reason not in COMPLETE or not reply.text:
            # A stream cut short, or a refusal: not an answer to show or to build on.
            log.warning("Claude's reply was incomplete (stop reason %s)", message.stop_reason)
            return self._fall_back(
                request,
                reason=f"stop reason {message.stop_reason}",
                notice=UNAVAILABLE,
                began=began,
            )
        trace = Trace(
            answerer=self.name,
            model=message.model,
            passages=loop.prompt.passage_ids,
            latency_ms=round(latency_ms, 1),
            tool_calls=tuple(loop.calls),
            round_trips=loop.round_trips,
            **loop.usage,
        )
        if (why := unbacked(reply)) is not None:
            # Prose that no checked quote backs must never be shown as if it were cited.
            log.warning("Claude's answer was not shown: %s", why)
            return self._quote_instead(request, why, spent=trace, began=began)
        return Answer(
            request.question,
            reply.text,
            covered=bool(reply.citations),
            answerer=self.name,
            citations=reply.citations,
            trace=trace,
        )

    def _ask_once(self, prompt: Prompt, request: AnswerRequest) -> LoopResult:
        """One request, no tools: the whole episode, or the passages, are all Claude has."""
        with (
            retry_budget(self._budget),
            self._client.messages.stream(
                model=self._model,
                max_tokens=MAX_TOKENS,
                system=prompt.system,
                messages=prompt.messages,  # type: ignore[arg-type]
            ) as stream,
        ):
            reader = ReplyReader(prompt, request.terms_text)
            message = read_stream(stream, reader, request.watcher, may_call_tools=False)
        usage = {name: getattr(message.usage, name, 0) or 0 for name in USAGE_FIELDS}
        return LoopResult(message, prompt, usage=usage)

    def _switch_off(
        self, request: AnswerRequest, notice: str, exc: anthropic.APIStatusError
    ) -> Answer:
        began = time.perf_counter()
        with self._lock:
            first = self._switched_off is None
            self._switched_off = f"HTTP {exc.status_code}"
        if first:  # said once, clearly; later answers quietly quote
            log.error("%s (HTTP %s: %s)", notice, exc.status_code, _reason(exc))
        return self._fall_back(
            request, reason=f"HTTP {exc.status_code}", notice=notice, began=began
        )

    def _quote_instead(
        self, request: AnswerRequest, reason: str, *, spent: Trace, began: float
    ) -> Answer:
        """The offline answer in place of Claude's unbacked one; the trace keeps what
        Claude's reply cost, and why it was not shown."""
        answer = self._fall_back(request, reason=reason, notice=UNBACKED, began=began)
        assert answer.trace is not None  # _fall_back always gives one
        cost = {name: getattr(spent, name) for name in USAGE_FIELDS}
        trace = replace(
            answer.trace,
            tool_calls=spent.tool_calls,
            round_trips=spent.round_trips,
            **cost,
        )
        return replace(answer, trace=trace)

    def _fall_back(
        self, request: AnswerRequest, *, reason: str, notice: str | None, began: float
    ) -> Answer:
        answer = self._fallback.answer(request)
        base = answer.trace or Trace(answerer=answer.answerer)
        trace = replace(
            base,
            answerer=f"{answer.answerer} (fallback)",
            model=self._model,
            fallback_reason=reason,
            # The time spent waiting on Claude counts: it is what the person waited.
            latency_ms=round((time.perf_counter() - began) * 1000, 1),
        )
        return replace(answer, notice=notice, trace=trace)


def _reason(exc: anthropic.APIStatusError) -> str:
    """The API's own error type and message, never the request (which carries the key)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return f"{error.get('type', 'error')}: {error.get('message', '')}".strip()
