"""A circuit breaker for Claude: after a few answers in a row fell back because Claude was
unavailable, stop asking for a while. In an outage (a storm of 529s) every question would
otherwise wait out the whole retry budget and hold an answer thread for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

FAILURES_TO_OPEN = 3
REST_SECONDS = 60.0


class Breaker:
    """Closed: calls go through. Open (after `failures` in a row): none do until `rest`
    seconds pass; then one trial call decides whether it closes again."""

    def __init__(
        self,
        failures: int = FAILURES_TO_OPEN,
        rest: float = REST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failures_to_open = failures
        self._rest = rest
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._trial_running = False
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether to call now. While open, only one trial goes through once resting ends."""
        with self._lock:
            if self._failures < self._failures_to_open:
                return True
            if self._clock() < self._open_until or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record(self, *, ok: bool) -> None:
        """The outcome of a call that was allowed."""
        with self._lock:
            self._trial_running = False
            if ok:
                self._failures = 0
                return
            self._failures += 1
            if self._failures >= self._failures_to_open:
                self._open_until = self._clock() + self._rest
