"""A thread's memory: the conversation the bot keeps for each thread it answers in, so a reply
there is answered as a follow-up about the same episode, with what was said before.

A question is answered before anything is written (a slow answerer never holds the write
lock); the exchange is stored before the answer is posted, so its buttons can carry the
stored answer's id; a new thread whose root message never reached Slack is forgotten again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy.orm import Session

from bot.answering import Answer, Answerer, Exchange, Watcher, as_thread_text
from bot.services.asking import ask
from bot.services.library import Library
from bot.takeaways.picking import Pick
from db.channels import focus_episode
from db.conversations import (
    add_turn,
    drop_conversation,
    find_conversation,
    set_thread,
    start_conversation,
    thread_teams,
    turns_of,
)
from db.models import ConversationTurn, Episode
from db.traces import citations_by_turn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadAnswer:
    """An answer stored in its conversation: the stored reply's id (what feedback points at),
    and whether it starts a new thread (its root message is yet to be posted)."""

    answer: Answer
    conversation_id: int
    reply_id: int
    library_wide: bool
    new_thread: bool


def _exchanges(session: Session, turns: Sequence[ConversationTurn]) -> list[Exchange]:
    """The thread's question-and-answer pairs, oldest first, with what each answer cited."""
    answers = [t.id for t in turns if t.role == "assistant"]
    cited = citations_by_turn(session, answers)
    pairs: list[Exchange] = []
    for asked, answered in pairwise(turns):
        if asked.role == "user" and answered.role == "assistant":
            pairs.append(Exchange(asked.text, answered.text, cited.get(answered.id, ())))
    return pairs


def answer_in_thread(
    library: Library,
    answerer: Answerer,
    *,
    channel: str,
    question: str,
    user_id: str | None,
    thread_ts: str | None,
    watcher: Watcher | None = None,
) -> ThreadAnswer:
    """Answer `question` in the thread `thread_ts` (a follow-up when the bot has that thread),
    or as a new thread's root (None) about the channel's focus episode, and store both;
    `watcher` hears the answer being made (see Watcher)."""
    with library.sessions() as session:
        conversation = (
            find_conversation(session, library.workspace, channel, thread_ts) if thread_ts else None
        )
        if conversation is not None:
            episode_id = conversation.episode_id
            episode = session.get(Episode, episode_id) if episode_id is not None else None
            history = _exchanges(session, turns_of(session, conversation.id))
            conversation_id: int | None = conversation.id
        else:
            focus = focus_episode(session, library.workspace, channel)
            episode, history, conversation_id = focus, [], None
        slug, episode_id = (episode.slug, episode.id) if episode else (None, None)
    reply_id: int | None = None

    def record_reply(answer: Answer) -> int:
        nonlocal conversation_id, reply_id
        # Kept only once committed: a try that fails and is tried again must not leave
        # behind the id of a conversation its rollback undid.
        with library.sessions.begin() as session:
            thread = conversation_id
            if thread is None:
                thread = start_conversation(
                    session, library.workspace, channel, thread_ts=thread_ts, episode_id=episode_id
                ).id
            add_turn(session, library.workspace, thread, "user", question, user_id=user_id)
            reply = add_turn(
                session,
                library.workspace,
                thread,
                "assistant",
                as_thread_text(answer),
                cited_positions=[c.position for c in answer.citations],
            ).id
        conversation_id, reply_id = thread, reply
        return reply

    answer = ask(
        library,
        question,
        answerer,
        episode=slug,
        history=history,
        record_reply=record_reply,
        watcher=watcher,
    )
    assert conversation_id is not None and reply_id is not None  # record_reply ran
    return ThreadAnswer(
        answer, conversation_id, reply_id, library_wide=slug is None, new_thread=thread_ts is None
    )


def thread_posted(library: Library, conversation_id: int, ts: str) -> None:
    """The new thread's root message is in Slack: replies under `ts` are follow-ups now."""
    with library.sessions.begin() as session:
        set_thread(session, conversation_id, ts)


def forget(library: Library, conversation_id: int) -> None:
    """Drop a conversation whose root message Slack refused."""
    with library.sessions.begin() as session:
        drop_conversation(session, conversation_id)


def is_bot_thread(library: Library, channel: str, thread_ts: str) -> bool:
    """Whether the bot keeps a conversation of this workspace rooted at this thread. A
    thread of another workspace's is not answered from here, and the attempt is logged."""
    with library.sessions() as session:
        teams = thread_teams(session, channel, thread_ts)
    if library.workspace in teams:
        return True
    if teams:
        log.warning(
            "refused a reply from workspace %s in a thread of workspace %s (channel %s)",
            library.workspace or "-",
            ", ".join(sorted(teams)) or "-",
            channel,
        )
    return False


def start_takeaway_thread(library: Library, channel: str, pick: Pick) -> tuple[int, int]:
    """The conversation a takeaway-of-the-day post roots, so replies in its thread are
    follow-ups about it: (conversation id, the id of the turn its buttons point at)."""
    with library.sessions.begin() as session:
        team = library.workspace
        conversation = start_conversation(
            session, team, channel, thread_ts=None, episode_id=pick.episode_id
        )
        # The quote stands as the thread's first question, so that a short reply ("what
        # does he mean?") is searched for with the quote's words and finds its turn.
        add_turn(session, team, conversation.id, "user", f"{pick.speaker} said: “{pick.quote}”")
        turn = add_turn(
            session,
            team,
            conversation.id,
            "assistant",
            f"Takeaway of the day (turn {pick.position}): {pick.text}\n{pick.question}",
            cited_positions=[pick.position],
        )
        return conversation.id, turn.id
