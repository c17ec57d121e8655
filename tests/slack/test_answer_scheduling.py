"""Slack retries are remembered for a day, and answers let acknowledgements go first."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.in_flight import InFlight
from db.conversations import claim_event
from db.models import ProcessedEvent


def test_a_retry_within_the_day_is_refused_and_old_ids_are_forgotten(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        assert claim_event(session, "Ev-first")
    with session_factory.begin() as session:
        assert not claim_event(session, "Ev-first")
    two_days_on = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
    with session_factory.begin() as session:
        assert claim_event(session, "Ev-later", now=two_days_on)
    with session_factory() as session:
        kept = session.scalars(select(ProcessedEvent.event_id)).all()
        assert kept == ["Ev-later"]
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


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
