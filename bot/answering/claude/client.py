"""The Anthropic client answers are written with: the SDK's own retries (429, 529, 5xx,
timeouts), kept inside a bounded total wait so that a person is never left waiting long for
the quoted answer that replaces Claude's in an outage."""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import anthropic
import httpx2
from anthropic import APIRequest, CallNext, Middleware

# The longest a question waits on failed attempts before the offline answer is given.
RETRY_BUDGET_SECONDS = 20.0
MAX_RETRIES = 2
# Each attempt: connecting, and (streaming) the wait for each next piece of the answer.
ATTEMPT_TIMEOUT = httpx2.Timeout(8.0, connect=3.0)
RETRYABLE = frozenset({408, 409, 429})

_deadline: ContextVar[float | None] = ContextVar("episode_bot_claude_deadline", default=None)


class RetryBudgetSpent(Exception):
    """Another attempt would end past the total wait allowed for this answer."""


def _retry_after(headers: Any) -> float:
    """Seconds the server asks to wait, read as the SDK reads them (ms, seconds or a date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers.get(name)) * scale
        except (TypeError, ValueError):
            continue
    when = email.utils.parsedate_tz(headers.get("retry-after") or "")
    return max(0.0, email.utils.mktime_tz(when) - time.time()) if when else 0.0


class RetryBudget(Middleware):
    """Stops the SDK's retry loop when the next attempt could not finish within the budget.

    Runs once per attempt (the SDK calls its middleware inside its retry loop). A server may
    ask for a long Retry-After; the SDK would wait it out, so a reply asking for longer than
    the time left ends the retries here instead."""

    def __init__(self, timeout: httpx2.Timeout = ATTEMPT_TIMEOUT) -> None:
        # How long one attempt may take before its timeout ends it.
        self._attempt_seconds = float(timeout.read or 0) + float(timeout.connect or 0)

    def handle(self, request: APIRequest, call_next: CallNext) -> Any:
        """Refuse an attempt that cannot finish in time; pass everything else through."""
        deadline = _deadline.get()
        if deadline is None:
            return call_next(request)
        if request.retries_taken and time.monotonic() + self._attempt_seconds > deadline:
            raise RetryBudgetSpent(f"gave up after {request.retries_taken} retries")
        response = call_next(request)
        status = response.status_code
        retryable = status in RETRYABLE or status >= 500
        wait = _retry_after(response.headers) + self._attempt_seconds
        if retryable and time.monotonic() + wait > deadline:
            response.http_response.close()  # unread, it would hold its connection forever
            raise RetryBudgetSpent(f"HTTP {status} asked to wait past the time allowed")
        return response


class Pacing(Middleware):
    """How many requests to Anthropic are open at once: up to `most`, halved (not below
    `least`) on each 429 and grown back by one on each success, so a rate limit slows the
    answer pool down rather than failing its answers. A request over the limit waits for a
    free place; the SDK's own retries (and their Retry-After) happen inside it."""

    def __init__(self, most: int = 32, least: int = 2) -> None:
        self.most, self.least = most, least
        self._limit = most
        self._open = 0
        self._changed = threading.Condition()

    @property
    def limit(self) -> int:
        """Requests allowed open at once now."""
        return self._limit

    def handle(self, request: APIRequest, call_next: CallNext) -> Any:
        """Wait for a place, send, and learn from the status."""
        with self._changed:
            self._changed.wait_for(lambda: self._open < self._limit)
            self._open += 1
        status = 0
        try:
            response = call_next(request)
            status = response.status_code
            return response
        finally:
            with self._changed:
                self._open -= 1
                if status == 429:
                    self._limit = max(self.least, self._limit // 2)
                elif 200 <= status < 300:
                    self._limit = min(self.most, self._limit + 1)
                self._changed.notify_all()


@contextmanager
def retry_budget(seconds: float = RETRY_BUDGET_SECONDS) -> Iterator[None]:
    """Bound the total time the calls inside may spend on retries."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def build_client(
    api_key: str,
    base_url: str | None = None,
    *,
    timeout: httpx2.Timeout = ATTEMPT_TIMEOUT,
    pacing: Pacing | None = None,
) -> anthropic.Anthropic:
    """The real SDK client; `base_url` None lets the SDK read ANTHROPIC_BASE_URL itself.
    Every request of the process goes through one `pacing` (see Pacing)."""
    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url,
        max_retries=MAX_RETRIES,
        timeout=timeout,
        middleware=[RetryBudget(timeout), pacing or Pacing()],
    )
