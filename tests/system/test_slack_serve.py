"""`episode-bot serve` as Slack uses it: a real subprocess, requests signed exactly as Slack
signs them and sent over HTTP, and the real Web API client talking to a loopback stand-in."""

from __future__ import annotations

import itertools
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.signed_requests import JSON, post_signed
from tests.fakes.slack_api import Call, SlackApiStandIn

SCRIPT = Path(sys.executable).parent / "episode-bot"
BOT_TOKEN = "xoxb-777-episode-bot-test-token-do-not-leak"
SIGNING_SECRET = "5ec7e75ec7e75ec7e75ec7e75ec7e7ab"
ACK_BUDGET_S = 3.0


# Slack's trigger_id is unique per command invocation; a repeated one is a replay.
TRIGGERS = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, slack: SlackApiStandIn) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "ANTHROPIC_"))
    }
    env.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
        LOG_LEVEL="INFO",
    )
    return env


class Server:
    """A running `episode-bot serve` and a way to send it signed requests."""

    def __init__(self, process: subprocess.Popen[str], port: int, slack: SlackApiStandIn):
        self.process, self.port, self.slack = process, port, slack

    def post(
        self, form: dict[str, str], *, timestamp: int | None = None, secret: str = SIGNING_SECRET
    ) -> tuple[int, str, float]:
        """POST a form to /slack/events, signed as Slack signs it."""
        return post_signed(self.events_url, urlencode(form), secret, timestamp=timestamp)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def command(self, text: str, **extra: str) -> dict[str, str]:
        return {
            "command": "/episode",
            "text": text,
            "channel_id": "C0CHANNEL",
            "user_id": "U0ASKER",
            "team_id": "T00000001",
            "trigger_id": f"{next(TRIGGERS)}.1.2",
            "response_url": self.slack.response_url,
            **extra,
        }


def _wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@contextmanager
def running_server(tmp_path: Path, slack: SlackApiStandIn, **extra_env: str) -> Iterator[Server]:
    """`episode-bot serve` as a subprocess; on exit, its log holds no secret or traceback."""
    port = _free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**_env(tmp_path, slack), **extra_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    if not _wait_for(healthy, 30):
        process.kill()
        pytest.fail(f"serve did not start: {process.communicate()[0]}")
    yield Server(process, port, slack)
    process.terminate()
    output = process.communicate(timeout=10)[0]
    secrets = [BOT_TOKEN, SIGNING_SECRET, *(v for k, v in extra_env.items() if "KEY" in k)]
    assert not [secret for secret in secrets if secret in output]
    # Nor any token the stand-in issued (installs by OAuth, refreshed tokens).
    assert not re.search(r"xox[bpe]-[A-Za-z0-9-]{6,}", output)
    # Nor in the database: traces, conversations, anything stored.
    stored = b"".join(
        path.read_bytes() for path in (tmp_path / "data" / "episode-bot").glob("episode-bot.db*")
    )
    assert not [secret for secret in secrets if secret.encode() in stored]
    assert "Traceback" not in output


@pytest.fixture
def server(tmp_path: Path, slack: SlackApiStandIn) -> Iterator[Server]:
    with running_server(tmp_path, slack) as running:
        yield running


def _posts(slack: SlackApiStandIn) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.token == BOT_TOKEN]


def _finished(slack: SlackApiStandIn, channel: str = "C0CHANNEL") -> list[dict[str, Any]]:
    """The channel's messages that hold a finished answer (its feedback buttons), however
    they got there: posted, updated in place, or streamed."""
    return [
        message
        for message in slack.messages_in(channel)
        if any(b.get("type") == "context_actions" for b in message.get("blocks") or [])
    ]


def test_ask_is_acknowledged_fast_and_answered_once_with_citations(server: Server) -> None:
    status, _, seconds = server.post(
        server.command("ask What share of Claude Code is written by Claude?")
    )
    assert status == 200 and seconds < ACK_BUDGET_S
    assert _wait_for(lambda: len(_posts(server.slack)) >= 1)
    time.sleep(0.5)  # nothing more arrives
    [post] = _posts(server.slack)
    assert post.params["channel"] == "C0CHANNEL"
    rendered = (
        post.params["blocks"]
        if isinstance(post.params["blocks"], str)
        else json.dumps(post.params["blocks"], ensure_ascii=False)
    )
    assert "<@U0ASKER> asked" in rendered
    assert "Mike Krieger · turn 23" in rendered and "95%" in rendered
    assert post.params["text"]


@pytest.mark.parametrize("text", ["", "help", "wat"])
def test_help_comes_back_in_the_acknowledgement(server: Server, text: str) -> None:
    status, body, _ = server.post(server.command(text))
    assert status == 200
    reply = json.loads(body)
    assert reply["response_type"] == "ephemeral" and "/episode ask" in reply["text"]
    time.sleep(0.3)
    assert _posts(server.slack) == []


def test_bad_signatures_and_stale_requests_are_refused(server: Server) -> None:
    form = server.command("ask Who is Boris?")
    assert server.post(form, secret="not-the-signing-secret-at-all!!")[0] == 401
    assert server.post(form, timestamp=int(time.time()) - 6 * 60)[0] == 401
    time.sleep(0.5)
    assert _posts(server.slack) == []


def test_a_429_delays_the_post_but_it_still_arrives_once(server: Server) -> None:
    server.slack.fail_next("chat.postMessage", retry_after=1)
    assert server.post(server.command("ask Who is Boris?"))[0] == 200
    assert _wait_for(lambda: any(c.params for c in server.slack.calls_to("chat.postMessage")[1:]))
    time.sleep(0.5)
    calls = server.slack.calls_to("chat.postMessage")
    assert len(calls) == 2  # the refused attempt and the one that landed


def test_a_channel_the_bot_is_not_in_gets_a_private_how_to_fix(server: Server) -> None:
    server.slack.fail_next("chat.postMessage", error="not_in_channel")
    assert server.post(server.command("ask Who is Boris?"))[0] == 200
    assert _wait_for(lambda: bool(server.slack.calls_to("response_url")))
    [reply] = server.slack.calls_to("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert "/invite @episode-bot" in reply.params["text"]


def test_search_episodes_and_use_reply_privately(server: Server) -> None:
    server.post(server.command("search merge queue"))
    server.post(server.command("episodes"))
    server.post(server.command("use no-such-episode"))
    server.post(server.command("use mike-krieger-anthropic-cpo"))
    assert _wait_for(lambda: len(server.slack.calls_to("response_url")) == 4)
    texts = " | ".join(c.params["text"] for c in server.slack.calls_to("response_url"))
    assert "Turns matching “merge queue”" in texts and "turn 21" in texts
    assert "`mike-krieger-anthropic-cpo`" in texts
    assert "No episode has the slug “no-such-episode”" in texts
    assert "Questions in this channel are now about" in texts
    assert _posts(server.slack) == []


def test_a_refused_token_stops_serve_with_one_line(tmp_path: Path, slack: SlackApiStandIn) -> None:
    slack.fail_next("auth.test", error="invalid_auth")
    result = subprocess.run(
        [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(_free_port())],
        env=_env(tmp_path, slack),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        "Error: Slack refused SLACK_BOT_TOKEN: copy the Bot User OAuth Token again from the "
        "app's OAuth & Permissions page."
    ]
    assert BOT_TOKEN not in result.stderr + result.stdout


def _post_json(server: Server, payload: dict[str, object], **headers: str) -> int:
    """POST an Events API payload, signed, as Slack sends events."""
    status, _, _ = post_signed(
        server.events_url, json.dumps(payload), SIGNING_SECRET, content_type=JSON, headers=headers
    )
    return status


def _event(event_id: str, event: dict[str, object]) -> dict[str, object]:
    return {
        "token": "legacy-verification-token-unused",
        "team_id": "T00000001",
        "api_app_id": "A00000001",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": event,
    }


def _ask_and_get_thread(server: Server, question: str) -> str:
    assert server.post(server.command(f"ask {question}"))[0] == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 1)
    # The stand-in answers chat.postMessage with the ts of the message it "posted".
    posted = server.slack.calls_to("chat.postMessage")[0]
    assert "thread_ts" not in posted.params or posted.params["thread_ts"] is None
    return f"1700000000.{1:06d}"


def test_a_follow_up_in_the_thread_is_answered_there_once_using_the_earlier_turns(
    server: Server,
) -> None:
    root = _ask_and_get_thread(server, "How does Mike describe the merge queue problem?")
    reply = {
        "type": "message",
        "channel": "C0CHANNEL",
        "user": "U0OTHER",
        "channel_type": "channel",
        "text": "tell me more about that",
        "ts": "1700000100.000100",
        "thread_ts": root,
    }
    assert _post_json(server, _event("Ev0FOLLOWUP", reply)) == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 2)
    # Slack retries the same event: nothing more is posted.
    assert _post_json(server, _event("Ev0FOLLOWUP", reply), **{"X-Slack-Retry-Num": "1"}) == 200
    time.sleep(1.0)
    posts = _posts(server.slack)
    assert len(posts) == 2
    follow_up = posts[1]
    assert follow_up.params["thread_ts"] == root
    rendered = json.dumps(follow_up.params["blocks"], ensure_ascii=False)
    # "tell me more about that" alone names nothing; the thread's question made it about
    # the merge queue (turns 2 and 21).
    assert "turn 21" in rendered or "turn 2 " in rendered
    assert "merge queue" in rendered


def test_only_human_replies_in_the_bots_threads_are_answered(server: Server) -> None:
    root = _ask_and_get_thread(server, "Who is Boris?")
    ignored = [
        {
            "type": "message",
            "channel": "C0CHANNEL",
            "user": "U1",
            "text": "elsewhere",
            "ts": "1700000200.000100",
        },
        {
            "type": "message",
            "channel": "C0CHANNEL",
            "user": "U1",
            "text": "other thread",
            "ts": "1700000200.000200",
            "thread_ts": "1600000000.000001",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0CHANNEL",
            "ts": "1700000200.000300",
            "thread_ts": root,
        },
        {
            "type": "message",
            "channel": "C0CHANNEL",
            "bot_id": "B0001",
            "text": "a bot",
            "ts": "1700000200.000400",
            "thread_ts": root,
        },
    ]
    for number, event in enumerate(ignored):
        assert _post_json(server, _event(f"Ev0IGNORED{number}", event)) == 200
    time.sleep(1.0)
    assert len(_posts(server.slack)) == 1


def test_a_mention_elsewhere_is_answered_in_a_thread_under_it(server: Server) -> None:
    mention = {
        "type": "app_mention",
        "channel": "C0CHANNEL",
        "user": "U0ASKER",
        "text": "<@UBOT00001> what is cursorbench?",
        "ts": "1700000300.000100",
    }
    assert _post_json(server, _event("Ev0MENTION", mention)) == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 1)
    [post] = _posts(server.slack)
    assert post.params["thread_ts"] == "1700000300.000100"
    assert "turn 67" in json.dumps(post.params["blocks"], ensure_ascii=False)


def test_feedback_clicks_are_stored_last_one_wins_and_counted_in_stats(server: Server) -> None:
    _ask_and_get_thread(server, "Who is Boris?")
    blocks = _posts(server.slack)[0].params["blocks"]
    [buttons] = blocks[-1]["elements"]
    assert blocks[-1]["type"] == "context_actions" and buttons["type"] == "feedback_buttons"
    good, bad = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
    answer_id = good.partition(":")[2]

    def click(action: dict[str, str], user: str) -> None:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T00000001"},
            "channel": {"id": "C0CHANNEL"},
            "response_url": server.slack.response_url,
            "trigger_id": "1.2.3",
            "api_app_id": "A00000001",
            "actions": [{**action, "block_id": "b", "action_ts": "1.2"}],
        }
        before = len(server.slack.calls_to("response_url"))
        assert server.post({"payload": json.dumps(payload)})[0] == 200
        # One click at a time, as people click: wait for its acknowledgement message.
        assert _wait_for(lambda: len(server.slack.calls_to("response_url")) == before + 1)

    def feedback(value: str) -> dict[str, str]:
        return {"action_id": buttons["action_id"], "type": "feedback_buttons", "value": value}

    click(feedback(bad), "U0FIRST")
    click(feedback(good), "U0FIRST")  # changed their mind
    # A button of an answer posted before the feedback buttons still counts.
    click({"action_id": "feedback_helpful", "type": "button", "value": answer_id}, "U0SECOND")
    thanks = [c.params["text"] for c in server.slack.calls_to("response_url")]
    assert thanks == [
        "Thanks: noted that this answer didn't help.",
        "Thanks: noted that this answer helped.",
        "Thanks: noted that this answer helped.",
    ]
    server.post(server.command("stats"))
    assert _wait_for(lambda: len(server.slack.calls_to("response_url")) == 4)
    stats = server.slack.calls_to("response_url")[-1].params["text"]
    assert "Last 7 days: 1 answers, helpful: 100% of 2 rated." in stats


def test_a_direct_message_is_answered_in_its_thread_and_followed_up_there(
    server: Server,
) -> None:
    question = {
        "type": "message",
        "channel": "D0DIRECT",
        "channel_type": "im",
        "user": "U0ASKER",
        "text": "what is cursorbench?",
        "ts": "1700000400.000100",
    }
    assert _post_json(server, _event("Ev0DIRECT", question)) == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 1)
    [answer] = _posts(server.slack)
    assert answer.params["channel"] == "D0DIRECT"
    assert answer.params["thread_ts"] == "1700000400.000100"
    assert "turn 67" in json.dumps(answer.params["blocks"], ensure_ascii=False)
    follow_up = {
        **question,
        "text": "who built it?",
        "ts": "1700000400.000200",
        "thread_ts": "1700000400.000100",
    }
    assert _post_json(server, _event("Ev0DIRECT2", follow_up)) == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 2)
    time.sleep(0.5)
    assert len(_posts(server.slack)) == 2
    assert _posts(server.slack)[1].params["thread_ts"] == "1700000400.000100"


def test_with_a_key_claude_writes_the_answer_and_its_trace_is_stored(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    key = "sk-ant-api03-serve-test-key-91b2"
    claude = AnthropicStandIn(api_key=key).start()
    try:
        with running_server(
            tmp_path, slack, ANTHROPIC_API_KEY=key, ANTHROPIC_BASE_URL=claude.url
        ) as server:
            assert server.post(server.command("use mike-krieger-anthropic-cpo"))[0] == 200
            assert _wait_for(lambda: len(slack.calls_to("response_url")) >= 1)
            status, _, seconds = server.post(server.command("ask Who is Boris?"))
            assert status == 200 and seconds < 3
            assert _wait_for(lambda: len(_finished(slack)) == 1)
            root = "1700000000.000001"  # the stand-in's ts for its first post
            reply = {
                "type": "message",
                "channel": "C0CHANNEL",
                "user": "U0OTHER",
                "channel_type": "channel",
                "text": "What does he work on?",
                "ts": "1700000100.000100",
                "thread_ts": root,
            }
            assert _post_json(server, _event("Ev0CLAUDEFOLLOW", reply)) == 200
            assert _wait_for(lambda: len(_finished(slack)) == 2)
        answer, streamed = _finished(slack)
        assert answer["ts"] == root and len(_posts(slack)) == 1  # one message, updated
        rendered = json.dumps(answer["blocks"], ensure_ascii=False)
        assert "From the episode" in rendered and "[1]" in rendered
        # The follow-up streamed in the thread, and ends with its quotes and buttons.
        assert streamed["thread_ts"] == root and "[1]" in streamed["streamed_text"]
        assert slack.calls_to("chat.startStream") and slack.calls_to("chat.stopStream")
        sent, follow_up = [r.body for r in claude.requests_to("/v1/messages")]
        assert sent["messages"][0]["content"][0]["type"] == "document"
        # The follow-up carried the thread: the first question and Claude's answer to it.
        assert [m["role"] for m in follow_up["messages"]] == ["user", "assistant", "user"]
        assert follow_up["messages"][0]["content"][1]["text"] == "Who is Boris?"
        assert "From the episode" in follow_up["messages"][1]["content"][0]["text"]
        database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                "SELECT answerer, model, input_tokens + cache_creation_input_tokens, "
                "output_tokens, latency_ms, turn_id FROM answer_traces ORDER BY id"
            ).fetchone()
        answerer, model, tokens_in, tokens_out, latency, turn_id = row
        assert answerer == "claude" and model == "claude-sonnet-5-5"
        assert tokens_in > 5000 and tokens_out > 0 and latency > 0 and turn_id is not None
    finally:
        claude.stop()


def test_digest_settings_from_slack_and_a_takeaway_thread_answered_as_follow_ups(
    server: Server, tmp_path: Path
) -> None:
    server.post(server.command("digest here 09:30 Europe/Berlin mon-fri"))
    server.post(server.command("digest here 25:99"))
    server.post(server.command("digest here 09:00 Mars/Olympus"))
    assert _wait_for(lambda: len(server.slack.calls_to("response_url")) == 3)
    replies = [c.params["text"] for c in server.slack.calls_to("response_url")]
    assert replies[0].startswith("A takeaway of the day is posted here at 09:30 Europe/Berlin")
    assert "'25:99' is not a time" in replies[1]
    assert "'Mars/Olympus' is not a time zone" in replies[2]

    posting = subprocess.run(
        [str(SCRIPT), "takeaway", "--post", "--channel", "C0CHANNEL"],
        env=_env(tmp_path, server.slack),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert posting.returncode == 0, posting.stderr
    again = subprocess.run(
        [str(SCRIPT), "takeaway", "--post", "--channel", "C0CHANNEL"],
        env=_env(tmp_path, server.slack),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Nothing posted" in again.stdout  # once a day, however often asked
    [takeaway] = _posts(server.slack)
    assert "Takeaway of the day" in json.dumps(takeaway.params["blocks"])
    root = "1700000000.000001"  # the stand-in's ts for its first post
    reply = {
        "type": "message",
        "channel": "C0CHANNEL",
        "user": "U0OTHER",
        "channel_type": "channel",
        "text": "what does he mean by that?",
        "ts": "1700000200.000100",
        "thread_ts": root,
    }
    assert _post_json(server, _event("Ev0TAKEAWAYREPLY", reply)) == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 2)
    follow_up = _posts(server.slack)[1]
    assert follow_up.params["thread_ts"] == root
    assert "turn " in json.dumps(follow_up.params["blocks"])


def test_use_all_makes_the_channel_ask_across_the_library_with_links_to_the_moment(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    from tests.conftest import FORMATS_DIR, SEED

    loaded = subprocess.run(
        [str(SCRIPT), "ingest", str(SEED), str(FORMATS_DIR / "archive-episode.md")],
        env=_env(tmp_path, slack),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    question = "ask What does cutting scope mean?"
    with running_server(tmp_path, slack) as server:
        server.post(server.command("use mike-krieger-anthropic-cpo"))
        assert _wait_for(lambda: len(slack.calls_to("response_url")) == 1)
        server.post(server.command(question))
        assert _wait_for(lambda: len(_posts(slack)) == 1)

        status, _, seconds = server.post(server.command("use All"))
        assert status == 200 and seconds < ACK_BUDGET_S
        assert _wait_for(lambda: len(slack.calls_to("response_url")) == 2)
        reply = slack.calls_to("response_url")[-1].params
        assert reply["response_type"] == "ephemeral"
        assert reply["text"].startswith("This channel now asks across all 2 episodes.")
        server.post(server.command(question))
        assert _wait_for(lambda: len(_posts(slack)) == 2)

    focused, across = (json.dumps(p.params["blocks"], ensure_ascii=False) for p in _posts(slack))
    assert "Ada Example" not in focused  # the seed's channel did not look elsewhere
    # Across the library: the quote names its episode, and its time opens the video there.
    assert "_Shipping small: how to cut scope | Ada Example_" in across
    assert "<https://www.youtube.com/watch?v=abc123XYZ_0&amp;t=9s|0:09>" in across
    assert "From _" not in across
