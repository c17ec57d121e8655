"""Slack requests being acknowledged right now, so background answers can wait their turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# However busy the server, an answer starts within this long of being due.
LONGEST_WAIT_SECONDS = 1.0


class InFlight:
    """Counts requests between arrival and response.

    Acknowledgements have a deadline (Slack retries after 3 s); answers do not. Under the GIL
    an answer being worked out takes CPU from every acknowledgement in the same process, so
    answers start only when no request is in flight, or after LONGEST_WAIT_SECONDS, whichever
    comes first (measured with benchmarks/ack_latency.py: ack p99 1.6-2.5x a bare Bolt app's
    without this wait, 0.8-1.2x with it).
    """

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Count one request for as long as the block runs."""
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                if not self._count:
                    self._changed.notify_all()

    def wait_until_quiet(self, timeout: float = LONGEST_WAIT_SECONDS) -> bool:
        """Block until no request is in flight (True) or `timeout` passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._count, timeout)
