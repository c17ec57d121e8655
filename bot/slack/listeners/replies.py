"""Answer a question in Slack: answered and stored by the threads service, then posted as a
new message (the root of its thread) or as a reply in the thread it was asked in."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import threads
from bot.slack import blocks
from bot.slack.listeners.deps import Deps


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
    reply = threads.answer_in_thread(
        deps.library,
        deps.answerer,
        channel=channel,
        question=question,
        user_id=user_id,
        thread_ts=thread_ts,
    )
    message = blocks.answer_message(
        reply.answer, asker=user_id, answer_id=reply.reply_id, library_wide=reply.library_wide
    )
    try:
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
    except SlackApiError:
        if reply.new_thread:
            threads.forget(deps.library, reply.conversation_id)
        raise
    if reply.new_thread:
        threads.thread_posted(deps.library, reply.conversation_id, str(posted["ts"]))
