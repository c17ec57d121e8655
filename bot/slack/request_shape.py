"""Refusing what is not a Slack request before Bolt sees it: a body that is not the JSON or
form Slack sends, or an event without its parts, gets one plain 400 instead of an exception
deep inside the framework. Only signed requests get this far (a bad signature is a 401)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _event_problem(data: dict[str, Any]) -> str | None:
    if not isinstance(data.get("type"), str):
        return "The request has no type."
    if data["type"] != "event_callback":
        return None
    event = data.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "The event has no type."
    return None


def shape_problem(body: bytes, content_type: str) -> str | None:
    """Why `body` cannot be a request from Slack, in one sentence, or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not UTF-8."
    # Bolt reads a body as JSON by its content type or by its first character; so do we.
    if content_type.startswith("application/json") or text.lstrip().startswith("{"):
        data = _json_object(text)
        return "The request body is not a JSON object." if data is None else _event_problem(data)
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        payload = _json_object(form["payload"][0])
        if payload is None:
            return "The interaction payload is not a JSON object."
        if not isinstance(payload.get("type"), str):
            return "The interaction payload has no type."
        actions = payload.get("actions")
        if payload["type"] == "block_actions" and not (
            isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)
        ):
            return "The button click names no action."
        return None
    if "command" in form:
        return None
    return "The request is neither a slash command, an event nor an interaction."
