"""Messages: replies in the bot's threads are follow-ups, and a direct message to the bot is
a question; elsewhere the bot answers only when @-mentioned, in a thread under that message.
Each Slack event is answered once, however often Slack delivers it."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.retrieval import EmptyQuery
from bot.services import threads as thread_memory
from bot.slack import blocks
from bot.slack.listeners.deps import Deps
from bot.slack.listeners.replies import answer_and_post

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def _first_delivery(deps: Deps, body: dict[str, Any]) -> bool:
    event_id = body.get("event_id")
    return thread_memory.first_delivery(deps.library, str(event_id) if event_id else None)


def _reply(deps: Deps, client: WebClient, event: dict[str, Any], thread_ts: str) -> None:
    question = MENTION.sub(" ", event.get("text", "")).strip()
    try:
        if not question:
            client.chat_postMessage(
                channel=event["channel"], thread_ts=thread_ts, text=blocks.HELP_TEXT
            )
            return
        answer_and_post(
            deps,
            client,
            channel=event["channel"],
            question=question,
            user_id=event.get("user"),
            thread_ts=thread_ts,
        )
    except EmptyQuery:
        client.chat_postMessage(
            channel=event["channel"],
            thread_ts=thread_ts,
            text=blocks.NO_WORDS,
        )
    except SlackApiError as exc:
        log.warning("could not reply in thread: %s", exc.response.get("error"))
    except OSError as exc:  # Slack unreachable for longer than the client's retries
        log.warning("could not reply in thread: Slack unreachable (%s)", type(exc).__name__)


def _well_formed(event: dict[str, Any]) -> bool:
    """A message event with the parts Slack always sends, of the types it sends them."""
    text = event.get("text", "")
    thread_ts = event.get("thread_ts")
    return (
        isinstance(event.get("channel"), str)
        and isinstance(event.get("ts"), str)
        and isinstance(text, str)
        and (thread_ts is None or isinstance(thread_ts, str))
    )


def on_message(
    event: dict[str, Any],
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    deps: Deps,
) -> None:
    """A reply in one of the bot's threads, or a direct message to the bot: answered."""
    # Edits, deletions, joins, bot posts (ours included) all carry a subtype or bot_id.
    if event.get("subtype") or event.get("bot_id") or not _well_formed(event):
        return
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        if event.get("channel_type") != "im":
            return
        # A direct message to the bot is a question; its thread holds the follow-ups.
        thread_ts = event["ts"]
    else:
        if context.bot_user_id and f"<@{context.bot_user_id}>" in event.get("text", ""):
            return  # the app_mention event for this message answers it
        if not thread_memory.is_bot_thread(deps.library, event["channel"], thread_ts):
            return
    if _first_delivery(deps, body):
        deps.in_background(lambda: _reply(deps, client, event, thread_ts))


def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """An @-mention anywhere: answered in a thread under that message."""
    if event.get("bot_id") or not _well_formed(event) or not _first_delivery(deps, body):
        return
    thread_ts = event.get("thread_ts") or event["ts"]
    deps.in_background(lambda: _reply(deps, client, event, thread_ts))


def register(app: App) -> None:
    """Wire message and app_mention events into the app."""
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
