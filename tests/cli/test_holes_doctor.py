"""`episode-bot doctor` never prints credentials written into a configured URL."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import redacted_url
from tests.cli.test_cli import run

SLACK_URL_SECRET = "slack-url-password-5150"
CLAUDE_URL_SECRET = "claude-url-password-8086"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe is


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:key@127.0.0.1:9/v1", "http://***@127.0.0.1:9/v1"),
        ("http://key@127.0.0.1:8080", "http://***@127.0.0.1:8080"),
        ("http://user:p@ss@127.0.0.1:9/x?to=a@b", "http://***@127.0.0.1:9/x?to=a@b"),
        ("http://127.0.0.1:9/api/", "http://127.0.0.1:9/api/"),
        ("http://127.0.0.1:9/people/@me", "http://127.0.0.1:9/people/@me"),
        ("sqlite:////tmp/episode-bot.db", "sqlite:////tmp/episode-bot.db"),
        (None, ""),
    ],
)
def test_redacted_url_hides_user_info_only(url: str | None, shown: str) -> None:
    assert redacted_url(url) == shown


def test_doctor_never_prints_the_user_info_of_a_configured_url(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = _closed_port()
    unreachable = {
        **env,
        "SLACK_BOT_TOKEN": "xoxb-doctor-token",
        "SLACK_SIGNING_SECRET": "doctordoctordoctor1234",
        "SLACK_API_URL": f"http://bot:{SLACK_URL_SECRET}@127.0.0.1:{port}/api/",
        "ANTHROPIC_API_KEY": "sk-ant-api03-doctor-key-1234",
        "ANTHROPIC_BASE_URL": f"http://me:{CLAUDE_URL_SECRET}@127.0.0.1:{port}",
    }
    result = run("doctor", env=unreachable, cwd=tmp_path)
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert SLACK_URL_SECRET not in printed and CLAUDE_URL_SECRET not in printed
    assert f"✗ slack: cannot reach http://***@127.0.0.1:{port}/api/" in result.stdout
    assert f"✗ claude: cannot reach Anthropic at http://***@127.0.0.1:{port}" in result.stdout
