"""The book of asks a process owes answers to: each acknowledged question is written down
before the acknowledgement goes out and crossed off once answered, so a deploy (SIGTERM) or
a crash loses none. Answering claims the ask first, so however many processes share the
database, and however often Slack or an attacker replays the request, one answer goes out.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.services.library import Library
from bot.services.retrying import retried
from db.asks import (
    Ask,
    claim_ask,
    finish_ask,
    forget_answered,
    open_asks,
    record_ask,
    release_asks,
    set_answer_message,
    utc_now,
)

log = logging.getLogger(__name__)

__all__ = ["Ask", "AskBook", "NewAsk", "Recorder", "owner_gone", "process_owner", "too_old"]

# Past this, an ask left by a dead process is not answered but its asker told to ask again:
# a slash command's response_url lives 30 minutes, and an answer that late helps nobody.
TOO_OLD = timedelta(minutes=30)
# A live process answers its own asks well within this; older pending ones are orphans.
ORPHANED_AFTER = timedelta(minutes=2)


def process_owner() -> str:
    """A name for this process, unique across hosts and restarts."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class NewAsk:
    """A question just acknowledged, as it is written down."""

    dedup_key: str | None  # the event id, or the slash command's trigger_id
    kind: str  # "command" or "event"
    channel: str
    user_id: str | None
    thread_ts: str | None
    question: str
    response_url: str | None = None
    team_id: str = ""  # the workspace asked in (whose data answers it)
    recipient_team_id: str | None = None  # the asker's own workspace, when Slack said


class AskBook:
    """Record, claim and cross off asks for one process (`owner`)."""

    def __init__(self, library: Library, owner: str | None = None) -> None:
        self._library = library
        self.owner = owner or process_owner()
        self._held: set[int] = set()
        self._lock = threading.Lock()

    def record(self, asks: Sequence[NewAsk]) -> list[int | None]:
        """Write the asks down in one transaction; each one's id, or None for a request
        recorded before (a replay, or Slack's retry). Raises SQLAlchemyError when they
        cannot be stored."""
        # Written in key order, so two processes writing batches that share keys (Slack's
        # retry landing on the other one) take the keys' locks in the same order.
        order = sorted(range(len(asks)), key=lambda i: asks[i].dedup_key or "")
        ids: list[int | None] = [None] * len(asks)
        with self._library.sessions.begin() as session:
            forget_answered(session)
            for i in order:
                ids[i] = record_ask(session, **asdict(asks[i]))
        return ids

    def claim(self, ask_id: int, *, taking_from: str | None = None) -> Ask | None:
        """The ask, now this process's to answer; None when another has it or it is done.
        `taking_from` names a process known to be gone whose claim may be taken over."""
        with self._library.sessions.begin() as session:
            ask = claim_ask(session, ask_id, self.owner, taking_from=taking_from)
        if ask is not None:
            with self._lock:
                self._held.add(ask_id)
        return ask

    def finish(self, ask_id: int, *, told: bool = False) -> None:
        """Cross the ask off: answered (or its asker told to ask again). Retried a while: the
        answer is out, and an ask left unmarked is answered again once its lease ends."""

        def cross_off() -> None:
            with self._library.sessions.begin() as session:
                finish_ask(session, ask_id, self.owner, told=told)

        try:
            retried(cross_off, f"mark ask {ask_id} answered")
        except SQLAlchemyError as exc:
            log.error(
                "could not mark ask %s answered (%s): it may be answered again",
                ask_id,
                type(exc).__name__,
            )
        with self._lock:
            self._held.discard(ask_id)

    def showing(self, ask_id: int, ts: str) -> None:
        """Note the message showing the ask's answer as it is written, so whoever finishes
        the ask (this process, or the next after a crash) finishes that one message."""
        try:
            with self._library.sessions.begin() as session:
                set_answer_message(session, ask_id, self.owner, ts)
        except SQLAlchemyError as exc:  # the answer still comes; a takeover posts anew
            log.warning("could not note ask %s's message (%s)", ask_id, type(exc).__name__)

    def release_held(self) -> int:
        """Give back every ask this process holds unanswered (it is shutting down), so the
        next process answers them at once; how many."""
        with self._lock:
            held = sorted(self._held)
            self._held.clear()
        if not held:
            return 0
        try:
            with self._library.sessions.begin() as session:
                return release_asks(session, self.owner, held)
        except SQLAlchemyError as exc:  # the next process takes them over all the same
            log.warning("could not hand back %d questions (%s)", len(held), type(exc).__name__)
            return 0

    def left_over(self, *, older_than: timedelta = ORPHANED_AFTER) -> list[Ask]:
        """Asks nobody is answering (their process died, or is gone): oldest first."""
        with self._library.sessions() as session:
            return open_asks(session, older_than=older_than, gone=owner_gone)


def owner_gone(owner: str) -> bool:
    """Whether the process that holds a claim is known to be gone: it ran on this host and
    its pid is not alive (`kill -9`). On another host only the lease can tell."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, but another user's
        return False
    return False


def too_old(ask: Ask, now: datetime | None = None) -> bool:
    """Whether an ask is past answering (see TOO_OLD)."""
    return (now or utc_now()) - ask.created_at > TOO_OLD


Recorded = Callable[[int | None], None]  # the ask's id, or None for a replay
Failed = Callable[[], None]


class Recorder:
    """Writes acknowledged asks down in the moment they are acknowledged, off the
    acknowledgement's path: one thread takes every ask waiting and stores them in one
    transaction, so a burst of questions is one write, not a queue for SQLite's write lock
    in front of every acknowledgement (measured with benchmarks/ack_latency.py: a write per
    ask before the acknowledgement took its p99 to 350 ms, against 30 ms for a bare Bolt
    app; this way, 22.5 against 19.4). Then each ask's
    `recorded` runs (queue its answer); if it cannot be stored after RECORD_TRIES, `failed`
    (tell the asker)."""

    RECORD_TRIES = 3
    BATCH = 100

    def __init__(self, book: AskBook, *, settle: Callable[[], object] | None = None) -> None:
        self._book = book
        # Called before each write: lets the acknowledgements under way go first (a burst
        # then is one write, done between them), for at most a fraction of a second.
        self._settle = settle
        self._waiting: queue.Queue[tuple[NewAsk, Recorded, Failed] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ask-recorder", daemon=True)
        self._thread.start()

    def submit(self, ask: NewAsk, recorded: Recorded, failed: Failed) -> None:
        """Write `ask` down as soon as can be; never blocks."""
        self._waiting.put((ask, recorded, failed))

    def pending(self) -> int:
        """Asks submitted and not yet written down (each waits for an answer too)."""
        return self._waiting.qsize()

    def close(self, timeout: float = 10.0) -> None:
        """Write down what was submitted, then stop."""
        self._waiting.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is not None and self._settle is not None:
                self._settle()
            batch = [] if first is None else [first]
            stopping = first is None
            while not stopping and len(batch) < self.BATCH:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    batch.append(more)
            if batch:
                self._store(batch)
            if stopping:
                return

    def _store(self, batch: list[tuple[NewAsk, Recorded, Failed]]) -> None:
        for attempt in range(self.RECORD_TRIES):
            try:
                ids = self._book.record([ask for ask, _, _ in batch])
            except SQLAlchemyError as exc:
                log.warning("could not store %d questions (%s)", len(batch), type(exc).__name__)
                time.sleep(0.2 * (attempt + 1))
                continue
            for (_, recorded, _), ask_id in zip(batch, ids, strict=True):
                _call(recorded, ask_id)
            return
        for _, _, failed in batch:
            _call(failed)


def _call(callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:  # one asker's trouble must not stop the recorder
        log.exception("after storing a question")
