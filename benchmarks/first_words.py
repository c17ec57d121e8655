"""How soon an answer's first words reach Slack, and the finished answer, while Claude writes.

    .venv/bin/python benchmarks/first_words.py [--asks 5] [--first-token 1.0] [--total 6.0]

Starts `episode-bot serve` against the loopback Slack Web API stand-in and the Anthropic
Messages API stand-in paced like a real model: each answer's first token --first-token
seconds after the request, its last one --total seconds after. Sets the channel's episode
(`/episode use`), then asks --asks questions one after another, each twice: as `/episode ask`
(its answer a new message in the channel) and as an @-mention (its answer streamed in a
thread). For each it measures, from the moment the signed request is sent:

- first words: the first Slack call that carries the answer's text (a post, an update in
  place, or the start of a stream);
- finished: the call that puts the finished answer, with its feedback buttons, in place;

and the same against when the stand-in actually sent Claude's first and last tokens. Prints
each figure's median and worst, then each goal with ok or MISS: first words within 1.5 s of
Claude's first token (2.5 s after the ask at the default pace), the finished answer within
0.5 s of Claude's last token. Always exits 0: it is a benchmark.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.serve_processes import (  # noqa: E402
    ANTHROPIC_KEY,
    SIGNING_SECRET,
    serve_env,
    start_servers,
    stop_servers,
)
from benchmarks.soak import TEAM_ID  # noqa: E402
from tests.fakes.anthropic_answers import INTRO  # noqa: E402
from tests.fakes.anthropic_api import AnthropicStandIn  # noqa: E402
from tests.fakes.signed_requests import JSON, post_signed  # noqa: E402
from tests.fakes.slack_api import SlackApiStandIn  # noqa: E402

SEED = "mike-krieger-anthropic-cpo"
QUESTIONS = (
    "What share of Claude Code is written by Claude?",
    "How does Mike describe the merge queue problem?",
    "What is cursorbench?",
    "Why does Mike call consumer adoption lightning in a bottle?",
    "How did the team decide what to build next?",
)
GOAL_FIRST_AFTER_TOKEN_S = 1.5
GOAL_FINISHED_AFTER_LAST_S = 0.5
ANSWER_METHODS = {
    "chat.postMessage",
    "chat.update",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
}
TRIGGERS = itertools.count(1)
EVENTS = itertools.count(1)


@dataclass
class TimedSlackApi(SlackApiStandIn):
    """The Slack stand-in, also noting when each answer-carrying call arrived."""

    arrivals: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    _seen: threading.Lock = field(default_factory=threading.Lock)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method in ANSWER_METHODS:
            with self._seen:
                self.arrivals.append((time.monotonic(), method, params))
        return super()._answer(method, params)

    def since(self, moment: float) -> list[tuple[float, str, dict[str, Any]]]:
        """The answer-carrying calls that arrived after `moment`, in order."""
        with self._seen:
            return [a for a in self.arrivals if a[0] >= moment]


@dataclass(frozen=True)
class Timing:
    """One ask's figures, in seconds from the ask (and from Claude's first/last token)."""

    first_words: float
    finished: float
    after_first_token: float
    after_last_token: float


def _carries_text(params: dict[str, Any]) -> bool:
    return INTRO.strip() in json.dumps(params, ensure_ascii=False)


def _finishes(method: str, params: dict[str, Any]) -> bool:
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return method in {"chat.postMessage", "chat.update", "chat.stopStream"} and any(
        block.get("type") in ("context_actions", "actions") for block in blocks
    )


def _command(port: int, text: str, channel: str) -> None:
    body = urlencode(
        {
            "command": "/episode",
            "text": text,
            "channel_id": channel,
            "user_id": "U0FIRSTWORDS",
            "team_id": TEAM_ID,
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": f"{next(TRIGGERS)}.7.7",
        }
    )
    post_signed(f"http://127.0.0.1:{port}/slack/events", body, SIGNING_SECRET)


def _mention(port: int, question: str, channel: str) -> None:
    number = next(EVENTS)
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": "U0FIRSTWORDS",
        "text": f"<@UBOT00001> {question}",
        "ts": f"1700100000.{number:06d}",
    }
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "api_app_id": "A00000001",
            "event_id": f"Ev0FIRSTWORDS{number}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
    post_signed(f"http://127.0.0.1:{port}/slack/events", body, SIGNING_SECRET, content_type=JSON)


def measure(
    slack: TimedSlackApi, claude: AnthropicStandIn, send: Any, timeout: float = 60.0
) -> Timing | None:
    """Send one ask and wait for its finished answer; its figures (None if it never came)."""
    requests_before = len(claude.requests_to("/v1/messages"))
    began = time.monotonic()
    send()
    deadline = began + timeout
    first = finished = None
    while time.monotonic() < deadline and finished is None:
        for at, method, params in slack.since(began):
            if first is None and _carries_text(params):
                first = at
            if _finishes(method, params):
                finished = at
                break
        time.sleep(0.01)
    requests = claude.requests_to("/v1/messages")[requests_before:]
    streamed = [r for r in requests if r.first_delta_sent is not None]
    if first is None or finished is None or not streamed:
        return None
    # The answer is the last request's (earlier ones of a library search call tools).
    last = streamed[-1]
    assert last.first_delta_sent is not None and last.last_delta_sent is not None
    return Timing(
        first - began,
        finished - began,
        first - last.first_delta_sent,
        finished - last.last_delta_sent,
    )


def _line(name: str, values: list[float]) -> str:
    return f"  {name:<34} median {statistics.median(values):5.2f} s   worst {max(values):5.2f} s"


def report(kind: str, timings: list[Timing], asks: int) -> list[bool]:
    """Print one kind of ask's figures; whether each goal was met."""
    print(f"{kind}: {len(timings)}/{asks} answered")
    if not timings:
        return [False, False]
    print(_line("ask -> first words in Slack", [t.first_words for t in timings]))
    print(_line("ask -> finished answer", [t.finished for t in timings]))
    print(_line("Claude's first token -> first words", [t.after_first_token for t in timings]))
    print(_line("Claude's last token -> finished", [t.after_last_token for t in timings]))
    first_ok = max(t.after_first_token for t in timings) <= GOAL_FIRST_AFTER_TOKEN_S
    done_ok = max(t.after_last_token for t in timings) <= GOAL_FINISHED_AFTER_LAST_S
    return [first_ok and len(timings) == asks, done_ok and len(timings) == asks]


def main() -> int:
    """Run the asks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=5, help="questions of each kind")
    parser.add_argument("--first-token", type=float, default=1.0)
    parser.add_argument("--total", type=float, default=6.0)
    args = parser.parse_args()

    slack = TimedSlackApi().start()
    claude = AnthropicStandIn(api_key=ANTHROPIC_KEY).start()
    claude.set_pace(args.first_token, args.total)
    work = Path(tempfile.mkdtemp(prefix="first-words-bench-"))
    servers = []
    try:
        servers = start_servers(work, serve_env(work, slack, claude, None), 1)
        port = servers[0].port
        channel = "C0FIRSTWORDS"
        _command(port, f"use {SEED}", channel)
        time.sleep(1.0)
        kinds = {
            "/episode ask (a new message, updated in place)": lambda q: _command(
                port, f"ask {q}", channel
            ),
            "@-mention (streamed in its thread)": lambda q: _mention(port, q, channel),
        }
        goals: list[bool] = []
        print(
            f"Claude paced: first token {args.first_token:g} s, last {args.total:g} s "
            "after each request"
        )
        for kind, send in kinds.items():
            timings = []
            for number in range(args.asks):
                question = QUESTIONS[number % len(QUESTIONS)]
                timing = measure(slack, claude, lambda q=question, s=send: s(q))
                if timing is not None:
                    timings.append(timing)
            goals += report(kind, timings, args.asks)
        first_ok, done_ok = all(goals[0::2]), all(goals[1::2])
        print(
            f"goal first words <= {GOAL_FIRST_AFTER_TOKEN_S} s after Claude's first token: "
            f"{'ok' if first_ok else 'MISS'}"
        )
        print(
            f"goal finished <= {GOAL_FINISHED_AFTER_LAST_S} s after Claude's last token: "
            f"{'ok' if done_ok else 'MISS'}"
        )
    finally:
        stop_servers(servers)
        claude.stop()
        slack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
