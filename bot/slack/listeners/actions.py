"""Helpful / Not helpful: Slack's feedback buttons (and the plain buttons of answers posted
before them), stored per person per answer, the last click wins; a click that is not on the
answer it names is refused (see bot/services/feedback.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.services.feedback import Clicked, ClickPlace, record_click
from bot.slack import blocks
from bot.slack.listeners.deps import Deps

log = logging.getLogger(__name__)
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger "answer id" is no answer of ours
REPLIES = {
    Clicked.STORED: None,  # thanks, by what was clicked
    Clicked.GONE: blocks.FEEDBACK_GONE,
    Clicked.REFUSED: blocks.FEEDBACK_REFUSED,
}


def _text(parent: object, key: str) -> str | None:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, str) and value else None


def click_place(body: dict[str, Any]) -> ClickPlace:
    """Where the clicked button was, from the parts of a block_actions payload Slack sends:
    the channel, and the container (or message) with its ts and thread."""
    container, message = body.get("container"), body.get("message")
    return ClickPlace(
        channel=_text(body.get("channel"), "id") or _text(container, "channel_id"),
        message_ts=_text(container, "message_ts") or _text(message, "ts"),
        thread_ts=_text(container, "thread_ts") or _text(message, "thread_ts"),
    )


def _clicked_value(body: dict[str, Any]) -> object:
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    return action.get("value") if isinstance(action, dict) else None


def _store(
    body: dict[str, Any], respond: Respond, deps: Deps, *, helpful: bool, turn_id: int | None
) -> None:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    clicked = Clicked.GONE
    if isinstance(user_id, str) and turn_id is not None and turn_id <= MAX_ID:
        clicked = record_click(
            deps.library, turn_id, user_id, helpful=helpful, where=click_place(body)
        )
    try:
        respond(
            **blocks.ephemeral(REPLIES[clicked] or blocks.FEEDBACK_THANKS[helpful]),
            replace_original=False,
        )
    except (ValueError, SlackApiError, OSError) as exc:  # no response_url, or Slack down
        log.warning("could not acknowledge a feedback click: %s", type(exc).__name__)


def on_feedback(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """A feedback button clicked: Helpful, or Not helpful (Not for us, under a takeaway);
    which, and the answer, are in its value."""
    ack()
    clicked = blocks.feedback_value(_clicked_value(body))
    if clicked is None:
        _store(body, respond, deps, helpful=False, turn_id=None)  # says it is not stored
        return
    helpful, turn_id = clicked
    _store(body, respond, deps, helpful=helpful, turn_id=turn_id)


def _old_button_turn(body: dict[str, Any]) -> int | None:
    value = _clicked_value(body)
    return int(value) if isinstance(value, str) and blocks.ANSWER_ID.fullmatch(value) else None


def on_helpful(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """Helpful clicked on an answer posted before the feedback buttons."""
    ack()
    _store(body, respond, deps, helpful=True, turn_id=_old_button_turn(body))


def on_not_helpful(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """Not helpful (or Not for us) clicked on a message posted before the feedback buttons."""
    ack()
    _store(body, respond, deps, helpful=False, turn_id=_old_button_turn(body))


def register(app: App) -> None:
    """Wire the feedback buttons (and the plain buttons of older answers) into the app."""
    app.action(blocks.FEEDBACK_ACTION)(on_feedback)
    app.action(blocks.HELPFUL_ACTION)(on_helpful)
    app.action(blocks.NOT_HELPFUL_ACTION)(on_not_helpful)
