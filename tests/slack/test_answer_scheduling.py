"""Answers let acknowledgements go first."""

from __future__ import annotations

import threading
import time

from bot.slack.in_flight import InFlight


def test_an_answer_waits_while_a_request_is_being_acknowledged() -> None:
    in_flight = InFlight()
    started = threading.Event()
    with in_flight.request():
        waiter = threading.Thread(target=lambda: (in_flight.wait_until_quiet(5), started.set()))
        waiter.start()
        assert not started.wait(0.2), "the answer started while a request was in flight"
    assert started.wait(2), "the answer did not start once the request was acknowledged"
    waiter.join()


def test_an_answer_waits_no_longer_than_its_limit_under_constant_load() -> None:
    in_flight = InFlight()
    with in_flight.request():
        began = time.monotonic()
        assert not in_flight.wait_until_quiet(0.3)
        assert 0.25 <= time.monotonic() - began < 2
    assert in_flight.wait_until_quiet(0.3)
