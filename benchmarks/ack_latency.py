"""Acknowledgement latency of `/episode ask` under load, against a bare Bolt app.

    .venv/bin/python benchmarks/ack_latency.py [--requests 200] [--concurrency 20] [--rounds 3]

Starts `episode-bot serve` and a bare Bolt app that only acknowledges, served the same way
(waitress, Bolt's WSGI adapter), both pointed at the loopback Slack Web API stand-in. Sends
each the same signed slash commands at the same concurrency, round after round in turn (so
a busy moment on the machine falls on both), prints p50/p99 of the time to the HTTP response
over all rounds, and checks that every ask was answered with exactly one post.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.signed_requests import post_signed  # noqa: E402
from tests.fakes.slack_api import SlackApiStandIn  # noqa: E402

BOT_TOKEN = "xoxb-benchmark-token"
SIGNING_SECRET = "benchmarkbenchmarkbenchmark12345"
GOAL_P99_MS = 300.0
GOAL_RATIO = 1.5
BARE_APP = """
import sys
from slack_bolt import App
from slack_sdk import WebClient
from bot.slack.server import serve
app = App(client=WebClient(token=sys.argv[1], base_url=sys.argv[2]), signing_secret=sys.argv[3])
app.command("/episode")(lambda ack: ack())
serve(app, host="127.0.0.1", port=int(sys.argv[4]))
"""


# Slack's trigger_id is unique per command invocation; a repeated one is a replay.
TRIGGERS = itertools.count(1)


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    """Block until the server answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def signed_ask(port: int, text: str, response_url: str) -> float:
    """One slash command, signed as Slack signs it; seconds until the response."""
    body = urlencode(
        {
            "command": "/episode",
            "text": text,
            "channel_id": "C0BENCH",
            "user_id": "U0BENCH",
            "team_id": "T00000001",
            "response_url": response_url,
            "trigger_id": f"{next(TRIGGERS)}.1.2",
        }
    )
    status, _, seconds = post_signed(f"http://127.0.0.1:{port}/slack/events", body, SIGNING_SECRET)
    assert status == 200
    return seconds


def run_load(port: int, first: int, count: int, concurrency: int, response_url: str) -> list[float]:
    """Latencies in ms of `count` asks, numbered from `first`, sent `concurrency` at a time."""
    texts = [
        f"ask What did Mike say about the merge queue? (#{n})" for n in range(first, first + count)
    ]
    with ThreadPoolExecutor(concurrency) as pool:
        seconds = list(pool.map(lambda t: signed_ask(port, t, response_url), texts))
    return [s * 1000 for s in seconds]


def wait_for_posts(slack: SlackApiStandIn, count: int, timeout: float = 120) -> None:
    """Block until the stand-in has received `count` posts (or `timeout` passes)."""
    deadline = time.monotonic() + timeout
    while len(slack.calls_to("chat.postMessage")) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    """Run both servers, print the figures, check the goals."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    slack = SlackApiStandIn().start()
    work = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        XDG_DATA_HOME=str(work),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        PYTHONPATH=str(REPO),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
    )
    bot_port, bare_port = free_port(), free_port()
    script = Path(sys.executable).parent / "episode-bot"
    bot = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(bot_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, BOT_TOKEN, slack.url, SIGNING_SECRET, str(bare_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(bot_port)
        wait_healthy(bare_port)
        run_load(bot_port, -20, 20, 5, slack.response_url)  # warm-up, not counted
        wait_for_posts(slack, 20)
        warm_posts = len(slack.calls_to("chat.postMessage"))
        bot_ms: list[float] = []
        bare_ms: list[float] = []
        drain_seconds: list[float] = []
        for round_number in range(args.rounds):
            first = round_number * args.requests
            began = time.monotonic()
            bot_ms += run_load(bot_port, first, args.requests, args.concurrency, slack.response_url)
            # The bare app is measured only once the bot has posted every answer, so the
            # bot's answering never slows the figures it is compared with.
            wait_for_posts(slack, warm_posts + first + args.requests)
            drain_seconds.append(time.monotonic() - began)
            bare_ms += run_load(
                bare_port, first, args.requests, args.concurrency, slack.response_url
            )
        asks = args.requests * args.rounds
        time.sleep(2)  # anything extra would arrive now
        posts = slack.calls_to("chat.postMessage")[warm_posts:]
        per_ask = Counter(
            json.dumps(call.params.get("blocks", "")).split("(#")[1].split(")")[0] for call in posts
        )
    finally:
        bot.terminate()
        bare.terminate()
        slack.stop()

    once = sum(1 for n in range(asks) if per_ask.get(str(n)) == 1)
    p50, p99 = statistics.median(bot_ms), percentile(bot_ms, 0.99)
    bare50, bare99 = statistics.median(bare_ms), percentile(bare_ms, 0.99)
    ratio = p99 / bare99
    print(
        f"{args.rounds} rounds of {args.requests} signed /episode ask requests "
        f"at concurrency {args.concurrency}, to each server in turn"
    )
    print(f"episode-bot serve: ack p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    print(f"bare Bolt app:     ack p50 {bare50:.1f} ms  p99 {bare99:.1f} ms")
    print(f"p99 ratio: {ratio:.2f}")
    print(f"answered exactly once: {once}/{asks} (posts: {len(posts)})")
    print(
        f"all {args.requests} answers of a round posted within "
        f"{statistics.median(drain_seconds):.1f} s of its first ask (median of rounds)"
    )
    ok = p99 <= GOAL_P99_MS and ratio <= GOAL_RATIO and once == asks
    print(
        f"goals: p99 <= {GOAL_P99_MS:g} ms and <= {GOAL_RATIO}x bare, every ask once: "
        f"{'ok' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
