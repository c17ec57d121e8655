"""Answers shown as Claude writes them, with the real Slack SDK against the loopback Slack
stand-in and the real Anthropic SDK against the Anthropic stand-in: a thread's answer
streams and ends as a posted answer ends; a slash command's message is posted at once and
updated in place; a refused or expired stream falls back to one message updated in place;
an outage midway ends the message with the offline answer and one line saying so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering.claude.answerer import UNAVAILABLE, ClaudeAnswerer
from bot.answering.claude.client import build_client
from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services.channels import use_episode
from bot.services.library import Library
from bot.slack import blocks
from bot.slack.app import build_deps
from bot.slack.client import web_client
from bot.slack.listeners.deps import Deps
from bot.slack.listeners.replies import answer_and_post
from bot.slack.live_answer import LiveAnswer, Paces, Place
from tests.conftest import SEED_SLUG
from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.slack_api import TEAM_ID, SlackApiStandIn

KEY = "sk-ant-api03-live-answer-test-key-51aa"
TOKEN = "xoxb-live-answer-token"
CHANNEL = "C0LIVE"
ROOT = "1700000500.000100"  # the asker's message, the thread the answer goes in
QUESTION = "What share of Claude Code is written by Claude?"


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY).start()
    stand_in.set_pace(0.2, 1.0)  # a model writing for a second: several updates show
    yield stand_in
    stand_in.stop()


def _deps(library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn | None) -> Deps:
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url)
    if claude_api is None:
        answerer: Any = OfflineAnswerer()
    else:
        client = build_client(KEY, claude_api.url, timeout=httpx2.Timeout(3.0, connect=1.0))
        answerer = ClaudeAnswerer(
            client, "claude-sonnet-5-5", OfflineAnswerer(), budget_seconds=1.0
        )
    deps = build_deps(settings, library, answerer)
    return Deps(
        deps.library,
        deps.answerer,
        deps.answer_pool,
        settings=settings,
        paces=Paces(every_seconds=0.1),
    )


def _focus(library: Library) -> str:
    """Make the seed this channel's episode; its title."""
    title = use_episode(library, CHANNEL, SEED_SLUG)
    assert title is not None
    return title


def _answer(deps: Deps, slack: SlackApiStandIn, *, thread_ts: str | None) -> None:
    answer_and_post(
        deps,
        web_client(deps.settings),
        channel=CHANNEL,
        question=QUESTION,
        user_id="U0ASKER",
        thread_ts=thread_ts,
        team_id=TEAM_ID,
    )


def _methods(slack: SlackApiStandIn) -> list[str]:
    return [c.method for c in slack.calls if c.method != "auth.test"]


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_thread_answer_streams_and_ends_as_a_posted_answer_ends(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    title = _focus(library)
    _answer(_deps(library, slack, claude_api), slack, thread_ts=ROOT)
    methods = _methods(slack)
    assert methods[0] == "assistant.threads.setStatus"  # the moment answering begins
    [status] = slack.calls_to("assistant.threads.setStatus")
    assert status.params["thread_ts"] == ROOT
    assert status.params["status"] == blocks.looking_status(title)
    assert status.params["status"].startswith("is looking in Anthropic")
    [start] = slack.calls_to("chat.startStream")
    assert start.params["recipient_user_id"] == "U0ASKER"
    assert start.params["recipient_team_id"] == TEAM_ID
    assert len(slack.calls_to("chat.appendStream")) >= 1  # it grew as it was written
    assert "chat.postMessage" not in methods and "chat.update" not in methods
    [message] = slack.messages_in(CHANNEL)
    assert not message["streaming"] and message["thread_ts"] == ROOT
    assert "[1]" in message["streamed_text"]
    ending = _dump(message["blocks"])
    assert "turn " in ending and "Mike Krieger" in ending  # the quotes, with who and where
    assert f"From _{blocks.escape(title)}_" in ending
    assert message["blocks"][-1]["type"] == "context_actions"


def test_a_slash_command_answer_is_posted_at_once_and_updated_in_place(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    title = _focus(library)
    _answer(_deps(library, slack, claude_api), slack, thread_ts=None)
    [post] = slack.calls_to("chat.postMessage")
    assert blocks.looking_in(title) in _dump(post.params["blocks"])
    assert "<@U0ASKER> asked" in _dump(post.params["blocks"])
    updates = slack.calls_to("chat.update")
    assert len(updates) >= 2  # the text as it grew, then the finished answer
    assert not slack.calls_to("chat.startStream")
    [message] = slack.messages_in(CHANNEL)
    final = _dump(message["blocks"])
    assert "[1]" in final and blocks.STILL_WRITING not in final
    assert message["blocks"][-1]["type"] == "context_actions"


def test_a_refused_stream_falls_back_to_one_message_updated_in_place(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    _focus(library)
    slack.refuse_streams("channel_type_not_supported")
    _answer(_deps(library, slack, claude_api), slack, thread_ts=ROOT)
    assert len(slack.calls_to("chat.startStream")) == 1
    [post] = slack.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == ROOT
    assert len(slack.calls_to("chat.update")) >= 1
    [message] = slack.messages_in(CHANNEL)  # never two copies
    assert message["blocks"][-1]["type"] == "context_actions"
    assert "[1]" in _dump(message["blocks"])


def test_a_stream_that_expires_midway_is_finished_in_place(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    _focus(library)
    slack.expire_streams_after(1)
    _answer(_deps(library, slack, claude_api), slack, thread_ts=ROOT)
    [start] = slack.calls_to("chat.startStream")
    [message] = slack.messages_in(CHANNEL)
    updates = slack.calls_to("chat.update")
    assert updates and {u.params["ts"] for u in updates} == {message["ts"]}
    assert not slack.calls_to("chat.postMessage")
    final = _dump(message["blocks"])
    assert "[1]" in final and message["blocks"][-1]["type"] == "context_actions"
    assert start.params["thread_ts"] == ROOT


@pytest.mark.parametrize("thread_ts", [ROOT, None], ids=["streamed", "in-place"])
def test_a_claude_outage_midway_ends_with_the_offline_answer_and_one_line_saying_so(
    library: Library,
    slack: SlackApiStandIn,
    claude_api: AnthropicStandIn,
    thread_ts: str | None,
) -> None:
    _focus(library)
    claude_api.fail_next("error_midway", times=5)
    _answer(_deps(library, slack, claude_api), slack, thread_ts=thread_ts)
    [message] = slack.messages_in(CHANNEL)
    final = _dump(message["blocks"])
    assert final.count(UNAVAILABLE) == 1
    assert "They said that" not in final  # nothing of Claude's half answer is left
    assert message["blocks"][-1]["type"] == "context_actions"
    if thread_ts is not None:
        assert slack.calls_to("chat.startStream")  # part of it was streamed first
        assert not message["streaming"]


def test_library_searches_show_in_the_thread_status(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    _answer(_deps(library, slack, claude_api), slack, thread_ts=ROOT)
    statuses = [c.params["status"] for c in slack.calls_to("assistant.threads.setStatus")]
    assert statuses[0] == "is looking across the library…"
    assert any(s.startswith("is searching for “") for s in statuses[1:])
    [message] = slack.messages_in(CHANNEL)
    assert "Let me search" not in message["streamed_text"]


def test_an_offline_answer_is_simply_posted(library: Library, slack: SlackApiStandIn) -> None:
    _focus(library)
    _answer(_deps(library, slack, None), slack, thread_ts=ROOT)
    assert _methods(slack) == ["chat.postMessage"]


def test_a_channel_the_bot_is_not_in_costs_two_refused_posts_not_one_per_word(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    _focus(library)
    slack.fail_next("chat.postMessage", error="not_in_channel", times=100)
    with pytest.raises(SlackApiError):
        _answer(_deps(library, slack, claude_api), slack, thread_ts=None)
    # The placeholder was refused, showing stopped; the finished answer was refused too.
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert not slack.calls_to("chat.update")


def test_a_rate_limited_end_of_a_stream_is_waited_out_and_the_answer_stays(
    library: Library, slack: SlackApiStandIn, claude_api: AnthropicStandIn
) -> None:
    _focus(library)
    slack.fail_next("chat.stopStream", retry_after=1)
    slack.fail_next("chat.appendStream", retry_after=1)  # an update in between: skipped
    _answer(_deps(library, slack, claude_api), slack, thread_ts=ROOT)
    assert len(slack.calls_to("chat.stopStream")) == 2  # the refused one and the retry
    [message] = slack.messages_in(CHANNEL)
    assert message["blocks"][-1]["type"] == "context_actions" and not message["streaming"]
    assert not slack.calls_to("chat.delete") and not slack.calls_to("chat.update")
    assert "[1]" in message["streamed_text"]  # the skipped text came with the next append


def test_text_replaced_midway_moves_the_stream_to_in_place_updates(
    slack: SlackApiStandIn,
) -> None:
    client = WebClient(token=TOKEN, base_url=slack.url)
    live = LiveAnswer(
        client,
        Place(CHANNEL, ROOT, QUESTION, "U0ASKER", TEAM_ID),
        live=True,
        paces=Paces(every_seconds=0.0),
    )
    live.started(None)
    live.writing("Let me search the library for that.")
    live.writing("Mike says most of it is [1]")  # a new round's text: not a continuation
    [message] = slack.messages_in(CHANNEL)
    assert not message["streaming"]  # ended where it was, never appended to
    assert len(slack.calls_to("chat.appendStream")) == 0
    [update] = slack.calls_to("chat.update")
    assert "Mike says most of it is" in _dump(update.params["blocks"])
