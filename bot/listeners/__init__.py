"""The Slack surface: one module per kind of request, each with `register(app, deps)`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bot.answering import Answerer
from bot.in_flight import InFlight

log = logging.getLogger(__name__)
# The offline answerer is pure Python: under the GIL a second worker adds no throughput and
# takes CPU from acknowledgements (measured: ack p99 145 ms with two, 109 ms with one).
# An answerer that waits on the network (Claude) will want more.
ANSWERS_AT_ONCE = 1


def _answer_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=ANSWERS_AT_ONCE, thread_name_prefix="answer")


@dataclass(frozen=True)
class Deps:
    """What listeners need, handed in by the app factory (no module globals)."""

    session_factory: sessionmaker[Session]
    answerer: Answerer
    # Bolt runs listeners on one small shared thread pool; answers handed over to this pool
    # free those threads at once, so acknowledgements never queue behind answers.
    answer_pool: ThreadPoolExecutor = field(default_factory=_answer_pool)
    # Requests the HTTP server is acknowledging; answers let them go first.
    in_flight: InFlight = field(default_factory=InFlight)

    def in_background(self, work: Callable[[], None]) -> None:
        """Run `work` on the answer pool; its failure is logged, never lost silently."""

        def guarded() -> None:
            self.in_flight.wait_until_quiet()
            try:
                work()
            except Exception:
                log.exception("answering failed")

        self.answer_pool.submit(guarded)
