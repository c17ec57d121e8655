"""Many workspaces, as an installer and Slack see it: `episode-bot serve` with the app's
client id and secret (no bot token) runs Slack's OAuth install flow over real HTTP against
the Slack stand-in, keeps each installation in its own database, and answers each workspace
with its own token and its own data."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from bot.slack import blocks
from tests.conftest import FORMATS_DIR
from tests.fakes.signed_requests import JSON, post_signed
from tests.fakes.slack_api import SlackApiStandIn
from tests.system.test_slack_serve import (
    SCRIPT,
    SIGNING_SECRET,
    Server,
    _env,
    _wait_for,
    running_server,
)

AUTHORIZE_URL = "https://slack.invalid/oauth/v2/authorize"  # never fetched: Slack's page
ALPHA, BETA = "T0ALPHA01", "T0BETA001"


class Browser:
    """A person's browser: keeps the cookies the bot sets and sends them back. (Bolt marks
    its state cookie Secure, which a browser sends over the HTTPS host the bot runs behind;
    the test talks plain HTTP on loopback, so it sends the cookie itself.)"""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> tuple[int, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(self.base + path, headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self._keep(response.headers.get_all("Set-Cookie") or [])
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def _keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def install_state(self) -> str:
        """Open the Add to Slack page; the `state` its link carries to Slack."""
        status, page = self.get("/slack/install")
        assert status == 200, page
        link = re.search(r'href="(https://[^"]+)"', page)
        assert link is not None and link.group(1).startswith(AUTHORIZE_URL), page
        query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
        assert "commands" in query["scope"][0] and "chat:write" in query["scope"][0]
        assert "slack-app-oauth-state" in self.cookies
        return query["state"][0]

    def come_back(self, **query: str) -> tuple[int, str]:
        """Slack sending the installer back to the bot."""
        return self.get("/slack/oauth_redirect?" + urlencode(query))


def _database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "episode-bot" / "episode-bot.db"


def _installed(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(_database(tmp_path)) as db:
        return db.execute(
            "SELECT team_id, bot_token FROM slack_installations ORDER BY id"
        ).fetchall()


def _oauth_env(slack: SlackApiStandIn) -> dict[str, str]:
    """`serve` with the app's client id and secret and no bot token: installs by OAuth."""
    return {
        "SLACK_BOT_TOKEN": "",
        "SLACK_CLIENT_ID": slack.client_id,
        "SLACK_CLIENT_SECRET": slack.client_secret,
        "SLACK_AUTHORIZE_URL": AUTHORIZE_URL,
    }


@pytest.fixture
def server(tmp_path: Path, slack: SlackApiStandIn) -> Iterator[Server]:
    with running_server(tmp_path, slack, **_oauth_env(slack)) as running:
        yield running


def _install(server: Server, slack: SlackApiStandIn, team: str, **options: Any) -> None:
    browser = Browser(f"http://127.0.0.1:{server.port}")
    state = browser.install_state()
    code = slack.add_workspace(team, team_name=f"Team {team}", **options)
    status, page = browser.come_back(code=code, state=state)
    assert status == 200 and "is installed" in page, page


def _command(server: Server, team: str, channel: str, text: str) -> tuple[int, str]:
    form = server.command(text, team_id=team, channel_id=channel)
    status, body, _ = server.post(form)
    return status, body


def _reply(server: Server, team: str, channel: str, text: str) -> str:
    """The command's reply to the person who typed it (its response_url post), as JSON."""
    before = len(server.slack.calls_to("response_url"))
    assert _command(server, team, channel, text)[0] == 200
    assert _wait_for(lambda: len(server.slack.calls_to("response_url")) > before)
    return json.dumps(server.slack.calls_to("response_url")[before].params)


def _answers(slack: SlackApiStandIn, channel: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def test_the_install_dance_stores_the_workspace_and_its_token_answers_it(
    server: Server, slack: SlackApiStandIn, tmp_path: Path
) -> None:
    _install(server, slack, ALPHA)
    [exchange] = [c for c in slack.calls_to("oauth.v2.access") if c.params.get("code")]
    assert exchange.token is None and "client_secret" not in exchange.params
    [(_, token)] = [row for row in _installed(tmp_path) if row[0] == ALPHA]
    assert slack.team_of_token(token) == ALPHA

    assert _command(server, ALPHA, "C0ALPHA01", "ask Who is Boris?")[0] == 200
    assert _wait_for(lambda: _answers(slack, "C0ALPHA01"))
    assert {slack.team_of_token(c.token or "") for c in _answers(slack, "C0ALPHA01")} == {ALPHA}
    # The client secret never reaches the log or the database.
    assert slack.client_secret.encode() not in _database(tmp_path).read_bytes()


def test_two_workspaces_asking_at_once_are_each_answered_with_their_own_token(
    server: Server, slack: SlackApiStandIn
) -> None:
    _install(server, slack, ALPHA)
    _install(server, slack, BETA)
    results: list[int] = []
    asks = [
        threading.Thread(target=lambda t=t, c=c, q=q: results.append(_command(server, t, c, q)[0]))
        for t, c, q in (
            (ALPHA, "C0ALPHA02", "ask Who is Boris?"),
            (BETA, "C0BETA002", "ask What is cursorbench?"),
        )
    ]
    for ask in asks:
        ask.start()
    for ask in asks:
        ask.join()
    assert results == [200, 200]
    assert _wait_for(lambda: _answers(slack, "C0ALPHA02") and _answers(slack, "C0BETA002"))
    assert {slack.team_of_token(c.token or "") for c in _answers(slack, "C0ALPHA02")} == {ALPHA}
    assert {slack.team_of_token(c.token or "") for c in _answers(slack, "C0BETA002")} == {BETA}


def test_a_workspace_that_never_installed_is_refused(
    server: Server, slack: SlackApiStandIn
) -> None:
    _command(server, "T0NEVER01", "C0NEVER01", "ask Who is Boris?")
    time.sleep(0.5)
    assert not _answers(slack, "C0NEVER01")


def test_uninstalling_removes_the_installation_and_later_requests_are_refused(
    server: Server, slack: SlackApiStandIn, tmp_path: Path
) -> None:
    _install(server, slack, BETA)
    event = {
        "type": "event_callback",
        "team_id": BETA,
        "api_app_id": slack.app_id,
        "event_id": "Ev0UNINSTALL",
        "event_time": int(time.time()),
        "event": {"type": "app_uninstalled", "event_ts": "1700000000.000001"},
    }
    status, _, _ = post_signed(
        server.events_url, json.dumps(event), SIGNING_SECRET, content_type=JSON
    )
    assert status == 200

    def uninstalled() -> bool:
        with sqlite3.connect(_database(tmp_path)) as db:
            [(gone,)] = db.execute(
                "SELECT uninstalled_at FROM workspaces WHERE team_id = ?", (BETA,)
            ).fetchall()
        return gone is not None

    assert _wait_for(uninstalled)
    assert not [row for row in _installed(tmp_path) if row[0] == BETA]
    slack.revoke_workspace(BETA)
    _command(server, BETA, "C0BETA003", "ask Who is Boris?")
    time.sleep(0.5)
    assert not _answers(slack, "C0BETA003")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no state", "another browser"),
        ("replayed state", "expired or was used already"),
        ("unknown code", "did not accept the authorization code"),
        ("slack refused", "cancelled in Slack"),
    ],
)
def test_bad_oauth_input_gets_a_plain_page_and_nothing_is_stored(
    server: Server, slack: SlackApiStandIn, tmp_path: Path, case: str, expected: str
) -> None:
    browser = Browser(f"http://127.0.0.1:{server.port}")
    before = _installed(tmp_path)
    if case == "no state":
        status, page = Browser(browser.base).come_back(code=slack.add_workspace("T0BAD0001"))
    elif case == "replayed state":
        state = browser.install_state()
        assert browser.come_back(code=slack.add_workspace("T0BAD0002"), state=state)[0] == 200
        before = _installed(tmp_path)
        status, page = browser.come_back(code=slack.new_code("T0BAD0002"), state=state)
    elif case == "unknown code":
        status, page = browser.come_back(code="not-a-code", state=browser.install_state())
    else:
        status, page = browser.come_back(error="access_denied", state=browser.install_state())
    assert expected in page and "Nothing was stored" in page, page
    assert 'href="/slack/install"' in page
    assert status < 500
    assert _installed(tmp_path) == before


def test_a_click_from_another_workspace_on_an_answer_is_refused(
    server: Server, slack: SlackApiStandIn, tmp_path: Path
) -> None:
    _install(server, slack, ALPHA)
    _install(server, slack, BETA)
    _command(server, ALPHA, "C0ALPHA04", "ask Who is Boris?")
    assert _wait_for(lambda: slack.messages_in("C0ALPHA04"))
    [message] = slack.messages_in("C0ALPHA04")
    value = json.dumps(message["blocks"])
    turn = re.search(rf"{blocks.HELPFUL_VALUE}:(\d+)", value)
    assert turn is not None
    payload = {
        "type": "block_actions",
        "user": {"id": "U0BETAUSER"},
        "team": {"id": BETA},
        "channel": {"id": "C0ALPHA04"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0ALPHA04"},
        "message": {"type": "message", "ts": message["ts"]},
        "response_url": slack.response_url,
        "trigger_id": "9.9.9",
        "api_app_id": slack.app_id,
        "actions": [
            {
                "action_id": blocks.FEEDBACK_ACTION,
                "block_id": "b1",
                "type": "feedback_buttons",
                "value": f"{blocks.HELPFUL_VALUE}:{turn.group(1)}",
                "action_ts": "1700000000.000002",
            }
        ],
    }
    before = len(slack.calls_to("response_url"))
    status, _, _ = server.post({"payload": json.dumps(payload)})
    assert status == 200
    assert _wait_for(lambda: len(slack.calls_to("response_url")) > before)
    assert slack.calls_to("response_url")[-1].params["text"] == blocks.FEEDBACK_REFUSED
    with sqlite3.connect(_database(tmp_path)) as db:
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (0,)


def test_with_a_library_per_workspace_each_asks_only_about_its_own_episodes(
    tmp_path: Path, slack: SlackApiStandIn
) -> None:
    own_libraries = {**_oauth_env(slack), "LIBRARY_PER_WORKSPACE": "true"}
    with running_server(tmp_path, slack, **own_libraries) as server:
        _install(server, slack, ALPHA)
        _install(server, slack, BETA)
        # The operator loads an episode for BETA alone, while serve runs.
        env = {**_env(tmp_path, slack), "LIBRARY_PER_WORKSPACE": "true"}
        loaded = subprocess.run(
            [str(SCRIPT), "ingest", "--team", BETA, str(FORMATS_DIR / "archive-episode.md")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert loaded.returncode == 0, loaded.stderr
        doctor = subprocess.run(
            [str(SCRIPT), "doctor"], env=env, capture_output=True, text=True, timeout=60
        )
        assert f"a library per workspace: {ALPHA} 1 episode, {BETA} 2 episodes" in doctor.stdout

        listing = _reply(server, ALPHA, "C0ALPHA03", "episodes")
        assert "mike-krieger" in listing and "archive-episode" not in listing
        listing = _reply(server, BETA, "C0BETA003", "episodes")
        assert "mike-krieger" in listing and "archive-episode" in listing

        question = "ask What does cutting scope mean to Ada?"
        assert _command(server, ALPHA, "C0ALPHA03", question)[0] == 200
        assert _command(server, BETA, "C0BETA003", question)[0] == 200
        assert _wait_for(lambda: _answers(slack, "C0ALPHA03") and _answers(slack, "C0BETA003"))
        alpha = json.dumps([c.params for c in _answers(slack, "C0ALPHA03")])
        beta = json.dumps([c.params for c in _answers(slack, "C0BETA003")])
        assert "Shipping small" in beta and "Shipping small" not in alpha
        # Naming BETA's episode from ALPHA finds nothing to focus on.
        used = _reply(server, ALPHA, "C0ALPHA03", "use archive-episode")
        assert "No episode" in used and "Shipping small" not in used
