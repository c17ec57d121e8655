"""What listeners need, handed in by the app factory (no module globals): each handler takes
it as its `deps` argument, which Bolt fills from the request's context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bot.answering import Answerer
from bot.config import Settings
from bot.services.library import Library
from bot.slack.in_flight import InFlight

log = logging.getLogger(__name__)


def answer_pool(answerer: Answerer) -> ThreadPoolExecutor:
    """Threads that work out answers, as many at once as the answerer does well with."""
    return ThreadPoolExecutor(max_workers=answerer.answers_at_once, thread_name_prefix="answer")


@dataclass(frozen=True)
class Deps:
    """The library, the answerer and the threads answers are worked out on."""

    library: Library
    answerer: Answerer
    # Bolt runs listeners on one small shared thread pool; answers handed over to this pool
    # free those threads at once, so acknowledgements never queue behind answers.
    answer_pool: ThreadPoolExecutor
    # Requests the HTTP server is acknowledging; answers let them go first.
    in_flight: InFlight = field(default_factory=InFlight)
    # Defaults for `/episode digest` (time, zone, days, the DIGEST_CHANNEL).
    settings: Settings = field(default_factory=Settings)

    def in_background(self, work: Callable[[], None]) -> None:
        """Run `work` on the answer pool; its failure is logged, never lost silently."""

        def guarded() -> None:
            self.in_flight.wait_until_quiet()
            try:
                work()
            except Exception:
                log.exception("answering failed")

        self.answer_pool.submit(guarded)
