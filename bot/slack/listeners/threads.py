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

from bot.services import threads as thread_memory
from bot.services.asks import NewAsk
from bot.slack.listeners.asks import ahead, busy_text, take
from bot.slack.listeners.deps import Deps

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def _take(deps: Deps, client: WebClient, body: dict[str, Any], thread_ts: str) -> None:
    """Write the question down and queue it, once per Slack event however often Slack
    delivers it (the event id is the ask's key); one whose answer will be late is told how
    many questions wait before it."""
    event = body["event"]
    event_id = body.get("event_id")
    waiting = ahead(deps)
    take(
        deps,
        client,
        NewAsk(
            dedup_key=f"event:{event_id}" if isinstance(event_id, str) and event_id else None,
            kind="event",
            channel=event["channel"],
            user_id=event.get("user"),
            thread_ts=thread_ts,
            question=MENTION.sub(" ", event.get("text", "")).strip(),
            team_id=deps.library.workspace,
            recipient_team_id=_team(body, event),
        ),
    )
    if waiting is None or not event.get("user"):
        return
    try:
        client.chat_postEphemeral(
            channel=event["channel"],
            user=event["user"],
            thread_ts=thread_ts,
            text=busy_text(waiting),
        )
    except (SlackApiError, OSError) as exc:  # the answer still comes
        log.warning("could not say the bot is busy: %s", type(exc).__name__)


def _team(body: dict[str, Any], event: dict[str, Any]) -> str | None:
    """The asker's workspace: the event's own team, or the one the event was sent for."""
    for team in (event.get("user_team"), event.get("team"), body.get("team_id")):
        if isinstance(team, str) and team:
            return team
    return None


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
    if context.bot_user_id and event.get("user") == context.bot_user_id:
        return  # its own message, however Slack labelled it
    thread_ts = event.get("thread_ts")
    if event.get("channel_type") == "im":
        # Every direct message to the bot is a question: a new one is answered in a thread
        # under it, which holds its follow-ups (the agent DM's conversations are threads).
        thread_ts = thread_ts or event["ts"]
    elif not thread_ts or thread_ts == event.get("ts"):
        return
    else:
        if context.bot_user_id and f"<@{context.bot_user_id}>" in event.get("text", ""):
            return  # the app_mention event for this message answers it
        if not thread_memory.is_bot_thread(deps.library, event["channel"], thread_ts):
            return
    _take(deps, client, body, thread_ts)


def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """An @-mention anywhere: answered in a thread under that message."""
    if event.get("bot_id") or not _well_formed(event):
        return
    _take(deps, client, body, event.get("thread_ts") or event["ts"])


def register(app: App) -> None:
    """Wire message and app_mention events into the app."""
    app.event("message")(on_message)
    app.event("app_mention")(on_mention)
