"""The screening reads a body as Bolt will: whatever it lets through, Bolt reads the same
way (its own parser, its content-type test, the last of a repeated field)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt.request import BoltRequest

from bot.slack.request_shape import shape_problem, spelled_for_bolt

FORM = "application/x-www-form-urlencoded"
CLICK = json.dumps(
    {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a", "value": "1"}]}
)
COMMAND = {"command": "/episode", "text": "ask Who is Boris?", "user_id": "U1"}


def _bolt_reads(body: str, content_type: str) -> dict[str, object]:
    return BoltRequest(body=body, headers={"content-type": content_type}).body


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ([("payload", CLICK), ("payload", "not json")], "not a JSON object"),
        ([("payload", CLICK), ("payload", "[1]")], "not a JSON object"),
        ([("payload", CLICK), ("payload", '{"type": "block_actions"}')], "names no action"),
        ([("payload", "not json"), ("payload", CLICK)], None),
        ([("payload", CLICK), ("payload", CLICK)], None),
    ],
)
def test_a_repeated_payload_is_judged_by_its_last_value(
    fields: list[tuple[str, str]], problem: str | None
) -> None:
    found = shape_problem(urlencode(fields).encode(), FORM)
    assert found is None if problem is None else problem in str(found)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode(COMMAND), FORM),
        (urlencode({"payload": CLICK}), FORM),
        (urlencode({"payload": CLICK}), FORM + "; charset=utf-8"),
        (json.dumps({"type": "url_verification", "challenge": "c"}), "application/json"),
        (json.dumps({"type": "event_callback", "event": {"type": "message"}}), "text/plain"),
        (json.dumps({"type": "event_callback", "event": {"type": "x"}}), "application/json; x"),
    ],
)
def test_what_passes_is_what_bolt_reads_as_slack_sends_it(body: str, content_type: str) -> None:
    assert shape_problem(body.encode(), content_type) is None
    read = _bolt_reads(body, content_type)
    assert isinstance(read.get("type"), str) or "command" in read


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # Bolt's JSON test is the content type before `;` or a first character `{`; a space
        # first makes it a form, which has no command.
        (" " + json.dumps({"type": "event_callback", "event": {"type": "message"}}), FORM),
        ("[]", "application/json"),
        ('"text"', "application/json"),
        ("[" * 100_000, "application/json"),  # deeper than Python's parser goes
        ("{" * 100_000, FORM),
        (urlencode({"payload": "{}"}), FORM),
        (urlencode({"payload": "{" * 100_000}), FORM),
        ("text=hello", FORM),
        ("", FORM),
    ],
)
def test_what_bolt_cannot_read_as_slack_request_is_refused(body: str, content_type: str) -> None:
    assert shape_problem(body.encode(), content_type)


def test_a_command_that_says_payload_is_spelled_so_bolt_reads_it() -> None:
    body = urlencode({**COMMAND, "text": "ask What is in the payload? payloads, PAYLOAD"})
    assert _bolt_reads(body, FORM) == {}  # Bolt's misreading, the reason for the spelling
    spelled = spelled_for_bolt(body, FORM)
    assert spelled is not None and "payload" not in spelled
    assert dict(parse_qsl(spelled)) == dict(parse_qsl(body))
    assert _bolt_reads(spelled, FORM) == dict(parse_qsl(body))
    assert shape_problem(spelled.encode(), FORM) is None


@pytest.mark.parametrize(
    "body",
    [
        urlencode(COMMAND),
        urlencode({"payload": CLICK}),
        urlencode({"payload": CLICK, "text": "payload"}),
        json.dumps({"type": "event_callback", "event": {"type": "message", "text": "payload"}}),
    ],
)
def test_what_bolt_reads_right_is_left_alone(body: str) -> None:
    content_type = "application/json" if body.startswith("{") else FORM
    assert spelled_for_bolt(body, content_type) is None
