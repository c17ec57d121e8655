"""Many workspaces on one `episode-bot serve`: what installing by OAuth costs, and what each
request pays for being a workspace's (its installation looked up, its own token).

    .venv/bin/python benchmarks/workspaces.py [--workspaces 20] [--requests 300] [--concurrency 20]

Starts serve once with a bot token (one workspace) and once with the app's client id and
secret (many), both against the loopback Slack stand-in. On the second, installs each
workspace through the real flow (install page, state cookie, redirect with a code,
oauth.v2.access), timing each install. Then sends each server the same signed `/episode ask`
load (spread over the workspaces on the second) and prints acknowledgement p50/p99, and
checks every ask was answered once, with its own workspace's token.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.ack_latency import percentile, wait_for_posts  # noqa: E402
from benchmarks.serve_processes import (  # noqa: E402
    SIGNING_SECRET,
    serve_env,
    start_servers,
    stop_servers,
)
from tests.fakes.signed_requests import post_signed  # noqa: E402
from tests.fakes.slack_api import TEAM_ID, SlackApiStandIn  # noqa: E402

AUTHORIZE_URL = "https://slack.invalid/oauth/v2/authorize"


def install(port: int, slack: SlackApiStandIn, team: str) -> float:
    """Install the bot in `team` as a person's browser does; seconds from the install page
    to the success page."""
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/slack/install", timeout=10) as page:
        html = page.read().decode()
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    link = re.search(r'href="(https://[^"]+)"', html)
    assert link is not None
    state = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)["state"][0]
    query = urlencode({"code": slack.add_workspace(team), "state": state})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/oauth_redirect?{query}", headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=10) as done:
        assert "is installed" in done.read().decode()
    return time.perf_counter() - began


def ask(port: int, team: str, n: int, response_url: str) -> float:
    """One signed `/episode ask` from `team`; milliseconds until the acknowledgement."""
    body = urlencode(
        {
            "command": "/episode",
            "text": f"ask What did Mike say about the merge queue? (#{n})",
            "channel_id": f"C{team[1:]}",
            "user_id": "U0BENCH",
            "team_id": team,
            "response_url": response_url,
            "trigger_id": f"{team}.{n}",
        }
    )
    status, _, seconds = post_signed(f"http://127.0.0.1:{port}/slack/events", body, SIGNING_SECRET)
    assert status == 200, status
    return seconds * 1000


def load(
    port: int, teams: list[str], first: int, count: int, concurrency: int, url: str
) -> list[float]:
    """`count` asks, numbered from `first`, taking the teams in turn."""
    with ThreadPoolExecutor(concurrency) as pool:
        return list(
            pool.map(
                lambda n: ask(port, teams[n % len(teams)], n, url), range(first, first + count)
            )
        )


def measure(
    slack: SlackApiStandIn, env: dict[str, str], teams: list[str] | None, args: argparse.Namespace
) -> tuple[list[float], list[float], int, int]:
    """(install seconds, ack ms, asks answered once with their team's token, asks)."""
    work = Path(env["XDG_DATA_HOME"])
    [server] = start_servers(work, env, 1)
    installs: list[float] = []
    try:
        if teams is not None:
            installs = [install(server.port, slack, team) for team in teams]
        served = teams or [TEAM_ID]
        before = len(slack.calls_to("chat.postMessage"))
        load(server.port, served, -20, 20, 5, slack.response_url)  # warm-up, not counted
        wait_for_posts(slack, before + 20)
        start = len(slack.calls_to("chat.postMessage"))
        checks = len(slack.calls_to("auth.test"))
        acks = load(server.port, served, 0, args.requests, args.concurrency, slack.response_url)
        wait_for_posts(slack, start + args.requests)
        time.sleep(1)
        posts = slack.calls_to("chat.postMessage")[start:]
        checks = len(slack.calls_to("auth.test")) - checks
    finally:
        stop_servers([server])
    per_ask: Counter[str] = Counter()
    for call in posts:
        number = re.search(r"\(#(\d+)\)", str(call.params.get("blocks", "")))
        channel = str(call.params.get("channel", ""))
        own = teams is None or slack.team_of_token(call.token or "") == "T" + channel[1:]
        if number and own:
            per_ask[number.group(1)] += 1
    once = sum(1 for n in range(args.requests) if per_ask.get(str(n)) == 1)
    print(f"  auth.test calls during the measured load: {checks}")
    return installs, acks, once, args.requests


def main() -> int:
    """Both servers, one after the other; the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspaces", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    slack = SlackApiStandIn().start()
    teams = [f"T0BENCH{i:03d}" for i in range(args.workspaces)]
    try:
        one = serve_env(Path(tempfile.mkdtemp(prefix="ws-one-")), slack, None, None)
        _, one_acks, one_once, asks = measure(slack, one, None, args)
        many = serve_env(Path(tempfile.mkdtemp(prefix="ws-many-")), slack, None, None)
        many.update(
            SLACK_BOT_TOKEN="",
            SLACK_CLIENT_ID=slack.client_id,
            SLACK_CLIENT_SECRET=slack.client_secret,
            SLACK_AUTHORIZE_URL=AUTHORIZE_URL,
        )
        installs, many_acks, many_once, _ = measure(slack, many, teams, args)
    finally:
        slack.stop()
    print(f"{asks} signed /episode ask at concurrency {args.concurrency}")
    print(
        f"one workspace (bot token):   ack p50 {statistics.median(one_acks):.1f} ms  "
        f"p99 {percentile(one_acks, 0.99):.1f} ms; answered once: {one_once}/{asks}"
    )
    print(
        f"{args.workspaces} workspaces (OAuth): ack p50 {statistics.median(many_acks):.1f} ms  "
        f"p99 {percentile(many_acks, 0.99):.1f} ms; answered once with their own token: "
        f"{many_once}/{asks}"
    )
    print(
        f"install (page, redirect, oauth.v2.access, stored): median "
        f"{statistics.median(installs) * 1000:.0f} ms, slowest {max(installs) * 1000:.0f} ms"
    )
    return 0 if one_once == asks and many_once == asks else 1


if __name__ == "__main__":
    raise SystemExit(main())
