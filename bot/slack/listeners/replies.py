"""Answer a question in Slack: answered and stored by the threads service, shown as it is
written (see bot/slack/live_answer.py), and finished as a new message (the root of its
thread) or as a reply in the thread it was asked in."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import threads
from bot.slack.listeners.deps import Deps
from bot.slack.live_answer import LiveAnswer, Place


def answer_and_post(
    deps: Deps,
    client: WebClient,
    *,
    channel: str,
    question: str,
    user_id: str | None,
    thread_ts: str | None,
    team_id: str | None = None,
    shown_ts: str | None = None,
    on_shown: Callable[[str], None] | None = None,
) -> None:
    """Answer `question` in `thread_ts` (a new message when None), finishing the message
    `shown_ts` an earlier attempt left, if any; `on_shown` hears the answer's message ts.
    Raises SlackApiError (or OSError) when Slack refuses the answer; nothing of a refused
    new conversation is kept, and nothing half-written is left showing."""
    live = LiveAnswer(
        client,
        Place(channel, thread_ts, question, user_id, team_id),
        live=deps.answerer.writes_as_it_goes,
        paces=deps.paces,
        shown_ts=shown_ts,
        on_shown=on_shown,
    )
    try:
        reply = threads.answer_in_thread(
            deps.library,
            deps.answerer,
            channel=channel,
            question=question,
            user_id=user_id,
            thread_ts=thread_ts,
            watcher=live,
        )
    except Exception:
        live.abandon()
        raise
    try:
        ts = live.finish(reply.answer, answer_id=reply.reply_id, library_wide=reply.library_wide)
    except SlackApiError:  # refused: nothing half-written stays
        if reply.new_thread:
            threads.forget(deps.library, reply.conversation_id)
        live.abandon()
        raise
    except OSError:  # unreachable: what it took is unknown, so nothing is taken back
        if reply.new_thread:
            threads.forget(deps.library, reply.conversation_id)
        raise
    if reply.new_thread:
        threads.thread_posted(deps.library, reply.conversation_id, ts)
