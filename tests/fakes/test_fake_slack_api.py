"""The Slack Web API stand-in speaks the wire format the real slack_sdk client expects."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.fakes.slack_api import BOT_USER_ID, SlackApiStandIn

TOKEN = "xoxb-test-0000-not-a-real-token"


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


THREAD = "1699999999.000100"  # the user's question the bot answers in a thread


@pytest.fixture
def client(slack: SlackApiStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.url)


def test_an_update_edits_the_stored_message_and_history_shows_the_edit(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="C1", text="draft", blocks=[{"type": "divider"}])["ts"]
    other = client.chat_postMessage(channel="C1", text="second", thread_ts=THREAD)["ts"]
    edited = client.chat_update(channel="C1", ts=ts, text="final", blocks=[{"type": "header"}])
    assert edited["message"]["text"] == "final"

    message = slack.message("C1", ts)
    assert message is not None
    assert (message["text"], message["blocks"]) == ("final", [{"type": "header"}])
    assert "streaming" not in message  # only streamed messages have a streaming state
    assert [m["ts"] for m in slack.messages_in("C1")] == [ts, other]
    assert slack.messages_in("C1")[1]["thread_ts"] == THREAD
    history = client.conversations_history(channel="C1")["messages"]
    assert [(m["ts"], m["text"]) for m in history] == [(other, "second"), (ts, "final")]
    assert slack.channel_messages["C1"][0]["text"] == "final"

    with pytest.raises(SlackApiError) as unknown:
        client.chat_update(channel="C1", ts="1700000000.999999", text="nothing there")
    assert unknown.value.response["error"] == "message_not_found"


def test_a_delete_removes_the_message(slack: SlackApiStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="oops")["ts"]
    kept = client.chat_postMessage(channel="C1", text="kept")["ts"]
    assert client.chat_delete(channel="C1", ts=ts)["ok"]
    assert slack.message("C1", ts) is None
    assert [m["ts"] for m in client.conversations_history(channel="C1")["messages"]] == [kept]
    with pytest.raises(SlackApiError) as again:
        client.chat_delete(channel="C1", ts=ts)
    assert again.value.response["error"] == "message_not_found"


def test_the_sdk_chat_stream_helper_streams_the_whole_text_and_the_stop_blocks(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    feedback = [{"type": "context_actions", "elements": []}]
    stream = client.chat_stream(
        channel="C1",
        thread_ts=THREAD,
        recipient_user_id="U0ASKER",
        recipient_team_id="T0TEAM",
        buffer_size=1,
    )
    stream.append(markdown_text="Hello ")  # starts the stream
    assert stream.ts is not None
    midway = slack.message("C1", stream.ts)
    assert midway is not None and midway["streaming"] and midway["streamed_text"] == "Hello "
    stream.append(markdown_text="**world**")  # appends to it
    assert slack.messages_in("C1")[0]["streamed_text"] == "Hello **world**"
    stream.stop(markdown_text="!", blocks=feedback)

    message = slack.message("C1", stream.ts)
    assert message is not None
    assert message["streamed_text"] == message["text"] == "Hello **world**!"
    assert message["blocks"] == feedback and message["thread_ts"] == THREAD
    assert not message["streaming"] and not message["expired"]
    [start] = slack.calls_to("chat.startStream")
    assert start.params["recipient_user_id"] == "U0ASKER"
    assert len(slack.calls_to("chat.appendStream")) == 1
    [shown] = client.conversations_history(channel="C1")["messages"]
    assert (shown["ts"], shown["text"]) == (stream.ts, "Hello **world**!")

    with pytest.raises(SlackApiError) as finished:
        client.chat_appendStream(channel="C1", ts=stream.ts, markdown_text="more")
    assert finished.value.response["error"] == "message_not_in_streaming_state"
    with pytest.raises(SlackApiError) as stopped_twice:
        client.chat_stopStream(channel="C1", ts=stream.ts)
    assert stopped_twice.value.response["error"] == "message_not_in_streaming_state"


def test_a_stream_starts_with_its_text_and_chunks_and_records_task_updates(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    task = {"type": "task_update", "id": "search", "title": "Searching", "status": "in_progress"}
    started = client.chat_startStream(
        channel="C1",
        thread_ts=THREAD,
        markdown_text="Let me look. ",
        chunks=[task, {"type": "markdown_text", "text": "Found it: "}],
    )
    assert started["ok"] and started["channel"] == "C1"
    done = {**task, "status": "complete"}
    client.chat_appendStream(channel="C1", ts=started["ts"], chunks=[done])
    client.chat_appendStream(channel="C1", ts=started["ts"], markdown_text="episode 12.")

    message = slack.message("C1", started["ts"])
    assert message is not None and message["streaming"]
    assert message["text"] == "Let me look. Found it: episode 12."
    assert message["tasks"] == [task, done]

    with pytest.raises(SlackApiError) as no_thread:
        client.api_call("chat.startStream", json={"channel": "C1", "markdown_text": "hi"})
    assert no_thread.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as unknown:
        client.chat_appendStream(channel="C1", ts="1700000000.999999", markdown_text="x")
    assert unknown.value.response["error"] == "message_not_in_streaming_state"


def test_refused_streams_fail_until_allowed_and_fail_next_works_for_streams(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    slack.refuse_streams()
    for _ in range(2):
        with pytest.raises(SlackApiError) as refused:
            client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="hi")
        assert refused.value.response["error"] == "feature_not_enabled"
    slack.refuse_streams("not_allowed_token_type")
    with pytest.raises(SlackApiError) as other:
        client.chat_startStream(channel="C1", thread_ts=THREAD)
    assert other.value.response["error"] == "not_allowed_token_type"
    assert slack.messages_in("C1") == []

    slack.allow_streams()
    ts = client.chat_startStream(channel="C1", thread_ts=THREAD)["ts"]
    slack.fail_next("chat.appendStream", error="ratelimited")
    with pytest.raises(SlackApiError) as limited:
        client.chat_appendStream(channel="C1", ts=ts, markdown_text="lost")
    assert limited.value.response["error"] == "ratelimited"
    client.chat_appendStream(channel="C1", ts=ts, markdown_text="kept")
    message = slack.message("C1", ts)
    assert message is not None and message["text"] == "kept"


def test_a_stream_expires_after_n_appends_and_can_then_be_updated(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    slack.expire_streams_after(2)
    ts = client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="a")["ts"]
    client.chat_appendStream(channel="C1", ts=ts, markdown_text="b")
    client.chat_appendStream(channel="C1", ts=ts, markdown_text="c")
    with pytest.raises(SlackApiError) as expired:
        client.chat_appendStream(channel="C1", ts=ts, markdown_text="d")
    assert expired.value.response["error"] == "message_not_in_streaming_state"
    with pytest.raises(SlackApiError) as stop_expired:
        client.chat_stopStream(channel="C1", ts=ts, markdown_text="e")
    assert stop_expired.value.response["error"] == "message_not_in_streaming_state"
    message = slack.message("C1", ts)
    assert message is not None
    assert (message["text"], message["streaming"], message["expired"]) == ("abc", False, True)

    # The fallback when a stream expires: edit the message into its final form.
    final = [{"type": "section", "text": {"type": "mrkdwn", "text": "abcde"}}]
    client.chat_update(channel="C1", ts=ts, text="abcde", blocks=final)
    message = slack.message("C1", ts)
    assert message is not None
    assert (message["text"], message["blocks"], message["streamed_text"]) == ("abcde", final, "abc")
    assert client.conversations_history(channel="C1")["messages"][0]["text"] == "abcde"


def test_one_stream_can_be_expired_and_an_update_ends_a_live_stream(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    first = client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="1")["ts"]
    second = client.chat_startStream(channel="C1", thread_ts=THREAD, markdown_text="2")["ts"]
    slack.expire_stream("C1", first)
    with pytest.raises(SlackApiError) as expired:
        client.chat_stopStream(channel="C1", ts=first)
    assert expired.value.response["error"] == "message_not_in_streaming_state"
    assert client.chat_appendStream(channel="C1", ts=second, markdown_text="+")["ok"]

    client.chat_update(channel="C1", ts=second, text="edited")
    message = slack.message("C1", second)
    assert message is not None and not message["streaming"] and not message["expired"]
    with pytest.raises(SlackApiError) as ended:
        client.chat_appendStream(channel="C1", ts=second, markdown_text="late")
    assert ended.value.response["error"] == "message_not_in_streaming_state"


def test_a_thread_status_is_kept_until_a_reply_is_posted_there(
    slack: SlackApiStandIn, client: WebClient
) -> None:
    client.assistant_threads_setStatus(
        channel_id="D1", thread_ts=THREAD, status="is searching…", loading_messages=["Hmm"]
    )
    client.assistant_threads_setStatus(channel_id="D1", thread_ts="1.2", status="is thinking…")
    assert slack.statuses == {("D1", THREAD): "is searching…", ("D1", "1.2"): "is thinking…"}
    assert slack.calls_to("assistant.threads.setStatus")[0].params["loading_messages"] == ["Hmm"]

    client.chat_postMessage(channel="D1", text="not in the thread")
    assert ("D1", THREAD) in slack.statuses
    client.chat_postMessage(channel="D1", text="the answer", thread_ts=THREAD)
    assert slack.statuses == {("D1", "1.2"): "is thinking…"}
    client.chat_startStream(channel="D1", thread_ts="1.2")
    assert slack.statuses == {}

    client.assistant_threads_setStatus(channel_id="D1", thread_ts=THREAD, status="is busy")
    client.assistant_threads_setStatus(channel_id="D1", thread_ts=THREAD, status="")
    assert slack.statuses == {}  # an empty status clears it


@pytest.mark.parametrize(
    "prompts",
    [
        [],
        [{"title": f"t{i}", "message": f"m{i}"} for i in range(5)],
        [{"title": "Latest", "message": ""}],
        [{"title": "", "message": "What is new?"}],
        [{"message": "no title"}],
        ["not a dict"],
    ],
)
def test_suggested_prompts_that_slack_would_refuse_are_invalid_arguments(
    client: WebClient, prompts: list[Any]
) -> None:
    with pytest.raises(SlackApiError) as refused:
        client.assistant_threads_setSuggestedPrompts(channel_id="D1", prompts=prompts)
    assert refused.value.response["error"] == "invalid_arguments"


def test_suggested_prompts_are_recorded(slack: SlackApiStandIn, client: WebClient) -> None:
    prompts = [{"title": f"t{i}", "message": f"m{i}"} for i in range(4)]
    response = client.assistant_threads_setSuggestedPrompts(
        channel_id="D1", thread_ts=THREAD, title="Try asking", prompts=prompts
    )
    assert response["ok"]
    [call] = slack.calls_to("assistant.threads.setSuggestedPrompts")
    assert call.params == {
        "channel_id": "D1",
        "thread_ts": THREAD,
        "title": "Try asking",
        "prompts": prompts,
    }


def test_response_url_posts_are_recorded_whatever_they_ask(slack: SlackApiStandIn) -> None:
    for body in ({"delete_original": True}, {"replace_original": True, "text": "new"}):
        request = urllib.request.Request(
            slack.response_url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.loads(answer.read())["ok"]
    assert [call.params for call in slack.calls_to("response_url")] == [
        {"delete_original": True},
        {"replace_original": True, "text": "new"},
    ]
