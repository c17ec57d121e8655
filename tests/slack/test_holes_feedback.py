"""A feedback click is stored only when it is on the answer it names: an assistant turn of a
conversation in the click's channel, on that answer's message or in its thread. Clicks go
through the real Bolt app (signed as Slack signs them); answers are posted, and clicks
acknowledged, by the real Slack SDK against the loopback stand-in."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from sqlalchemy import select

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services.library import Library
from bot.slack import blocks
from bot.slack.app import assemble
from bot.slack.client import web_client
from bot.slack.listeners.deps import Deps
from bot.slack.listeners.replies import answer_and_post
from db.models import Feedback
from tests.fakes.signed_requests import signed_bolt_request, wait_for
from tests.fakes.slack_api import SlackApiStandIn

TOKEN = "xoxb-feedback-holes-token"
SECRET = "feedbackholessecret0123456789ab"
CHANNEL = "C0ANSWERS"


@pytest.fixture
def bot(library: Library, slack: SlackApiStandIn) -> Iterator[tuple[App, Deps]]:
    """The Bolt app on the seeded library, answering offline."""
    settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url)
    app, deps = assemble(settings, library, OfflineAnswerer())
    yield app, deps
    deps.answer_pool.shutdown(wait=True)


def _answer(deps: Deps, slack: SlackApiStandIn, question: str, thread: str | None) -> str:
    """Post an answer as the bot does; the ts of its message."""
    client = web_client(deps.settings)
    answer_and_post(
        deps, client, channel=CHANNEL, question=question, user_id="U0ASKER", thread_ts=thread
    )
    return str(slack.channel_messages[CHANNEL][-1]["ts"])


def _button_value(slack: SlackApiStandIn, ts: str) -> int:
    [message] = [m for m in slack.channel_messages[CHANNEL] if m["ts"] == ts]
    feedback = blocks.feedback_value(
        message["blocks"][-1]["elements"][0]["positive_button"]["value"]
    )
    assert feedback is not None
    return feedback[1]


def _click(
    app: App,
    slack: SlackApiStandIn,
    value: int,
    *,
    channel: str = CHANNEL,
    message_ts: str,
    thread_ts: str | None = None,
) -> str:
    """A Helpful click on Slack's feedback buttons, as Slack sends it; the ephemeral reply
    the clicker got."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "user": "UBOT00001"}
    if thread_ts:
        container["thread_ts"] = message["thread_ts"] = thread_ts
    payload = {
        "type": "block_actions",
        "user": {"id": "U0CLICKER"},
        "team": {"id": "T00000001"},
        "channel": {"id": channel},
        "container": container,
        "message": message,
        "response_url": slack.response_url,
        "trigger_id": "1.2.3",
        "api_app_id": "A00000001",
        "actions": [
            {
                "action_id": blocks.FEEDBACK_ACTION,
                "block_id": "b1",
                "type": "feedback_buttons",
                "value": f"{blocks.HELPFUL_VALUE}:{value}",
                "action_ts": "1700000000.000002",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    before = len(slack.calls_to("response_url"))
    assert app.dispatch(signed_bolt_request(body, SECRET)).status == 200
    assert wait_for(lambda: len(slack.calls_to("response_url")) > before)
    return str(slack.calls_to("response_url")[-1].params["text"])


def _stored(library: Library) -> list[tuple[int, str]]:
    with library.sessions() as session:
        return [(f.turn_id, f.user_id) for f in session.scalars(select(Feedback))]


def test_a_click_is_stored_only_on_the_answer_it_names(
    bot: tuple[App, Deps],
    slack: SlackApiStandIn,
    library: Library,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, deps = bot
    root_ts = _answer(deps, slack, "Who is Boris?", None)
    root_id = _button_value(slack, root_ts)
    reply_ts = _answer(deps, slack, "What did he build?", root_ts)
    reply_id = _button_value(slack, reply_ts)
    other_ts = _answer(deps, slack, "What is cursorbench?", None)
    question_id = root_id - 1  # the asker's turn, stored just before its answer
    refused = blocks.FEEDBACK_REFUSED

    with caplog.at_level(logging.WARNING, logger="bot.services.feedback"):
        # A person's question is not an answer, even on the right message.
        assert _click(app, slack, question_id, message_ts=root_ts) == refused
        # The right answer, from another channel (a shared copy of the message, say).
        assert _click(app, slack, root_id, channel="C0ELSEWHERE", message_ts=root_ts) == refused
        # The right channel, but the buttons of another conversation's message.
        assert _click(app, slack, root_id, message_ts=other_ts) == refused
        # The root message carries its own answer's buttons, not a follow-up's.
        assert _click(app, slack, reply_id, message_ts=root_ts) == refused
    assert _stored(library) == []
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 4

    assert _click(app, slack, root_id, message_ts=root_ts) == blocks.FEEDBACK_THANKS[True]
    follow_up = _click(app, slack, reply_id, message_ts=reply_ts, thread_ts=root_ts)
    assert follow_up == blocks.FEEDBACK_THANKS[True]
    assert sorted(_stored(library)) == [(root_id, "U0CLICKER"), (reply_id, "U0CLICKER")]
    # An answer that is gone still says so.
    assert _click(app, slack, 999_999, message_ts=root_ts) == blocks.FEEDBACK_GONE
