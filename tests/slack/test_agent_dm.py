"""The agent DM, through the real Bolt app with requests signed as Slack signs them: opening
the Messages tab suggests three questions about the DM's episode (or the newest), for the
whole DM; a question typed there streams its answer in its thread, follow-ups too."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from slack_bolt import App

from bot.answering.claude.answerer import ClaudeAnswerer
from bot.answering.claude.client import build_client
from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services.library import Library
from bot.slack import blocks
from bot.slack.app import build_deps, create_app
from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.signed_requests import JSON, signed_bolt_request, wait_for
from tests.fakes.slack_api import TEAM_ID, SlackApiStandIn

TOKEN = "xoxb-agent-dm-token"
SECRET = "agentdmsecret0123456789abcdefgh"
KEY = "sk-ant-api03-agent-dm-test-key-2f8e"
DM = "D0AGENT01"
EVENTS = itertools.count(1)


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY, search_first=False).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def app(library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn) -> Iterator[App]:
    settings = Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url)
    client = build_client(KEY, claude_api.url, timeout=httpx2.Timeout(3.0, connect=1.0))
    answerer = ClaudeAnswerer(client, "claude-sonnet-5-5", OfflineAnswerer())
    deps = build_deps(settings, library, answerer)
    yield create_app(settings, library, answerer, deps=deps)
    deps.answer_pool.shutdown(wait=True)


def _send_event(app: App, event: dict[str, Any]) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A00000001",
            "event_id": f"Ev0AGENTDM{next(EVENTS)}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    assert app.dispatch(signed_bolt_request(body, SECRET, content_type=JSON)).status == 200


def test_opening_the_messages_tab_suggests_three_questions_about_the_newest_episode(
    app: App, slack: SlackApiStandIn
) -> None:
    _send_event(app, {"type": "app_home_opened", "user": "U0ASKER", "channel": DM, "tab": "home"})
    _send_event(
        app, {"type": "app_home_opened", "user": "U0ASKER", "channel": DM, "tab": "messages"}
    )
    assert wait_for(lambda: bool(slack.calls_to("assistant.threads.setSuggestedPrompts")))
    time.sleep(0.2)
    [call] = slack.calls_to("assistant.threads.setSuggestedPrompts")  # the Home tab: none
    assert call.params["channel_id"] == DM
    assert "thread_ts" not in call.params  # under the agent experience: the whole DM
    assert call.params["title"].startswith("Ask about Anthropic's CPO")
    prompts = call.params["prompts"]
    assert len(prompts) == 3
    # Points the episode's own summary makes (the seed names no guest of its own).
    assert prompts[0]["message"] == (
        "What does the episode say about “AI capabilities are evolving faster than expected”?"
    )
    assert all(len(p["title"]) <= blocks.PROMPT_TITLE for p in prompts)


def test_a_question_in_the_dm_streams_its_answer_in_its_thread_and_follow_ups_too(
    app: App, slack: SlackApiStandIn
) -> None:
    question = {
        "type": "message",
        "channel": DM,
        "channel_type": "im",
        "user": "U0ASKER",
        "text": "What share of Claude Code is written by Claude?",
        "ts": "1700000700.000100",
    }
    _send_event(app, question)
    assert wait_for(lambda: len(slack.calls_to("chat.stopStream")) == 1)
    [status, *_] = slack.calls_to("assistant.threads.setStatus")
    assert status.params["thread_ts"] == question["ts"]
    [answer] = slack.messages_in(DM)
    assert answer["thread_ts"] == question["ts"] and "[1]" in answer["streamed_text"]
    # A follow-up typed in that thread is answered there, as a follow-up.
    _send_event(
        app, {**question, "text": "why?", "ts": "1700000700.000200", "thread_ts": question["ts"]}
    )
    assert wait_for(lambda: len(slack.calls_to("chat.stopStream")) == 2)
    follow_up = slack.messages_in(DM)[-1]
    assert follow_up["thread_ts"] == question["ts"]
    assert not slack.calls_to("chat.postMessage")  # both streamed, nothing posted twice
