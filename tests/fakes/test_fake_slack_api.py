"""The Slack Web API stand-in speaks the wire format the real slack_sdk client expects."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, SlackApiStandIn
from tests.fakes.slack_oauth import BOT_SCOPES, INSTALLER_USER_ID

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


# slack_sdk logs every response body at DEBUG, and oauth.v2.access's carries the new bot
# token: the suite's secret-in-logs guard would (rightly) fail on it. The clients that
# exchange codes here log at INFO, as the bot's own OAuth client must.
QUIET = logging.getLogger("tests.fakes.oauth_client")
QUIET.setLevel(logging.INFO)


def oauth_client(slack: SlackApiStandIn) -> WebClient:
    """A tokenless client, as Bolt's OAuthFlow and TokenRotator use, that keeps the tokens
    it receives out of the log."""
    return WebClient(base_url=slack.url, logger=QUIET)


def exchange(slack: SlackApiStandIn, code: str) -> Any:
    return oauth_client(slack).oauth_v2_access(
        client_id=slack.client_id, client_secret=slack.client_secret, code=code
    )


def refresh(slack: SlackApiStandIn, refresh_token: str) -> Any:
    return oauth_client(slack).oauth_v2_access(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        grant_type="refresh_token",
        refresh_token=refresh_token,
    )


def slack_error(call: Any) -> str:
    """The Slack error a call raises (`call` takes no arguments)."""
    with pytest.raises(SlackApiError) as raised:
        call()
    return str(raised.value.response["error"])


def test_a_code_is_exchanged_once_for_a_bot_token_of_its_workspace(
    slack: SlackApiStandIn,
) -> None:
    code = slack.add_workspace("T0ALPHA", team_name="Alpha")
    installed = exchange(slack, code)
    token = installed["access_token"]
    assert token.startswith("xoxb-T0ALPHA-")
    assert {k: v for k, v in installed.data.items() if k != "access_token"} == {
        "ok": True,
        "app_id": "A0STANDIN",
        "authed_user": {"id": INSTALLER_USER_ID},
        "scope": BOT_SCOPES,
        "token_type": "bot",
        "bot_user_id": "UBOT0ALPHA",
        "team": {"id": "T0ALPHA", "name": "Alpha"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    assert "refresh_token" not in installed.data  # not a rotating workspace
    assert slack.team_of_token(token) == "T0ALPHA"

    assert slack_error(lambda: exchange(slack, code)) == "invalid_code"
    assert slack_error(lambda: exchange(slack, "0.never-issued")) == "invalid_code"
    # A reinstall: a new code, a new token, the same bot user.
    again = exchange(slack, slack.add_workspace("T0ALPHA", team_name="Alpha"))
    assert again["access_token"] != token and again["bot_user_id"] == "UBOT0ALPHA"
    assert exchange(slack, slack.new_code("T0ALPHA"))["team"]["id"] == "T0ALPHA"

    calls = slack.calls_to("oauth.v2.access")
    assert [call.params for call in calls[:2]] == [{"code": code}, {"code": code}]
    assert all(call.token is None for call in calls)


def test_the_client_credentials_are_checked_by_basic_auth_or_form_fields(
    slack: SlackApiStandIn,
) -> None:
    code = slack.add_workspace("T0ALPHA")
    client = oauth_client(slack)
    wrong_secret = slack_error(
        lambda: client.oauth_v2_access(client_id="1111.2222", client_secret="guess", code=code)
    )
    assert wrong_secret == "bad_client_secret"
    wrong_id = slack_error(
        lambda: client.oauth_v2_access(client_id="9.9", client_secret="stand-in-secret", code=code)
    )
    assert wrong_id == "invalid_client_id"
    unauthenticated = slack_error(lambda: client.api_call("oauth.v2.access", data={"code": code}))
    assert unauthenticated == "invalid_client_id"

    # The refused attempts did not use the code up; form fields work as well as Basic auth.
    form = {"client_id": "1111.2222", "client_secret": "stand-in-secret", "code": code}
    assert client.api_call("oauth.v2.access", data=form)["team"]["id"] == "T0ALPHA"
    recorded = [call.params for call in slack.calls_to("oauth.v2.access")]
    assert recorded[-1] == {"client_id": "1111.2222", "code": code}
    assert not any("stand-in-secret" in json.dumps(params) for params in recorded)


def test_the_app_credentials_are_configurable() -> None:
    stand_in = SlackApiStandIn(client_id="42.42", client_secret="other", app_id="A0OTHER").start()
    try:
        code = stand_in.add_workspace("T0ALPHA")
        default = oauth_client(stand_in).oauth_v2_access
        refused = slack_error(
            lambda: default(client_id="1111.2222", client_secret="stand-in-secret", code=code)
        )
        assert refused == "invalid_client_id"
        assert exchange(stand_in, code)["app_id"] == "A0OTHER"
    finally:
        stand_in.stop()


def test_a_refresh_grant_rotates_both_tokens_and_the_used_refresh_token_is_refused(
    slack: SlackApiStandIn,
) -> None:
    code = slack.add_workspace(
        "T0GRID1", enterprise_id="E0GRID", enterprise_name="Grid", rotating=True, expires_in=600
    )
    installed = exchange(slack, code)
    first, first_refresh = installed["access_token"], installed["refresh_token"]
    assert first_refresh.startswith("xoxe-1-") and installed["expires_in"] == 600
    assert installed["enterprise"] == {"id": "E0GRID", "name": "Grid"}

    rotated = refresh(slack, first_refresh)
    second, second_refresh = rotated["access_token"], rotated["refresh_token"]
    assert second.startswith("xoxb-T0GRID1-") and second != first
    assert second_refresh.startswith("xoxe-1-") and second_refresh != first_refresh
    assert {
        k: v for k, v in rotated.data.items() if k not in {"access_token", "refresh_token"}
    } == {
        "ok": True,
        "app_id": "A0STANDIN",
        "scope": BOT_SCOPES,
        "token_type": "bot",
        "expires_in": 600,
        "bot_user_id": "UBOT0GRID1",
        "team": {"id": "T0GRID1", "name": "Workspace T0GRID1"},
        "enterprise": {"id": "E0GRID", "name": "Grid"},
        "is_enterprise_install": False,
    }
    assert slack_error(lambda: refresh(slack, first_refresh)) == "invalid_refresh_token"
    assert slack_error(lambda: refresh(slack, "xoxe-1-never-issued")) == "invalid_refresh_token"
    assert refresh(slack, second_refresh)["ok"]

    # The replaced access token works until it lapses; both name the workspace.
    for token in (first, second):
        assert WebClient(token=token, base_url=slack.url).auth_test()["team_id"] == "T0GRID1"
        assert slack.team_of_token(token) == "T0GRID1"
    [*_, last] = slack.calls_to("oauth.v2.access")
    assert last.params == {"grant_type": "refresh_token", "refresh_token": second_refresh}
    assert last.token is None


def test_auth_test_answers_the_workspace_of_each_issued_token(slack: SlackApiStandIn) -> None:
    alpha = exchange(slack, slack.add_workspace("T0ALPHA", team_name="Alpha"))["access_token"]
    beta = exchange(
        slack, slack.add_workspace("T0BETA", enterprise_id="E0ORG", bot_user_id="U0BETABOT")
    )["access_token"]
    answers = [WebClient(token=t, base_url=slack.url).auth_test().data for t in (alpha, beta)]
    assert answers == [
        {
            "ok": True,
            "url": "https://t0alpha.slack.com/",
            "team": "Alpha",
            "user": "episode-bot",
            "team_id": "T0ALPHA",
            "user_id": "UBOT0ALPHA",
            "bot_id": "BBOT0ALPHA",
            "enterprise_id": None,
            "is_enterprise_install": False,
        },
        {
            "ok": True,
            "url": "https://t0beta.slack.com/",
            "team": "Workspace T0BETA",
            "user": "episode-bot",
            "team_id": "T0BETA",
            "user_id": "U0BETABOT",
            "bot_id": "BBOT0BETA",
            "enterprise_id": "E0ORG",
            "is_enterprise_install": False,
        },
    ]
    WebClient(token=beta, base_url=slack.url).chat_postMessage(channel="C1", text="hi")
    assert slack.tokens_used("auth.test") == [alpha, beta]
    assert [slack.team_of_token(t) for t in slack.tokens_used("chat.postMessage")] == ["T0BETA"]


def test_an_expired_token_is_refused_everywhere_and_the_others_keep_working(
    slack: SlackApiStandIn,
) -> None:
    alpha = exchange(slack, slack.add_workspace("T0ALPHA"))["access_token"]
    beta = exchange(slack, slack.add_workspace("T0BETA"))["access_token"]
    slack.expire_token(alpha)
    expired = WebClient(token=alpha, base_url=slack.url)
    assert slack_error(expired.auth_test) == "token_expired"
    assert slack_error(lambda: expired.chat_postMessage(channel="C1", text="x")) == "token_expired"
    assert slack.messages_in("C1") == []
    assert WebClient(token=beta, base_url=slack.url).auth_test()["team_id"] == "T0BETA"

    # A token the stand-in never issued can be expired too.
    slack.expire_token(TOKEN)
    assert slack_error(WebClient(token=TOKEN, base_url=slack.url).auth_test) == "token_expired"


def test_a_rotating_token_lapses_after_expires_in(slack: SlackApiStandIn) -> None:
    installed = exchange(slack, slack.add_workspace("T0ALPHA", rotating=True, expires_in=0))
    client = WebClient(token=installed["access_token"], base_url=slack.url)
    assert slack_error(client.auth_test) == "token_expired"
    fresh = refresh(slack, installed["refresh_token"])  # what the TokenRotator does then
    assert fresh["expires_in"] == 0


def test_a_revoked_workspace_refuses_all_its_tokens_until_reinstalled(
    slack: SlackApiStandIn,
) -> None:
    installed = exchange(slack, slack.add_workspace("T0ALPHA", rotating=True))
    rotated = refresh(slack, installed["refresh_token"])
    unused = slack.new_code("T0ALPHA")
    other = exchange(slack, slack.add_workspace("T0BETA"))["access_token"]

    slack.revoke_workspace("T0ALPHA")
    for token in (installed["access_token"], rotated["access_token"]):
        client = WebClient(token=token, base_url=slack.url)
        assert slack_error(client.auth_test) == "invalid_auth"
        assert slack_error(lambda c=client: c.chat_postMessage(channel="C1", text="x")) == (
            "invalid_auth"
        )
        assert slack.team_of_token(token) == "T0ALPHA"  # still known, just refused
    assert slack_error(lambda: refresh(slack, rotated["refresh_token"])) == "invalid_refresh_token"
    assert slack_error(lambda: exchange(slack, unused)) == "invalid_code"
    assert WebClient(token=other, base_url=slack.url).auth_test()["team_id"] == "T0BETA"

    reinstalled = exchange(slack, slack.add_workspace("T0ALPHA", rotating=True))["access_token"]
    assert WebClient(token=reinstalled, base_url=slack.url).auth_test()["team_id"] == "T0ALPHA"


def test_a_token_it_never_issued_answers_as_the_fixed_workspace(slack: SlackApiStandIn) -> None:
    exchange(slack, slack.add_workspace("T0ALPHA"))
    slack.revoke_workspace("T0ALPHA")
    client = WebClient(token=TOKEN, base_url=slack.url)
    answer = client.auth_test()
    assert (answer["team_id"], answer["user_id"]) == (TEAM_ID, BOT_USER_ID)
    assert client.chat_postMessage(channel="C1", text="still here")["ok"]
    assert slack.team_of_token(TOKEN) is None
    assert slack.tokens_used("auth.test") == [TOKEN]


def test_bolts_oauth_flow_installs_and_the_token_rotator_refreshes(
    slack: SlackApiStandIn, tmp_path: Path
) -> None:
    settings = OAuthSettings(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        scopes=BOT_SCOPES.split(","),
        installation_store=FileInstallationStore(base_dir=str(tmp_path / "installations")),
        state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(tmp_path / "s")),
    )
    flow = OAuthFlow(client=oauth_client(slack), settings=settings)
    code = slack.add_workspace("T0ALPHA", team_name="Alpha", rotating=True, expires_in=3600)
    installation = flow.run_installation(code)
    assert installation is not None
    assert (installation.team_id, installation.team_name) == ("T0ALPHA", "Alpha")
    assert (installation.bot_id, installation.bot_user_id) == ("BBOT0ALPHA", "UBOT0ALPHA")
    assert installation.app_id == "A0STANDIN" and installation.user_id == INSTALLER_USER_ID
    assert installation.bot_refresh_token is not None
    assert slack.tokens_used("auth.test") == [installation.bot_token]

    rotator = TokenRotator(
        client_id=slack.client_id, client_secret=slack.client_secret, client=oauth_client(slack)
    )
    # An hour left is inside the rotator's default two-hour margin: it refreshes.
    bot = rotator.perform_bot_token_rotation(bot=installation.to_bot())
    assert bot is not None and bot.bot_token != installation.bot_token
    assert bot.bot_token_expires_at is not None and bot.bot_token_expires_at > time.time()
    assert WebClient(token=bot.bot_token, base_url=slack.url).auth_test()["team_id"] == "T0ALPHA"
    assert flow.run_installation(code) is None  # the code was used up
