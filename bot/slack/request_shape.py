"""Refusing what is not a Slack request before Bolt sees it: a body that is not the JSON or
form Slack sends, or an event without its parts, gets one plain 400 instead of an exception
deep inside the framework. Only signed requests get this far (a bad signature is a 401).

What is checked is what Bolt will read: the body goes through Bolt's own parser, with the
content type cut as Bolt cuts it. A form with `payload=` twice is read by its last value,
JSON is recognised by Bolt's test (not a more lenient one of ours), and so on: a body that
passes here cannot surprise Bolt.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.internals import parse_body


def bolt_content_type(content_type: str) -> str | None:
    """The content type as Bolt's request reads it: before any `;`, not stripped."""
    return content_type.split(";")[0] or None


def reads_as_json(text: str, content_type: str) -> bool:
    """Whether Bolt takes this body for JSON (its test, in `parse_body`)."""
    return bolt_content_type(content_type) == "application/json" or text.startswith("{")


def reads_as_interaction(text: str, content_type: str) -> bool:
    """Whether Bolt takes this body for an interaction's form: any body that is not JSON and
    has the word `payload` anywhere in it, a field or not."""
    return not reads_as_json(text, content_type) and "payload" in text


def spelled_for_bolt(text: str, content_type: str) -> str | None:
    """A form Bolt would misread, spelled so that it reads what Slack sent; None if Bolt
    reads it right already.

    A form that is not an interaction but has the word `payload` in it (`/episode ask what is
    in the payload?`) is taken by Bolt for an interaction and, with no payload field found,
    read as nothing at all: the command is lost. With the word's `a` written `%61`, which
    every form reader decodes back, Bolt reads the same fields, the word included."""
    if not reads_as_interaction(text, content_type):
        return None
    if "payload" in dict(parse_qsl(text, keep_blank_values=True)):
        return None
    return text.replace("payload", "p%61yload")


def _event_problem(data: dict[str, Any]) -> str | None:
    if not isinstance(data.get("type"), str):
        return "The request has no type."
    if data["type"] != "event_callback":
        return None
    event = data.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "The event has no type."
    return None


def _interaction_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "The interaction payload is not a JSON object."
    if not isinstance(payload.get("type"), str):
        return "The interaction payload has no type."
    actions = payload.get("actions")
    if payload["type"] == "block_actions" and not (
        isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)
    ):
        return "The button click names no action."
    return None


def shape_problem(body: bytes, content_type: str) -> str | None:
    """Why `body` cannot be a request from Slack, as Bolt will read it, in one sentence; or
    None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not UTF-8."
    try:
        data = parse_body(text, bolt_content_type(content_type))
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        data = None
    if reads_as_json(text, content_type):
        return (
            _event_problem(data)
            if isinstance(data, dict)
            else ("The request body is not a JSON object.")
        )
    if reads_as_interaction(text, content_type):
        if "payload" not in dict(parse_qsl(text, keep_blank_values=True)):
            # Bolt reads such a form as nothing (see spelled_for_bolt).
            return "The request says payload but has no interaction payload."
        return _interaction_problem(data)  # the last `payload=`, as Bolt reads it
    if isinstance(data, dict) and "command" in data:
        return None
    return "The request is neither a slash command, an event nor an interaction."
