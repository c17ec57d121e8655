"""The book of asks on a real SQLite file with the real migrations: a request recorded
twice is one ask, two processes never both claim one, a dead process's claim is taken
over, shutdown gives back what it could not finish; and when answers queue up, a new
asker is told how many are ahead."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services.asks import AskBook, NewAsk, Recorder, owner_gone, process_owner
from bot.services.library import Library
from bot.slack.listeners.asks import ahead, busy_text
from bot.slack.listeners.deps import Deps, answer_pool


def _ask(dedup_key: str | None = None) -> NewAsk:
    return NewAsk(
        dedup_key=dedup_key,
        kind="command",
        channel="C0ASKS",
        user_id="U0ASKER",
        thread_ts=None,
        question="Who is Boris?",
        response_url="http://127.0.0.1:9/response_url",
    )


def _record(book: AskBook, dedup_key: str | None = None) -> int | None:
    [ask_id] = book.record([_ask(dedup_key)])
    return ask_id


def test_a_request_recorded_twice_is_one_ask(library: Library) -> None:
    book = AskBook(library)
    first = _record(book, "command:111.222")
    assert first is not None
    assert _record(book, "command:111.222") is None
    assert _record(book, "command:333.444") not in (None, first)
    # In one batch too, as the recorder writes a burst.
    again, new = book.record([_ask("command:111.222"), _ask("command:555.666")])
    assert again is None and new is not None


def test_two_processes_never_both_claim_an_ask(library: Library) -> None:
    one, other = AskBook(library, "host:1:a"), AskBook(library, "host:2:b")
    ask_id = _record(one)
    assert ask_id is not None
    claimed = one.claim(ask_id)
    assert claimed is not None and claimed.question == "Who is Boris?"
    assert other.claim(ask_id) is None
    one.finish(ask_id)
    assert other.claim(ask_id) is None  # answered: nobody answers it again
    assert one.left_over(older_than=timedelta(0)) == []


def test_a_dead_process_s_claim_is_taken_over_and_a_live_one_s_is_not(library: Library) -> None:
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    gone = process_owner().split(":")[0] + f":{dead.stdout.strip()}:x"
    assert owner_gone(gone) and not owner_gone(process_owner())
    assert not owner_gone("another-host:1:x")  # elsewhere only the lease tells
    orphan = AskBook(library, gone)
    ask_id = _record(orphan)
    assert ask_id is not None and orphan.claim(ask_id) is not None
    heir = AskBook(library)
    [left] = heir.left_over(older_than=timedelta(0))
    assert left.id == ask_id and left.claimed_by == gone
    assert heir.claim(ask_id) is None  # still held, unless taken from the dead owner
    assert heir.claim(ask_id, taking_from=gone) is not None


def test_shutdown_finishes_what_it_can_and_gives_back_the_rest(library: Library) -> None:
    book = AskBook(library)
    deps = Deps(library, OfflineAnswerer(), answer_pool(OfflineAnswerer()), asks=book)
    quick, stuck = _record(book), _record(book)
    assert quick is not None and stuck is not None
    release = threading.Event()

    def answer(ask_id: int, wait: bool) -> None:
        assert book.claim(ask_id) is not None
        if wait:
            release.wait(10)
        book.finish(ask_id)

    deps.in_background(lambda: answer(quick, False))
    deps.in_background(lambda: answer(stuck, True))
    assert deps.drain(grace_seconds=0.5) == 1  # one answer still running at the end
    assert not deps.in_background(lambda: None)  # no new work once stopping
    [left] = book.left_over(older_than=timedelta(0))
    assert left.id == stuck and left.claimed_by is None
    release.set()


def test_an_asker_is_told_how_many_wait_ahead_only_when_many_do(library: Library) -> None:
    deps = Deps(library, OfflineAnswerer(), answer_pool(OfflineAnswerer()), settings=Settings())
    gate, busy = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        gate.wait(10)

    deps.in_background(hold)
    assert busy.wait(5)  # the one answer thread is taken
    for _ in range(9):
        deps.in_background(lambda: None)
    assert ahead(deps) is None  # nine waiting: not late enough to say so
    deps.in_background(lambda: None)
    assert ahead(deps) == 10
    assert busy_text(10) == ("Busy: about 10 questions ahead of yours. Your answer will come here.")
    gate.set()
    deps.answer_pool.shutdown(wait=True)


def test_the_recorder_writes_a_burst_down_and_says_which_were_replays(library: Library) -> None:
    recorder = Recorder(AskBook(library))
    seen: list[int | None] = []
    failed: list[str] = []
    for key in ["event:Ev1", "event:Ev2", "event:Ev1", None]:
        recorder.submit(_ask(key), seen.append, lambda: failed.append("x"))
    recorder.close()
    assert len(seen) == 4 and seen[2] is None and None not in (seen[0], seen[1], seen[3])
    assert failed == []
