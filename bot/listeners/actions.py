"""Helpful / Not helpful buttons: stored per person per answer, the last click wins."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import blocks
from bot.listeners import Deps
from db.conversations import record_feedback


def register(app: App, deps: Deps) -> None:
    """Wire the feedback buttons into the app."""

    def store(body: dict[str, Any], respond: Respond, *, helpful: bool) -> None:
        action = body.get("actions", [{}])[0]
        user = body.get("user", {}).get("id")
        try:
            turn_id = int(action.get("value", ""))
        except ValueError:
            turn_id = -1
        with deps.session_factory.begin() as session:
            stored = user is not None and record_feedback(session, turn_id, user, helpful=helpful)
        respond(
            **blocks.ephemeral(blocks.FEEDBACK_THANKS[helpful] if stored else blocks.FEEDBACK_GONE),
            replace_original=False,
        )

    @app.action(blocks.HELPFUL_ACTION)
    def helpful(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        store(body, respond, helpful=True)

    @app.action(blocks.NOT_HELPFUL_ACTION)
    def not_helpful(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        store(body, respond, helpful=False)
