"""Conversation queries: threads the bot answers in, their turns, handled events, feedback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, cast, delete, func, select, update
from sqlalchemy.orm import Session

from db.dialect import insert, storable
from db.models import Conversation, ConversationTurn, Feedback


def start_conversation(
    session: Session, channel: str, *, thread_ts: str | None, episode_id: int | None
) -> Conversation:
    """A new conversation; `thread_ts` may come later, once its root message exists."""
    conversation = Conversation(channel=channel, thread_ts=thread_ts, episode_id=episode_id)
    session.add(conversation)
    session.flush()
    return conversation


def add_turn(
    session: Session,
    conversation_id: int,
    role: str,
    text: str,
    *,
    user_id: str | None = None,
    cited_positions: Sequence[int] = (),
) -> ConversationTurn:
    """Append a turn; returns it with its id."""
    turn = ConversationTurn(
        conversation_id=conversation_id,
        role=role,
        user_id=user_id,
        text=storable(text),
        cited_positions=json.dumps(list(cited_positions)),
    )
    session.add(turn)
    session.flush()
    return turn


def set_thread(session: Session, conversation_id: int, thread_ts: str) -> None:
    """Record the root message's ts once Slack has accepted it."""
    session.execute(
        update(Conversation).where(Conversation.id == conversation_id).values(thread_ts=thread_ts)
    )


def drop_conversation(session: Session, conversation_id: int) -> None:
    """Forget a conversation whose root message never reached Slack."""
    session.execute(delete(Conversation).where(Conversation.id == conversation_id))


def find_conversation(session: Session, channel: str, thread_ts: str) -> Conversation | None:
    """The conversation rooted at this thread, if the bot has one."""
    return session.scalar(
        select(Conversation).where(
            Conversation.channel == channel, Conversation.thread_ts == thread_ts
        )
    )


def turns_of(session: Session, conversation_id: int) -> list[ConversationTurn]:
    """A conversation's turns, oldest first."""
    return list(
        session.scalars(
            select(ConversationTurn)
            .where(ConversationTurn.conversation_id == conversation_id)
            .order_by(ConversationTurn.id)
        )
    )


@dataclass(frozen=True)
class TurnPlace:
    """Where a stored turn was said: its role, its conversation's channel and thread root
    (None until the root message exists), and whether it is that conversation's first
    answer (the root message itself, when the conversation is rooted at an answer)."""

    role: str
    channel: str
    thread_ts: str | None
    first_answer: bool


def turn_place(session: Session, turn_id: int) -> TurnPlace | None:
    """Where the turn was said, or None when it is not stored (any more)."""
    row = session.execute(
        select(ConversationTurn.role, Conversation.channel, Conversation.thread_ts, Conversation.id)
        .join(Conversation, Conversation.id == ConversationTurn.conversation_id)
        .where(ConversationTurn.id == turn_id)
    ).one_or_none()
    if row is None:
        return None
    first = session.scalar(
        select(func.min(ConversationTurn.id)).where(
            ConversationTurn.conversation_id == row.id, ConversationTurn.role == "assistant"
        )
    )
    return TurnPlace(row.role, row.channel, row.thread_ts, first_answer=first == turn_id)


def record_feedback(session: Session, turn_id: int, user_id: str, *, helpful: bool) -> bool:
    """Store a click; the last click of a user on an answer wins. False if the answer is
    gone (its conversation was deleted)."""
    if session.get(ConversationTurn, turn_id) is None:
        return False
    statement = insert(session, Feedback).values(turn_id=turn_id, user_id=user_id, helpful=helpful)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["turn_id", "user_id"],
            set_={"helpful": helpful, "updated_at": func.current_timestamp()},
        )
    )
    return True


@dataclass(frozen=True)
class AnswerStats:
    """Answers given since a moment, and how many of the rated ones were rated helpful."""

    answers: int
    rated: int
    helpful: int


def answer_stats(session: Session, since: datetime) -> AnswerStats:
    """Answers and their feedback since `since` (UTC)."""
    answers = session.scalar(
        select(func.count(ConversationTurn.id)).where(
            ConversationTurn.role == "assistant", ConversationTurn.created_at >= since
        )
    )
    rated, helpful = session.execute(
        # Cast before summing: PostgreSQL has no sum of booleans, and summed as Boolean
        # SQLAlchemy would hand back True for any count.
        select(
            func.count(Feedback.id),
            func.coalesce(func.sum(cast(Feedback.helpful, Integer)), 0),
        )
        .join(ConversationTurn, ConversationTurn.id == Feedback.turn_id)
        .where(ConversationTurn.created_at >= since)
    ).one()
    return AnswerStats(answers or 0, rated or 0, int(helpful or 0))
