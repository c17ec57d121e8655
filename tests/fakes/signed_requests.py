"""Requests to the bot's /slack/events, signed exactly as Slack signs them: the v0 HMAC-SHA256
of `v0:{timestamp}:{body}` with the app's signing secret."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from slack_bolt import BoltRequest

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def post_signed(
    url: str,
    body: str,
    secret: str,
    *,
    content_type: str = FORM,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, float]:
    """POST `body` signed with `secret`; returns (status, response body, seconds taken)."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
            **(headers or {}),
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.perf_counter() - started


def signed_bolt_request(body: str, secret: str, *, content_type: str = FORM) -> BoltRequest:
    """A Bolt request carrying `body` signed with `secret` as Slack signs it, for
    `App.dispatch` (the app's own signature check passes, as for a real request)."""
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "content-type": [content_type],
        "x-slack-request-timestamp": [stamp],
        "x-slack-signature": [f"v0={digest.hexdigest()}"],
    }
    return BoltRequest(body=body, headers=headers)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether `predicate` came true within `timeout` seconds (checked every 20 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
