"""`episode-bot socket`: the same app over Socket Mode, against loopback stand-ins of the
Web API and of Slack's WebSocket end."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.fakes.slack_api import SlackApiStandIn
from tests.fakes.socket_mode import SocketModeStandIn

SCRIPT = Path(sys.executable).parent / "episode-bot"
BOT_TOKEN = "xoxb-888-socket-test-token-do-not-leak"
APP_TOKEN = "xapp-1-socket-test-app-token-do-not-leak"


# Slack's trigger_id is unique per command invocation; a repeated one is a replay.
TRIGGERS = itertools.count(1)


@pytest.fixture
def stand_ins() -> Iterator[tuple[SlackApiStandIn, SocketModeStandIn]]:
    socket_end = SocketModeStandIn().start()
    web = SlackApiStandIn().start()
    web.socket_url = socket_end.url
    yield web, socket_end
    web.stop()
    socket_end.stop()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_slash_command_over_socket_mode_is_acked_and_answered_once(
    tmp_path: Path, stand_ins: tuple[SlackApiStandIn, SocketModeStandIn], database_url: str
) -> None:
    web, socket_end = stand_ins
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        XDG_DATA_HOME=str(tmp_path / "data"),
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=web.url,
    )
    bot = subprocess.Popen(
        [str(SCRIPT), "socket"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        connection = socket_end.wait_for_client()
        [opened] = web.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN
        envelope = socket_end.deliver(
            connection,
            "slash_commands",
            {
                "command": "/episode",
                "text": "ask Who is Boris?",
                "channel_id": "C0SOCKET",
                "user_id": "U0ASKER",
                "team_id": "T00000001",
                "response_url": web.response_url,
                "trigger_id": f"{next(TRIGGERS)}.1.2",
            },
        )
        started = time.monotonic()
        ack = socket_end.acks.get(timeout=10)
        assert ack["envelope_id"] == envelope and time.monotonic() - started < 3
        deadline = time.monotonic() + 15
        while not web.calls_to("chat.postMessage") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        [post] = web.calls_to("chat.postMessage")
        assert post.params["channel"] == "C0SOCKET"
        assert "turn 23" in json.dumps(post.params["blocks"], ensure_ascii=False)
    finally:
        bot.terminate()
        output = bot.communicate(timeout=10)[0]
    assert BOT_TOKEN not in output and APP_TOKEN not in output
    assert "Traceback" not in output and "WARNING" not in output
