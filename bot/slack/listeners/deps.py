"""What listeners need, handed in by the app factory (no module globals): each handler takes
it as its `deps` argument, which Bolt fills from the request's context."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from bot.answering import Answerer
from bot.config import Settings
from bot.services.asks import AskBook, Recorder
from bot.services.library import Library
from bot.slack.in_flight import InFlight
from bot.slack.live_answer import Paces
from bot.slack.workspaces import WorkspaceClients

log = logging.getLogger(__name__)


def answer_pool(answerer: Answerer) -> ThreadPoolExecutor:
    """Threads that work out answers, as many at once as the answerer does well with."""
    return ThreadPoolExecutor(max_workers=answerer.answers_at_once, thread_name_prefix="answer")


@dataclass
class _Work:
    """The answer pool's work not yet finished, for the drain at shutdown."""

    futures: set[Future[None]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    # Past the shutdown's grace period: work that had not started is left for the next process.
    closed: threading.Event = field(default_factory=threading.Event)

    def queued(self) -> int:
        with self.lock:
            return sum(1 for f in self.futures if not f.running())


@dataclass(frozen=True)
class Deps:
    """The library, the answerer, the threads answers are worked out on, and the book of
    asks owed."""

    library: Library
    answerer: Answerer
    # Bolt runs listeners on one small shared thread pool; answers handed over to this pool
    # free those threads at once, so acknowledgements never queue behind answers.
    answer_pool: ThreadPoolExecutor
    # Requests the HTTP server is acknowledging; answers let them go first.
    in_flight: InFlight = field(default_factory=InFlight)
    # Defaults for `/episode digest` (time, zone, days, the DIGEST_CHANNEL).
    settings: Settings = field(default_factory=Settings)
    asks: AskBook | None = None
    # Writes the asks down as they are acknowledged (see Recorder).
    recorder: Recorder | None = None
    # What Slack allows the updates of answers being written, shared by all of them.
    paces: Paces = field(default_factory=Paces)
    # A workspace's client for work outside a request (answers taken over after a restart).
    clients: WorkspaceClients | None = None
    _work: _Work = field(default_factory=_Work)

    def for_workspace(self, team_id: str) -> Deps:
        """The same deps (the same pools, book and work), the library for `team_id`."""
        if team_id == self.library.workspace:
            return self
        return replace(self, library=self.library.of_workspace(team_id))

    @property
    def stopping(self) -> bool:
        """Whether the process is shutting down (no new work is started)."""
        return self._work.stopping.is_set()

    def waiting(self) -> int:
        """How many questions wait for a free answer thread (those still being written
        down included)."""
        recording = self.recorder.pending() if self.recorder is not None else 0
        return self._work.queued() + recording

    def in_background(self, work: Callable[[], None]) -> bool:
        """Run `work` on the answer pool; its failure is logged, never lost silently.
        False when the process is shutting down and takes no more work."""

        def guarded() -> None:
            self.in_flight.wait_until_quiet()
            if self._work.closed.is_set():
                return
            try:
                work()
            except Exception:
                log.exception("answering failed")

        if self.stopping:
            return False
        try:
            future = self.answer_pool.submit(guarded)
        except RuntimeError:  # the pool was shut down between the check and the submit
            return False
        with self._work.lock:
            self._work.futures.add(future)
        future.add_done_callback(self._forget)
        return True

    def _forget(self, future: Future[None]) -> None:
        with self._work.lock:
            self._work.futures.discard(future)

    def drain(self, grace_seconds: float) -> int:
        """Stop taking work and let the work taken (answers under way and those queued)
        finish within `grace_seconds`; then leave what is left (unstarted work and the asks
        of answers still running) in the book for the next process. Returns how many
        answers were still running: their threads must not outlive the exit (the caller
        ends the process)."""
        if self.recorder is not None:  # what was acknowledged is written down and queued
            self.recorder.close()
        self._work.stopping.set()
        self.answer_pool.shutdown(wait=False)
        with self._work.lock:
            taken = set(self._work.futures)
        if taken:
            log.warning("finishing %d answers before stopping", len(taken))
        _, unfinished = wait(taken, timeout=grace_seconds)
        self._work.closed.set()
        queued = sum(1 for f in unfinished if not f.running())
        running = len(unfinished) - queued
        released = self.asks.release_held() if self.asks is not None else 0
        if unfinished or released:
            log.warning(
                "stopped with %d answers unfinished: %d questions left for the next start",
                running,
                released + queued,
            )
        return running
