"""A reply whose first write the database refuses for a moment is stored by the next try,
in a new thread as in an old one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.answering.offline import OfflineAnswerer
from bot.services import retrying, threads
from bot.services.library import Library
from bot.services.threads import answer_in_thread
from db.models import Conversation, ConversationTurn


def _refusing_once(add_turn: Callable[..., Any]) -> Callable[..., Any]:
    """add_turn, whose first assistant turn fails as a connection lost before the commit."""
    refused: list[bool] = []

    def add(
        session: Any, team: str, conversation_id: int, role: str, *args: Any, **kwargs: Any
    ) -> Any:
        if role == "assistant" and not refused:
            refused.append(True)
            raise OperationalError("INSERT ...", {}, Exception("server closed the connection"))
        return add_turn(session, team, conversation_id, role, *args, **kwargs)

    return add


@pytest.mark.parametrize("follow_up", [False, True], ids=["new thread", "follow-up"])
def test_a_reply_refused_once_is_stored_once(
    library: Library, monkeypatch: pytest.MonkeyPatch, follow_up: bool
) -> None:
    monkeypatch.setattr(retrying.time, "sleep", lambda _: None)
    thread_ts = None
    if follow_up:
        first = answer_in_thread(
            library,
            OfflineAnswerer(),
            channel="C0RETRY",
            question="Who is Boris?",
            user_id="U1",
            thread_ts=None,
        )
        thread_ts = "1700000000.000300"
        threads.thread_posted(library, first.conversation_id, thread_ts)
    monkeypatch.setattr(threads, "add_turn", _refusing_once(threads.add_turn))
    reply = answer_in_thread(
        library,
        OfflineAnswerer(),
        channel="C0RETRY",
        question="What did he build?",
        user_id="U1",
        thread_ts=thread_ts,
    )
    with library.sessions() as session:
        assert session.scalar(select(func.count(Conversation.id))) == 1
        turns = session.scalars(
            select(ConversationTurn.role).where(
                ConversationTurn.conversation_id == reply.conversation_id
            )
        ).all()
        assert session.get(ConversationTurn, reply.reply_id) is not None
    assert turns == ["user", "assistant"] * (2 if follow_up else 1)
