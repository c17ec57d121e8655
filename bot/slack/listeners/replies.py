"""Answer a question and post it to Slack, keeping the conversation that follow-ups need.

The answer is worked out before any write, so a slow answerer never holds the database's
write lock; the conversation is stored before posting, so the buttons can carry the answer's
id; and a conversation whose root message Slack refused is dropped again.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering import Exchange, as_thread_text
from bot.answering.prepare import prepare, store_trace
from bot.slack import blocks
from bot.slack.listeners import Deps
from db.channels import focus_episode
from db.conversations import (
    add_turn,
    drop_conversation,
    find_conversation,
    set_thread,
    start_conversation,
    turns_of,
)
from db.models import ConversationTurn, Episode


def _exchanges(turns: Sequence[ConversationTurn]) -> list[Exchange]:
    """The thread's question-and-answer pairs, oldest first."""
    pairs: list[Exchange] = []
    for asked, answered in pairwise(turns):
        if asked.role == "user" and answered.role == "assistant":
            pairs.append(Exchange(asked.text, answered.text))
    return pairs


def answer_and_post(
    deps: Deps,
    client: WebClient,
    *,
    channel: str,
    question: str,
    user_id: str | None,
    thread_ts: str | None,
) -> None:
    """Answer `question` in `thread_ts` (a new message when None). Raises SlackApiError
    when Slack refuses the post; nothing of a refused new conversation is kept."""
    with deps.session_factory() as session:
        conversation = find_conversation(session, channel, thread_ts) if thread_ts else None
        if conversation is not None:
            episode_id = conversation.episode_id
            episode = session.get(Episode, episode_id) if episode_id is not None else None
            history = _exchanges(turns_of(session, conversation.id))
        else:
            episode, history = focus_episode(session, channel), []
        slug = episode.slug if episode else None
        request = prepare(session, question, deps.answerer, episode=slug, history=history)
    answer = deps.answerer.answer(request)
    with deps.session_factory.begin() as session:
        if conversation is None:
            conversation = start_conversation(
                session, channel, thread_ts=thread_ts, episode_id=episode.id if episode else None
            )
        conversation_id = conversation.id
        add_turn(session, conversation_id, "user", question, user_id=user_id)
        reply = add_turn(
            session,
            conversation_id,
            "assistant",
            as_thread_text(answer),
            cited_positions=[c.position for c in answer.citations],
        )
        reply_id = reply.id
        store_trace(session, answer, episode=slug, history=history, turn_id=reply_id)
    message = blocks.answer_message(
        answer, asker=user_id, answer_id=reply_id, library_wide=episode is None
    )
    try:
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    except SlackApiError:
        if thread_ts is None:
            with deps.session_factory.begin() as session:
                drop_conversation(session, conversation_id)
        raise
    if thread_ts is None:
        with deps.session_factory.begin() as session:
            set_thread(session, conversation_id, str(posted["ts"]))
