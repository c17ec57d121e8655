"""The deploy drill: real `serve` processes, real signals. SIGTERM with answers in flight
answers every one before exiting; `kill -9` and a restart answer every question the dead
process acknowledged (or tell its asker, when too old), none twice; a replayed slash
command is answered once."""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.slack_api import SlackApiStandIn
from tests.system.test_slack_serve import (
    ACK_BUDGET_S,
    Server,
    _finished,
    _posts,
    _wait_for,
    running_server,
)

KEY = "sk-ant-api03-deploy-drill-key-0c4e"
ASKS = 20
MARKER = re.compile(r"\(#(\d+)\)")


def _slow_claude(seconds: float) -> AnthropicStandIn:
    """A Claude that takes `seconds` over every answer (and answers without searching)."""
    claude = AnthropicStandIn(api_key=KEY, timeout_seconds=seconds, search_first=False).start()
    claude.fail_next("timeout", times=1000)
    return claude


def _ask_all(server: Server, count: int = ASKS) -> None:
    for number in range(count):
        status, _, seconds = server.post(server.command(f"ask Who is Boris? (#{number})"))
        assert status == 200 and seconds < ACK_BUDGET_S


def _answered(slack: SlackApiStandIn) -> Counter[int]:
    """How many finished answers each numbered question got."""
    found: Counter[int] = Counter()
    for message in _finished(slack):
        if match := MARKER.search(str(message.get("blocks", "")) + message["text"]):
            found[int(match.group(1))] += 1
    return found


def _noted(tmp_path: Path) -> int:
    """How many asks have their answer's message noted."""
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(answer_ts) FROM pending_asks").fetchone()[0])


def _states(tmp_path: Path) -> Counter[str]:
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    with sqlite3.connect(database) as db:
        return Counter(state for (state,) in db.execute("SELECT state FROM pending_asks"))


def test_sigterm_answers_every_question_in_flight_then_exits(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    claude = _slow_claude(2.0)
    try:
        with running_server(
            tmp_path, slack, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=claude.url
        ) as server:
            _ask_all(server)
            assert _wait_for(lambda: len(claude.requests_to("/v1/messages")) >= 1)
            assert not _finished(slack)  # all of them still being answered
            server.process.send_signal(signal.SIGTERM)
            output, _ = server.process.communicate(timeout=60)
            assert server.process.returncode == 0, output
        assert _answered(slack) == Counter(range(ASKS))
        assert "finishing" in output and "answers before stopping" in output
        assert _states(tmp_path) == Counter(done=ASKS)
    finally:
        claude.stop()


def test_kill_9_then_restart_answers_every_acknowledged_question_once(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    slow = _slow_claude(30.0)  # the first process dies before any answer comes back
    try:
        with running_server(
            tmp_path, slack, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=slow.url
        ) as server:
            _ask_all(server)
            # Written down within a moment of the acknowledgement (Recorder), each ask's
            # message up ("Looking across the library…") and noted: then killed.
            assert _wait_for(lambda: sum(_states(tmp_path).values()) == ASKS)
            assert _wait_for(lambda: _noted(tmp_path) == ASKS)
            server.process.kill()
            server.process.wait(timeout=10)
    finally:
        slow.stop()
    assert not _finished(slack) and len(slack.messages_in("C0CHANNEL")) == ASKS
    left = _states(tmp_path)
    assert sum(left.values()) == ASKS and left["done"] == 0
    # One more, left by a process that died half an hour ago: too late to answer.
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO pending_asks (kind, channel, user_id, question, state, created_at) "
            "VALUES ('command', 'C0CHANNEL', 'U0LATE', 'What is MCP?', 'pending', "
            "datetime('now', '-31 minutes'))"
        )

    fast = AnthropicStandIn(api_key=KEY, search_first=False).start()
    try:
        with running_server(tmp_path, slack, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=fast.url):
            assert _wait_for(lambda: len(_answered(slack)) == ASKS, 30)
            assert _wait_for(lambda: bool(slack.calls_to("chat.postEphemeral")))
            time.sleep(1.0)  # and nothing more arrives
            assert _answered(slack) == Counter(range(ASKS))
            # Each answer finished the message the dead process had begun: no second copy,
            # no "Looking…" left behind.
            assert len(slack.messages_in("C0CHANNEL")) == ASKS
            [told] = slack.calls_to("chat.postEphemeral")
            assert told.params["user"] == "U0LATE"
            assert told.params["text"] == (
                "I restarted before I could answer “What is MCP?”: please ask it again."
            )
        assert _states(tmp_path) == Counter(done=ASKS, told=1)
    finally:
        fast.stop()


def test_a_replayed_slash_command_is_answered_once(tmp_path: Path, slack: SlackApiStandIn) -> None:
    with running_server(tmp_path, slack) as server:
        form = server.command("ask Who is Boris?")
        timestamp = int(time.time())
        for _ in range(3):  # the same body and signature, within Slack's five minutes
            status, _, _ = server.post(form, timestamp=timestamp)
            assert status == 200
        assert _wait_for(lambda: len(_posts(slack)) == 1)
        time.sleep(1.0)
        assert len(_posts(slack)) == 1
        # A new invocation (its own trigger_id) of the same question is a new ask.
        server.post(server.command("ask Who is Boris?"))
        assert _wait_for(lambda: len(_posts(slack)) == 2)


def test_a_process_exits_within_its_grace_period_and_leaves_the_rest_for_the_next(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    slow = _slow_claude(30.0)
    try:
        with running_server(
            tmp_path,
            slack,
            ANTHROPIC_API_KEY=KEY,
            ANTHROPIC_BASE_URL=slow.url,
            SHUTDOWN_GRACE_SECONDS="1",
        ) as server:
            _ask_all(server, 5)
            assert _wait_for(lambda: len(slow.requests_to("/v1/messages")) >= 1)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            output, _ = server.process.communicate(timeout=30)
            assert time.monotonic() - started < 10, output
            assert "questions left for the next start" in output
    finally:
        slow.stop()
    assert not _finished(slack)
    assert _states(tmp_path) == Counter(pending=5)  # handed back, not lost
