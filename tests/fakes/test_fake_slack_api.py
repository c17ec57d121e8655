"""The Slack Web API stand-in speaks the wire format the real slack_sdk client expects."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.fakes.slack_api import BOT_USER_ID, SlackApiStandIn

TOKEN = "xoxb-test-0000-not-a-real-token"


@pytest.fixture
def slack() -> Iterator[SlackApiStandIn]:
    stand_in = SlackApiStandIn().start()
    yield stand_in
    stand_in.stop()


def test_real_client_posts_and_the_call_is_recorded(slack: SlackApiStandIn) -> None:
    client = WebClient(token=TOKEN, base_url=slack.url)
    assert client.auth_test()["user_id"] == BOT_USER_ID
    response = client.chat_postMessage(channel="C123", text="hello", blocks=[{"type": "divider"}])
    assert response["ok"] and response["channel"] == "C123" and response["ts"]
    [call] = slack.calls_to("chat.postMessage")
    assert call.token == TOKEN
    assert call.params["channel"] == "C123" and call.params["text"] == "hello"


def test_a_429_is_waited_out_by_the_sdk_retry_handler_and_posts_once(
    slack: SlackApiStandIn,
) -> None:
    client = WebClient(token=TOKEN, base_url=slack.url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    slack.fail_next("chat.postMessage", retry_after=1)
    started = time.monotonic()
    response = client.chat_postMessage(channel="C123", text="after the limit")
    assert response["ok"]
    assert time.monotonic() - started >= 1.0
    assert len(slack.calls_to("chat.postMessage")) == 2  # the refused one and the retry


def test_slack_errors_reach_the_client_as_slack_api_errors(slack: SlackApiStandIn) -> None:
    client = WebClient(token=TOKEN, base_url=slack.url)
    slack.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C999", text="hi")
    assert raised.value.response["error"] == "not_in_channel"
    assert client.chat_postMessage(channel="C999", text="hi")["ok"]  # only the next call

    with pytest.raises(SlackApiError) as unauthenticated:
        WebClient(base_url=slack.url).chat_postMessage(channel="C1", text="no token")
    assert unauthenticated.value.response["error"] == "not_authed"
