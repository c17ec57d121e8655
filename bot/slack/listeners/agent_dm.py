"""The agent DM: opening the bot's Messages tab shows three suggested questions about the
conversation's episode (or the newest); a question typed there is answered in its thread,
streamed like any other (bot/slack/listeners/threads.py takes the message)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.services.starters import starters_for
from bot.slack import blocks
from bot.slack.listeners.deps import Deps

log = logging.getLogger(__name__)


def on_home_opened(event: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """The Messages tab opened: suggest questions there (under the agent experience, for
    the whole DM: no thread is named)."""
    channel = event.get("channel")
    if event.get("tab") != "messages" or not isinstance(channel, str):
        return
    # Bolt has acknowledged the event already; one quick read and one call, not queued
    # behind the answers on the answer pool.
    _suggest(deps, client, channel)


def _suggest(deps: Deps, client: WebClient, channel: str) -> None:
    try:
        title, prompts = blocks.starter_prompts(starters_for(deps.library, channel))
    except SQLAlchemyError as exc:  # no suggestions this time; questions still work
        log.warning("could not read the library for suggested questions: %s", type(exc).__name__)
        return
    try:
        client.assistant_threads_setSuggestedPrompts(
            channel_id=channel, title=title, prompts=prompts
        )
    except (SlackApiError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack did not take the suggested questions: %s", error)


def register(app: App) -> None:
    """Wire the Messages tab into the app."""
    app.event("app_home_opened")(on_home_opened)
