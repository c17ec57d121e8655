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
    session: Session, team: str, channel: str, *, thread_ts: str | None, episode_id: int | None
) -> Conversation:
    """A new conversation of workspace `team`; `thread_ts` may come later, once its root
    message exists."""
    conversation = Conversation(
        team_id=team, channel=channel, thread_ts=thread_ts, episode_id=episode_id
    )
    session.add(conversation)
    session.flush()
    return conversation


def add_turn(
    session: Session,
    team: str,
    conversation_id: int,
    role: str,
    text: str,
    *,
    user_id: str | None = None,
    cited_positions: Sequence[int] = (),
) -> ConversationTurn:
    """Append a turn to a conversation of workspace `team`; returns it with its id."""
    turn = ConversationTurn(
        team_id=team,
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


def find_conversation(
    session: Session, team: str, channel: str, thread_ts: str
) -> Conversation | None:
    """The conversation of workspace `team` rooted at this thread, if the bot has one."""
    return session.scalar(
        select(Conversation).where(
            Conversation.team_id == team,
            Conversation.channel == channel,
            Conversation.thread_ts == thread_ts,
        )
    )


def thread_teams(session: Session, channel: str, thread_ts: str) -> set[str]:
    """The workspaces the bot keeps a conversation of rooted at this thread (one, but for a
    channel shared between workspaces, or a request naming another's)."""
    return set(
        session.scalars(
            select(Conversation.team_id).where(
                Conversation.channel == channel, Conversation.thread_ts == thread_ts
            )
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
    team: str = ""  # the workspace the turn belongs to


def turn_place(session: Session, turn_id: int) -> TurnPlace | None:
    """Where the turn was said, or None when it is not stored (any more)."""
    row = session.execute(
        select(
            ConversationTurn.role,
            Conversation.channel,
            Conversation.thread_ts,
            Conversation.id,
            ConversationTurn.team_id,
        )
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
    return TurnPlace(
        row.role, row.channel, row.thread_ts, first_answer=first == turn_id, team=row.team_id
    )


def record_feedback(
    session: Session, team: str, turn_id: int, user_id: str, *, helpful: bool
) -> bool:
    """Store a click on an answer of workspace `team`; the last click of a user on an answer
    wins. False if the answer is gone (its conversation was deleted) or not the team's."""
    turn = session.get(ConversationTurn, turn_id)
    if turn is None or turn.team_id != team:
        return False
    statement = insert(session, Feedback).values(
        team_id=team, turn_id=turn_id, user_id=user_id, helpful=helpful
    )
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


def answer_stats(session: Session, team: str, since: datetime) -> AnswerStats:
    """Workspace `team`'s answers and their feedback since `since` (UTC)."""
    answers = session.scalar(
        select(func.count(ConversationTurn.id)).where(
            ConversationTurn.team_id == team,
            ConversationTurn.role == "assistant",
            ConversationTurn.created_at >= since,
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
        .where(ConversationTurn.team_id == team, ConversationTurn.created_at >= since)
    ).one()
    return AnswerStats(answers or 0, rated or 0, int(helpful or 0))
