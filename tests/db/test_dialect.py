"""Statements written once for both backends: text PostgreSQL would refuse is stored the
same way on SQLite, and a conflicting insert is told apart by what it returns."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.asks import record_ask
from db.conversations import add_turn, start_conversation
from db.dialect import REPLACEMENT, storable
from db.digest import claim_day
from db.models import PendingAsk


def test_nul_is_stored_as_the_replacement_character(session: Session) -> None:
    assert storable("Who\x00 is Boris?") == f"Who{REPLACEMENT} is Boris?"
    assert storable("plain") == "plain"
    ask_id = record_ask(
        session,
        dedup_key="event:Ev0NUL",
        kind="event",
        channel="C0NUL",
        user_id="U1",
        thread_ts="1.2",
        question="Who\x00 is Boris?",
        response_url=None,
    )
    stored = session.scalars(select(PendingAsk.question).where(PendingAsk.id == ask_id)).one()
    assert stored == f"Who{REPLACEMENT} is Boris?"
    conversation = start_conversation(session, "", "C0NUL", thread_ts="1.2", episode_id=None)
    turn = add_turn(session, "", conversation.id, "user", "a\x00b")
    assert turn.text == f"a{REPLACEMENT}b"


def test_a_day_is_claimed_once_by_what_the_insert_returns(session: Session) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    first = claim_day(session, "", "C0DAY", date(2026, 12, 2), owner="host:1:a", now=now)
    assert first is not None and first.claimed_by == "host:1:a"
    assert claim_day(session, "", "C0DAY", date(2026, 12, 2), owner="host:2:b", now=now) is None
