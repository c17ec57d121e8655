"""Soak test of `episode-bot serve`: minutes of asks, follow-ups and feedback clicks.

    .venv/bin/python benchmarks/soak.py [--asks 1000] [--concurrency 20] [--minutes 5] [--claude]
        [--database-url postgresql+psycopg://user@host/db] [--processes 2]

Starts `episode-bot serve` (LOG_LEVEL=INFO, its output kept in a file) against the loopback
Slack Web API stand-in, and, with --claude, the Anthropic Messages API stand-in so that
Claude writes the answers (offline answers otherwise). Sends signed `/episode ask` commands
in bursts of --concurrency, the bursts evenly spaced over --minutes. When an ask's answer is
posted, about one in three gets a follow-up (a signed Events API `message` in the answer's
thread) and about one in three a Helpful / Not helpful click; about one in twenty follow-up
events is sent again with the same event_id and `X-Slack-Retry-Num: 1`, as Slack retries.
At most --concurrency requests are in flight at any time.

The database is a fresh SQLite file unless --database-url names another (PostgreSQL: an
empty database, or one only earlier soaks used; a soak refuses one holding unanswered asks,
which its processes would answer as if they were this run's). With --processes N, N serve
processes share that database and the stand-ins: the first one starts alone (it migrates the
database and loads the sample episode into an empty library), then the others. Asks go
round-robin to the processes; a follow-up, and a click, go to another process than the one
that took the ask, and a follow-up's retry to another than the follow-up's first delivery;
about one in twenty asks is also sent again (same trigger_id, with Slack's retry headers) to
another process at the same moment as the first, so two processes record it at once.

Prints acknowledgement p50/p99/max, how many answers were posted exactly once (each ask and
each follow-up carries a unique marker such as "(#17)" or "(#17f)"), whichever process
posted them, the errors in each process's log, and each serve process's RSS (sampled every
5 s) at start, at minute 1 and at the end, then each goal with ok or MISS. Always exits 0:
it is a benchmark.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import queue
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.serve_processes import (  # noqa: E402
    ANTHROPIC_KEY,
    SIGNING_SECRET,
    RssSampler,
    Server,
    answered_by,
    backend,
    mb,
    open_asks,
    rss_figures,
    serve_env,
    sqlite_url,
    start_servers,
    stop_servers,
)
from bot.config import redacted_url  # noqa: E402
from tests.fakes.anthropic_api import AnthropicStandIn  # noqa: E402
from tests.fakes.signed_requests import JSON, post_signed  # noqa: E402
from tests.fakes.slack_api import SlackApiStandIn  # noqa: E402

TEAM_ID = "T00000001"
CHANNELS = ("C0SOAK1", "C0SOAK2", "C0SOAK3", "C0SOAK4")
WARM_UP_ASKS = 20

GOAL_ACK_S = 3.0
GOAL_RSS_GROWTH_MB = 20.0
FOLLOW_UP_SHARE = 1 / 3
CLICK_SHARE = 1 / 3
RETRY_SHARE = 1 / 20
RETRY_HEADERS = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
REACTION_S = (1.0, 3.0)  # a follow-up or click comes this many seconds after the answer
DRAIN_TIMEOUT_S = 180.0  # after the last burst, how long to wait for outstanding answers
QUIET_S = 3.0  # then how long to keep listening for posts that should not come
LOG_PATTERNS = ("Traceback", "ERROR", "Exception")

SHARED_QUESTIONS = REPO.parent / "shared" / "dev_questions.jsonl"
BUNDLED_QUESTIONS = REPO / "tests" / "data" / "dev_questions.jsonl"
FIXED_QUESTIONS = (
    "What share of Claude Code is written by Claude?",
    "How does Mike describe the merge queue problem?",
    "Who is Boris?",
    "What is cursorbench?",
    "Why does Mike call consumer adoption lightning in a bottle?",
)
FOLLOW_UPS = (
    "tell me more about that",
    "why does he think so?",
    "what example does he give?",
    "who else talks about this?",
    "what happened after that?",
    "how does that change the way the team works?",
)
MARKER = re.compile(r"\(#(w?\d+f?)\)")


# Slack's trigger_id is unique per command invocation; a repeated one is a replay.
TRIGGERS = itertools.count(1)
# In every trigger_id, event_id and message ts of this run: a database an earlier soak used
# remembers its requests for a day (pending_asks) and its threads (conversations), and would
# take this run's for replays of them, or for follow-ups in those threads.
RUN_SECONDS = int(time.time())
RUN = f"{RUN_SECONDS:x}"


@dataclass(frozen=True)
class Posted:
    """One chat.postMessage the stand-in accepted, with the ts it gave the message."""

    ts: str
    channel: str
    thread_ts: str | None
    marker: str | None  # "17" for ask 17, "17f" for its follow-up, "w3" for warm-up ask 3
    answer_id: str | None  # the value the feedback buttons carry
    at: float = field(default_factory=time.monotonic)  # when the stand-in accepted it


# The calls that can put a finished answer (its feedback buttons) in a message.
FINISHING = frozenset({"chat.postMessage", "chat.update", "chat.stopStream"})


@dataclass
class RecordingSlackApi(SlackApiStandIn):
    """The Slack Web API stand-in, also handing each finished answer (posted, updated in
    place, or a stream ended with its feedback buttons), with its message's ts, to
    `arrivals` (the stand-in records calls, not the ts it gave them)."""

    arrivals: queue.Queue[Posted] = field(default_factory=queue.Queue)

    def _new_ts(self) -> str:
        # This run's clock, not the stand-in's fixed 1700000000: see RUN_SECONDS.
        return f"{RUN_SECONDS}.{next(self._ts):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        reply = super()._answer(method, params)
        if method in FINISHING and reply.get("ok"):
            ts = str(reply.get("ts") or params.get("ts"))
            stored = self._messages.get((str(params.get("channel")), ts))  # lock held
            post = parse_post(params, ts, stored.thread_ts if stored else None)
            if post.answer_id is not None:
                self.arrivals.put(post)
        return reply


def parse_post(params: dict[str, Any], ts: str, thread_ts: str | None = None) -> Posted:
    """The marker (from the "asked:" header block; a streamed answer has none) and the
    answer id its feedback buttons carry (None: not a finished answer)."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    marker = None
    if blocks and blocks[0].get("type") == "context":
        found = MARKER.search(json.dumps(blocks[0], ensure_ascii=False))
        marker = found.group(1) if found else None
    answer_id = None
    for block in blocks:
        if block.get("type") == "context_actions" and block.get("elements"):
            value = str(block["elements"][0]["positive_button"]["value"])
            answer_id = value.partition(":")[2]
    thread_ts = thread_ts or params.get("thread_ts")
    return Posted(
        ts, str(params.get("channel")), str(thread_ts) if thread_ts else None, marker, answer_id
    )


@dataclass(frozen=True)
class Ack:
    """One signed request: what it was, its HTTP status (0: no response) and seconds."""

    kind: str
    status: int
    seconds: float
    process: int = 0  # which serve process (0-based) it was sent to


def load_questions() -> list[str]:
    """The dev questions (../shared, else the bundled copy), else a few fixed ones."""
    for path in (SHARED_QUESTIONS, BUNDLED_QUESTIONS):
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            questions = [json.loads(line)["q"] for line in lines if line.strip()]
            if questions:
                return questions
    return list(FIXED_QUESTIONS)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Soak:
    """Sends the load to the `serve` processes and keeps what it needs to score it."""

    def __init__(
        self, ports: list[int], slack: RecordingSlackApi, args: argparse.Namespace
    ) -> None:
        self.urls = [f"http://127.0.0.1:{port}/slack/events" for port in ports]
        self.slack = slack
        self.args = args
        self.questions = load_questions()
        self.pool = ThreadPoolExecutor(args.concurrency, thread_name_prefix="soak")
        self.futures: list[Future[None]] = []
        self.acks: list[Ack] = []
        self._lock = threading.Lock()
        self.counting = False  # warm-up requests are not counted
        self.began = time.monotonic()  # when the counted asks start
        self.reacting = True  # follow-ups and clicks are sent for answers that arrive
        self.asks_sent: set[int] = set()
        self.follow_ups: dict[int, str] = {}  # ask number -> the thread it was sent in
        self.roots: dict[str, int] = {}  # a thread followed up in -> its ask number
        self.retried: set[int] = set()
        self.asks_retried: set[int] = set()  # asks sent again to another process
        self.clicks = 0
        self.posts: dict[str, list[Posted]] = {}
        # Follow-ups and clicks come a moment after the answer, as people's do.
        self.later: list[tuple[float, Callable[[], None]]] = []
        self.unmatched: list[Posted] = []

    # ------------------------------------------------------------------ sending

    def process_of(self, number: int, hop: int = 0) -> int:
        """The process ask `number` goes to (round-robin), or with `hop` the one that many
        places on: a follow-up goes to another process than its ask, a retry to another
        than the first delivery (the same one when there is only one)."""
        return (number + hop) % len(self.urls)

    def _send(
        self, kind: str, process: int, body: str, content_type: str, headers: dict[str, str]
    ) -> None:
        started = time.perf_counter()
        try:
            status, _, seconds = post_signed(
                self.urls[process], body, SIGNING_SECRET, content_type=content_type, headers=headers
            )
        except OSError:
            status, seconds = 0, time.perf_counter() - started
        if self.counting:
            with self._lock:
                self.acks.append(Ack(kind, status, seconds, process))

    def _submit(self, work: Any) -> None:
        with self._lock:
            self.futures.append(self.pool.submit(work))

    def ask(self, number: int, *, warm_up: bool = False) -> None:
        """Queue `/episode ask` number `number`, marked "(#17)" (warm-up: "(#w17)")."""
        question = self.questions[number % len(self.questions)]
        if not warm_up:
            self.asks_sent.add(number)
        marker = f"w{number}" if warm_up else str(number)
        body = urlencode(
            {
                "command": "/episode",
                "text": f"ask {question} (#{marker})",
                "channel_id": CHANNELS[number % len(CHANNELS)],
                "user_id": f"U0SOAK{number % 97:03d}",
                "team_id": TEAM_ID,
                "response_url": self.slack.response_url,
                "trigger_id": f"{next(TRIGGERS)}.{RUN}.2",
            }
        )
        form = "application/x-www-form-urlencoded"
        process = self.process_of(number)
        self._submit(lambda: self._send("ask", process, body, form, {}))
        # Several processes: some asks are delivered twice at once, to two processes, so
        # both record the same trigger_id together (its own dice: the follow-ups' and
        # clicks' stay as a single process's run has them).
        again = random.Random(f"{self.args.seed}-again-{number}").random() < RETRY_SHARE
        if len(self.urls) > 1 and again and not warm_up:
            self.asks_retried.add(number)
            other = self.process_of(number, 1)
            self._submit(lambda: self._send("ask-retry", other, body, form, RETRY_HEADERS))

    def follow_up(self, number: int, root: Posted, dice: random.Random) -> None:
        """Queue a reply in the thread of ask `number`'s answer; sometimes a Slack retry."""
        event = {
            "type": "message",
            "channel": root.channel,
            "user": "U0SOAKFOLLOW",
            "channel_type": "channel",
            "text": f"{dice.choice(FOLLOW_UPS)} (#{number}f)",
            "ts": f"1800000000.{number:06d}",
            "thread_ts": root.ts,
        }
        payload = json.dumps(
            {
                "token": "legacy-verification-token-unused",
                "team_id": TEAM_ID,
                "api_app_id": "A00000001",
                "type": "event_callback",
                "event_id": f"Ev0SOAK{RUN}{number:06d}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        retry = dice.random() < RETRY_SHARE
        first, second = self.process_of(number, 1), self.process_of(number, 2)

        def send() -> None:
            self._send("follow-up", first, payload, JSON, {})
            if retry:  # as Slack retries: same event_id, once the first one is acknowledged
                self._submit(lambda: self._send("retry", second, payload, JSON, RETRY_HEADERS))

        if retry:
            self.retried.add(number)
        self._submit(send)

    def click(self, number: int, root: Posted, dice: random.Random) -> None:
        """Queue a Helpful / Not helpful click on the buttons of ask `number`'s answer."""
        payload = {
            "type": "block_actions",
            "user": {"id": f"U0SOAKCLICK{dice.randrange(10)}"},
            "team": {"id": TEAM_ID},
            "channel": {"id": root.channel},
            "response_url": self.slack.response_url,
            "trigger_id": "1.2.3",
            "api_app_id": "A00000001",
            "actions": [
                {
                    "action_id": "answer_feedback",
                    "value": f"{dice.choice(('helpful', 'not_helpful'))}:{root.answer_id}",
                    "type": "feedback_buttons",
                    "block_id": "b",
                    "action_ts": "1.2",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        process = self.process_of(number, 1)
        form = "application/x-www-form-urlencoded"
        self._submit(lambda: self._send("click", process, body, form, {}))

    # ---------------------------------------------------------------- listening

    def _arrived(self, post: Posted) -> None:
        if post.marker is None and post.thread_ts in self.roots:
            # A streamed follow-up names no question: its thread says whose it is.
            post = replace(post, marker=f"{self.roots[post.thread_ts]}f")
        if post.marker is None:
            self.unmatched.append(post)
            return
        first = post.marker not in self.posts
        self.posts.setdefault(post.marker, []).append(post)
        if not (first and self.reacting and post.marker.isdigit()):
            return
        number = int(post.marker)
        dice = random.Random(f"{self.args.seed}-{number}")
        now = time.monotonic()
        if dice.random() < FOLLOW_UP_SHARE:
            self.follow_ups[number] = post.ts
            self.roots[post.ts] = number
            due = now + dice.uniform(*REACTION_S)
            self.later.append((due, lambda: self.follow_up(number, post, dice)))
        if post.answer_id is not None and dice.random() < CLICK_SHARE:
            self.clicks += 1
            due = now + dice.uniform(*REACTION_S)
            self.later.append((due, lambda: self.click(number, post, dice)))

    def listen_until(self, deadline: float) -> None:
        """Handle posts as they arrive, and send what falls due, until `deadline`
        (time.monotonic())."""
        while (left := deadline - time.monotonic()) > 0:
            try:
                post = self.slack.arrivals.get(timeout=min(left, 0.05))
            except queue.Empty:
                post = None
            if post is not None:
                self._arrived(post)
            now = time.monotonic()
            due = [work for at, work in self.later if at <= now]
            self.later = [(at, work) for at, work in self.later if at > now]
            for work in due:
                work()

    def settled(self, markers: list[str]) -> bool:
        """Nothing left to send or acknowledge, and every given marker posted."""
        with self._lock:
            busy = self.later or any(not f.done() for f in self.futures)
        return not busy and all(m in self.posts for m in markers)

    def expected(self) -> list[str]:
        """The markers that must each be posted exactly once."""
        return [str(n) for n in sorted(self.asks_sent)] + [f"{n}f" for n in self.follow_ups]


def log_findings(path: Path) -> tuple[Counter[str], list[str], Counter[str]]:
    """How many lines of the log hold each of LOG_PATTERNS, those lines, and the WARNING
    lines by kind (numbers left out, so "queue depth is 3" and "is 4" count as one)."""
    counts: Counter[str] = Counter()
    lines: list[str] = []
    warnings: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        hits = [p for p in LOG_PATTERNS if p in line]
        counts.update(hits)
        if hits:
            lines.append(line)
        if line.startswith("WARNING"):
            warnings[re.sub(r"\d+", "N", line)[:160]] += 1
    return counts, lines, warnings


def verdict(ok: bool) -> str:
    """ok or MISS."""
    return "ok" if ok else "MISS"


def report(
    soak: Soak,
    args: argparse.Namespace,
    servers: list[Server],
    database_url: str,
    wall_s: float,
    thanked: int,
    other_replies: list[str],
    claude_calls: int | None,
    claims: Counter[str],
) -> None:
    """Print the figures and the goals: overall, then per process when there are several."""
    expected = soak.expected()
    per_marker = {m: soak.posts.get(m, []) for m in expected}
    once = sum(1 for posts in per_marker.values() if len(posts) == 1)
    missing = [m for m, posts in per_marker.items() if not posts]
    duplicated = [m for m, posts in per_marker.items() if len(posts) > 1]
    wrong_thread = [
        m
        for m, posts in per_marker.items()
        if any(
            p.thread_ts != (soak.follow_ups[int(m[:-1])] if m.endswith("f") else None)
            for p in posts
        )
    ]
    strays = [m for m in soak.posts if m.isdigit() and int(m) not in soak.asks_sent]
    retried_twice = [n for n in soak.retried if len(soak.posts.get(f"{n}f", [])) > 1]
    asks_twice = [n for n in soak.asks_retried if len(soak.posts.get(str(n), [])) > 1]

    seconds = [a.seconds for a in soak.acks]
    ms = [s * 1000 for s in seconds]
    late = sum(1 for s in seconds if s > GOAL_ACK_S)
    failed = Counter(a.status for a in soak.acks if a.status != 200)
    kinds = Counter(a.kind for a in soak.acks)

    answers = "Claude (Messages API stand-in)" if args.claude else "offline"
    print(
        f"soak: {args.asks} asks in bursts of {args.concurrency}, bursts evenly spaced over "
        f"{args.minutes:g} min; {answers} answers; {wall_s / 60:.1f} min in all"
    )
    count = len(servers)
    print(
        f"database: {backend(database_url)} {redacted_url(database_url)}; {count} serve "
        f"process{'es' * (count > 1)} on port{'s' * (count > 1)} "
        + ", ".join(str(s.port) for s in servers)
    )
    again = f" ({kinds['ask-retry']} sent again to another process)" if soak.asks_retried else ""
    print(
        f"requests: {kinds['ask']} asks{again}, {kinds['follow-up']} follow-ups "
        f"({kinds['retry']} sent again as Slack retries), {kinds['click']} feedback clicks"
    )
    print(
        f"ack: p50 {statistics.median(ms):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms  "
        f"max {max(ms):.1f} ms  over {GOAL_ACK_S:g} s: {late}  "
        f"not 200: {sum(failed.values())}{f' {dict(failed)}' if failed else ''}  (n={len(ms)})"
    )
    for kind in ("ask", "ask-retry", "follow-up", "retry", "click"):
        of_kind = [a.seconds * 1000 for a in soak.acks if a.kind == kind]
        if of_kind:
            print(
                f"  {kind:<9} p50 {statistics.median(of_kind):6.1f} ms  "
                f"p99 {percentile(of_kind, 0.99):6.1f} ms  max {max(of_kind):6.1f} ms"
            )
    print(
        f"answers: expected {len(expected)} ({len(soak.asks_sent)} asks + "
        f"{len(soak.follow_ups)} follow-ups), delivered exactly once {once}, "
        f"missing {len(missing)}, duplicated {len(duplicated)}"
    )
    print(
        f"  in the wrong thread: {len(wrong_thread)}; posts with no marker: "
        f"{len(soak.unmatched)}; for asks never sent: {len(strays)}; "
        f"retried follow-ups answered twice: {len(retried_twice)}/{len(soak.retried)}"
        + (
            f"; asks sent twice answered twice: {len(asks_twice)}/{len(soak.asks_retried)}"
            if soak.asks_retried
            else ""
        )
    )
    for label, markers in (
        ("missing", missing),
        ("duplicated", duplicated),
        ("wrong thread", wrong_thread),
    ):
        if markers:
            print(f"  {label}: {', '.join('#' + m for m in markers[:20])}")
    for post in soak.unmatched[:5]:
        print(f"  no marker: channel {post.channel} thread_ts {post.thread_ts} ts {post.ts}")
    for label, wanted in (("ask", str.isdigit), ("follow-up", lambda m: m.endswith("f"))):
        answered = [p.at for m in expected if wanted(m) for p in soak.posts.get(m, [])[:1]]
        if answered:
            last = max(answered) - soak.began
            print(
                f"  the last answer to a{'n' * (label == 'ask')} {label} came {last:.1f} s "
                "after the first ask was sent"
            )
    if claude_calls is not None:
        pace = f", each held {args.claude_seconds:g} s" if args.claude_seconds else ""
        print(f"Claude: {claude_calls} Messages API requests received by the stand-in{pace}")
    print(
        f"feedback: {soak.clicks} clicks, {thanked} thanked; "
        f"other private replies: {len(other_replies)}"
    )
    for text in other_replies[:5]:
        print(f"  private reply: {text[:160]}")
    error_lines = 0
    for server in servers:
        counts, lines, warnings = log_findings(server.log_path)
        error_lines += len(lines)
        who = f"{server.name} " if count > 1 else ""
        print(
            f"log: {who}"
            + ", ".join(f"{p} {counts[p]}" for p in LOG_PATTERNS)
            + f" lines ({server.log_path})"
        )
        for line in lines[:10]:
            print(f"  {line[:200]}")
        print(f"  WARNING lines (not counted as errors): {sum(warnings.values())}")
        for kind, times in warnings.most_common(5):
            print(f"  {times:6d} x {kind}")
    growths = []
    for server in servers:
        assert server.rss is not None
        line, growth = rss_figures(server.rss)
        growths.append(growth)
        print(f"RSS: {f'{server.name}: ' if count > 1 else ''}{line}")
        end_t = server.rss.samples[-1][0]
        by_minute = [server.rss.at(60.0 * m) for m in range(int(end_t // 60) + 1)]
        print("  by minute: " + "  ".join(f"{t / 60:.0f}: {mb(kb):.1f}" for t, kb in by_minute))
    if count > 1:
        print_per_process(soak, servers, claims)

    goals = [
        (
            f"every request acknowledged within {GOAL_ACK_S:g} s",
            late == 0 and not failed,
        ),
        ("every answer delivered exactly once", once == len(expected) and not wrong_thread),
        (f"zero unhandled exceptions in the log{'s' * (count > 1)}", not error_lines),
        (
            f"RSS growth <= {GOAL_RSS_GROWTH_MB:g} MB from minute 1 to the end"
            + (" (each process)" if count > 1 else ""),
            max(growths) <= GOAL_RSS_GROWTH_MB,
        ),
    ]
    print("goals:")
    for goal, ok in goals:
        print(f"  {verdict(ok):<4} {goal}")


def print_per_process(soak: Soak, servers: list[Server], claims: Counter[str]) -> None:
    """Per process: the requests sent to it by kind, its ack p50/p99, and how many of this
    run's asks it answered (from the database's pending_asks)."""
    print("per process:")
    for server in servers:
        acks = [a for a in soak.acks if a.process == server.index]
        kinds = Counter(a.kind for a in acks)
        ms = [a.seconds * 1000 for a in acks]
        sent = ", ".join(
            f"{kinds[k]} {k}" for k in ("ask", "ask-retry", "follow-up", "retry", "click")
        )
        figures = (
            f"ack p50 {statistics.median(ms):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms"
            if ms
            else "no requests"
        )
        print(f"  {server.name}: sent {sent}; {figures}")
        mine = {k: v for k, v in claims.items() if k.startswith(f"process {server.index + 1} ")}
        if mine:
            print(
                "    its claims in pending_asks (warm-up included): "
                + ", ".join(f"{v} {k.rpartition(' ')[2]}" for k, v in sorted(mine.items()))
            )
    others = {k: v for k, v in claims.items() if not k.startswith("process ")}
    if others:
        print(
            "  other rows of this run in pending_asks: "
            + ", ".join(f"{v} {k}" for k, v in others.items())
        )


def main() -> int:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--claude", action="store_true", help="Claude writes the answers")
    parser.add_argument(
        "--claude-seconds",
        type=float,
        default=0.0,
        help="with --claude: each Messages API request takes this long (a real model's pace)",
    )
    parser.add_argument("--seed", type=int, default=1, help="which asks get follow-ups, clicks")
    parser.add_argument(
        "--database-url",
        help="the database every process shares, e.g. postgresql+psycopg://user@host/db (an "
        "empty one, or one only soaks used). Default: a fresh SQLite file",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="how many serve processes share the database; asks go round-robin, a follow-up "
        "and a retry to another process",
    )
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.database_url is not None and (left := open_asks(args.database_url)):
        raise SystemExit(
            f"{redacted_url(args.database_url)} holds {left} unanswered asks of an earlier run: "
            "its processes would answer them as if they were this run's. Use a fresh database."
        )

    slack = RecordingSlackApi().start()
    claude = None
    if args.claude:
        claude = AnthropicStandIn(api_key=ANTHROPIC_KEY, timeout_seconds=args.claude_seconds)
        claude.start()
        if args.claude_seconds:
            claude.fail_next("timeout", times=10**9)  # every answer held back that long
    work = Path(tempfile.mkdtemp(prefix="soak-bench-"))
    database_url = args.database_url or sqlite_url(work)
    servers: list[Server] = []
    try:
        env = serve_env(work, slack, claude, args.database_url)
        servers = start_servers(work, env, args.processes)
        soak = Soak([s.port for s in servers], slack, args)
        # Warm-up, not counted: answered without follow-ups or clicks (round-robin too, so
        # that every process is warm).
        soak.reacting = False
        for number in range(WARM_UP_ASKS):
            soak.ask(number, warm_up=True)
        warm = [f"w{n}" for n in range(WARM_UP_ASKS)]
        deadline = time.monotonic() + 120
        while not soak.settled(warm) and time.monotonic() < deadline:
            soak.listen_until(time.monotonic() + 0.2)
        soak.reacting, soak.counting = True, True

        for server in servers:
            server.rss = RssSampler(server.process.pid).start()
        began = soak.began = time.monotonic()
        bursts = math.ceil(args.asks / args.concurrency)
        interval = args.minutes * 60 / bursts
        for burst in range(bursts):
            soak.listen_until(began + burst * interval)
            for number in range(burst * args.concurrency, (burst + 1) * args.concurrency):
                if number < args.asks:
                    soak.ask(number)
        soak.listen_until(began + args.minutes * 60)
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while not soak.settled(soak.expected()) and time.monotonic() < deadline:
            soak.listen_until(time.monotonic() + 0.2)
        soak.reacting = False  # from here on, anything posted is only counted
        soak.listen_until(time.monotonic() + QUIET_S)
        wall_s = time.monotonic() - began
        for server in servers:
            assert server.rss is not None
            server.rss.stop()
        replies = [c.params.get("text", "") for c in slack.calls_to("response_url")]
        soak.pool.shutdown(wait=False)
        claude_calls = len(claude.requests_to("/v1/messages")) if claude is not None else None
    finally:
        stop_servers(servers)
        slack.stop()
        if claude is not None:
            claude.stop()
    # Read once every process has stopped: nobody is claiming any more.
    claims = answered_by(database_url, servers, RUN) if len(servers) > 1 else Counter()
    thanked = sum(1 for text in replies if text.startswith("Thanks: noted"))
    busy = sum(1 for text in replies if text.startswith("Busy:"))
    print(f'told they were waiting ("Busy: about N questions ahead"): {busy}')
    others = [t for t in replies if not t.startswith(("Thanks: noted", "Busy:"))]
    report(soak, args, servers, database_url, wall_s, thanked, others, claude_calls, claims)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
