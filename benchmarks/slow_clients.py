"""`episode-bot serve` under hundreds of slow and idle connections (slow-loris style).

    .venv/bin/python benchmarks/slow_clients.py [--connections 500] [--seconds 20]

Starts `episode-bot serve` (LOG_LEVEL=INFO, its output kept in a file) against the loopback
Slack Web API stand-in, then opens --connections TCP connections that never finish a
request, none of them signed: a third connect and send nothing, a third send a request's
headers one byte a second, a third send whole headers with a Content-Length and trickle the
body one byte a second. Whenever the server closes one, it is opened again at once, so the
same number stay open (or waiting to be accepted) for the whole run. Meanwhile, for
--seconds, it sends `GET /healthz` every 0.1 s and a signed `/episode ask` every 0.5 s, and
prints their latency (p50/p99/max, and any that failed or timed out), whether every ask was
acknowledged within Slack's 3 s and answered exactly once, and how long the server let each
kind of slow connection stay open. Always exits 0: it is a benchmark.

It needs about --connections + 100 open files on each side; the soft `ulimit -n` is raised
within the hard limit if need be (serve raises its own).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.signed_requests import post_signed  # noqa: E402
from tests.fakes.slack_api import SlackApiStandIn  # noqa: E402

BOT_TOKEN = "xoxb-slow-clients-benchmark-token"
SIGNING_SECRET = "slowslowslowslowslowslowslow1234"
GOAL_HEALTHZ_S = 1.0
GOAL_ACK_S = 3.0
HEALTHZ_EVERY_S = 0.1
ASK_EVERY_S = 0.5
PROBE_TIMEOUT_S = 10.0  # long enough to see how late an answer is, not only that it is
TRICKLE_EVERY_S = 1.0
KINDS = ("idle", "slow headers", "slow body")
HEADERS = (
    b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
)
# Header lines that never end: one byte a second for as long as the server listens.
ENDLESS_HEADER = b"X-Slow: " + b"a" * 100_000
BODY_LENGTH = 100_000


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_open_file_limit(wanted: int) -> int:
    """The soft open-file limit, raised towards `wanted` within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Slow:
    """One slow connection: what it sends, how much of it has gone, when it was opened."""

    kind: str
    sock: socket.socket
    opened: float
    script: bytes
    sent: int = 0


@dataclass
class SlowClients:
    """Keeps `count` slow connections open to the server, reopening any it closes, from one
    thread; records how long the server let each one live."""

    port: int
    count: int
    lifetimes: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    refused: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _open(self, kind: str) -> Slow | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        except OSError:
            self.refused += 1
            return None
        sock.setblocking(False)
        if kind == "idle":
            script = b""
        elif kind == "slow headers":
            script = HEADERS + ENDLESS_HEADER
        else:
            script = (
                HEADERS + f"Content-Length: {BODY_LENGTH}\r\n\r\n".encode() + b"x" * BODY_LENGTH
            )
        slow = Slow(kind, sock, time.monotonic(), script)
        if kind == "slow body":  # the headers at once, then the body byte by byte
            slow.sent = self._send(slow, len(script) - BODY_LENGTH)
        return slow

    @staticmethod
    def _send(slow: Slow, size: int) -> int:
        try:
            return slow.sent + slow.sock.send(slow.script[slow.sent : slow.sent + size])
        except (BlockingIOError, InterruptedError):
            return slow.sent

    def start(self) -> SlowClients:
        """Open them all, then keep them trickling in a background thread."""
        opened = [self._open(KINDS[n % len(KINDS)]) for n in range(self.count)]
        self._thread = threading.Thread(target=self._run, args=(opened,), daemon=True)
        self._thread.start()
        return self

    def _run(self, opened: list[Slow | None]) -> None:
        selector = selectors.DefaultSelector()
        for slow in opened:
            if slow is not None:
                selector.register(slow.sock, selectors.EVENT_READ, slow)
        missing = [KINDS[n % len(KINDS)] for n, slow in enumerate(opened) if slow is None]
        next_trickle = time.monotonic() + TRICKLE_EVERY_S
        while not self._stop.is_set():
            for key, _ in selector.select(timeout=0.05):
                slow = key.data
                try:
                    data = slow.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # the server closed it (or answered it, then closed it)
                    self.lifetimes[slow.kind].append(time.monotonic() - slow.opened)
                    selector.unregister(slow.sock)
                    slow.sock.close()
                    missing.append(slow.kind)
            while missing and not self._stop.is_set():
                slow = self._open(missing[0])
                if slow is None:
                    break
                missing.pop(0)
                selector.register(slow.sock, selectors.EVENT_READ, slow)
            if time.monotonic() >= next_trickle:
                next_trickle += TRICKLE_EVERY_S
                for key in list(selector.get_map().values()):
                    slow = key.data
                    if slow.kind != "idle" and slow.sent < len(slow.script):
                        with contextlib.suppress(OSError):  # closed: the selector says so
                            slow.sent = self._send(slow, 1)
        for key in list(selector.get_map().values()):
            key.data.sock.close()
        selector.close()

    def stop(self) -> None:
        """Close every connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def healthz(port: int) -> float | None:
    """Seconds for one `GET /healthz`, or None if it failed or took over the timeout."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=PROBE_TIMEOUT_S
        ) as response:
            response.read()
            ok = response.status == 200
    except OSError:
        return None
    return time.perf_counter() - started if ok else None


def ask(port: int, n: int, response_url: str) -> float | None:
    """Seconds until one signed `/episode ask` is acknowledged, or None if it was not."""
    body = urlencode(
        {
            "command": "/episode",
            "text": f"ask What did Mike say about the merge queue? (#{n})",
            "channel_id": "C0SLOW",
            "user_id": "U0SLOW",
            "team_id": "T00000001",
            "response_url": response_url,
            "trigger_id": f"{n}.{time.time_ns()}",  # unique, as Slack's are (replays are dropped)
        }
    )
    try:
        status, _, seconds = post_signed(
            f"http://127.0.0.1:{port}/slack/events", body, SIGNING_SECRET
        )
    except OSError:
        return None
    return seconds if status == 200 else None


def every(interval: float, until: float, probe: object, results: list[float | None]) -> None:
    """Call `probe(n)` every `interval` seconds until `until`, each in its own thread, so a
    slow one does not delay the next. Adds one result each to `results`: None for a probe
    that failed, or was not back PROBE_TIMEOUT_S after the last one started."""
    answers: list[float | None] = []
    threads: list[threading.Thread] = []
    while time.monotonic() < until:
        started = time.monotonic()
        answers.append(None)

        def run(number: int = len(answers) - 1) -> None:
            answers[number] = probe(number)  # type: ignore[operator]

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    give_up = time.monotonic() + PROBE_TIMEOUT_S
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.monotonic()))
    results.extend(answers)  # a copy: a probe back later does not count


def figures(name: str, results: list[float | None], goal: float) -> bool:
    """Print one line of latency figures; whether every result met `goal`."""
    done = [r for r in results if r is not None]
    failed = len(results) - len(done)
    if not done:
        print(f"{name}: none of {len(results)} answered within {PROBE_TIMEOUT_S:g} s")
        return False
    ms = [s * 1000 for s in done]
    over = sum(1 for s in done if s >= goal)
    print(
        f"{name}: p50 {statistics.median(ms):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms  "
        f"max {max(ms):.1f} ms  over {goal:g} s: {over}  failed or timed out: {failed}  "
        f"(n={len(results)})"
    )
    return over == 0 and failed == 0


def connections_of(pid: int) -> int:
    """How many sockets the serve process holds open."""
    count = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed while we looked
                count += os.readlink(entry.path).startswith("socket:")
    return count


def main() -> int:
    """Run serve, open the slow connections, probe it meanwhile, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    limit = raise_open_file_limit(args.connections + 200)
    if limit < args.connections + 100:
        print(f"open-file limit {limit} is too low: `ulimit -n {args.connections + 200}` first")
        return 0

    slack = SlackApiStandIn().start()
    work = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(
        XDG_DATA_HOME=str(work),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        PYTHONPATH=str(REPO),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.url,
        LOG_LEVEL="INFO",
    )
    port = free_port()
    log_path = work / "serve.log"
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "episode-bot"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    slow: SlowClients | None = None
    health: list[float | None] = []
    acks: list[float | None] = []
    sockets: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while healthz(port) is None:
            if time.monotonic() > deadline or bot.poll() is not None:
                print(f"serve did not start; its log: {log_path}")
                return 0
            time.sleep(0.2)
        for n in range(5):  # warm-up, not counted
            ask(port, -1 - n, slack.response_url)

        slow = SlowClients(port, args.connections).start()
        time.sleep(1.0)  # let them all connect
        until = time.monotonic() + args.seconds
        probes = [
            threading.Thread(
                target=every, args=(HEALTHZ_EVERY_S, until, lambda _: healthz(port), health)
            ),
            threading.Thread(
                target=every,
                args=(ASK_EVERY_S, until, lambda n: ask(port, n, slack.response_url), acks),
            ),
        ]
        for probe in probes:
            probe.start()
        while time.monotonic() < until:
            sockets.append(connections_of(bot.pid))
            time.sleep(1.0)
        for probe in probes:
            probe.join()
        slow.stop()
        # Answers come after acknowledgements: give the last ones time to be posted.
        expected = sum(1 for a in acks if a is not None)
        wait_until = time.monotonic() + 30
        while time.monotonic() < wait_until:
            if len(slack.calls_to("chat.postMessage")) >= expected + 5:
                break
            time.sleep(0.2)
        time.sleep(1.0)
        posts = slack.calls_to("chat.postMessage")
    finally:
        if slow is not None:
            slow.stop()
        bot.terminate()
        try:
            bot.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bot.kill()
        slack.stop()

    per_ask = Counter(
        str(call.params.get("blocks", "")).split("(#")[1].split(")")[0]
        for call in posts
        if "(#" in str(call.params.get("blocks", ""))
    )
    acked = [n for n, seconds in enumerate(acks) if seconds is not None]
    once = sum(1 for n in acked if per_ask.get(str(n)) == 1)
    log = log_path.read_text(errors="replace")
    # waitress's warning (it stops accepting), or serve's (it closes the longest waiting).
    limited = log.count("reached the connection limit") + log.count("connections open, the limit")
    print(
        f"{args.connections} slow connections ({', '.join(KINDS)}: a third each), "
        f"reopened when closed, for {args.seconds:g} s"
    )
    health_ok = figures("/healthz", health, GOAL_HEALTHZ_S)
    ack_ok = figures("ask acknowledged", acks, GOAL_ACK_S)
    print(f"asks acknowledged and answered exactly once: {once}/{len(acks)}")
    for kind in KINDS:
        lived = slow.lifetimes[kind] if slow is not None else []
        if lived:
            print(
                f"{kind}: closed by the server {len(lived)} times, after p50 "
                f"{statistics.median(lived):.1f} s  max {max(lived):.1f} s"
            )
        else:
            print(f"{kind}: never closed by the server in {args.seconds:g} s")
    if sockets:
        print(f"serve's open sockets, sampled each second: min {min(sockets)} max {max(sockets)}")
    print(
        f"log: Traceback {log.count('Traceback')}, ERROR {log.count('ERROR')}, "
        f"at the connection limit {limited} times ({log_path})"
    )
    ok = health_ok and ack_ok and once == len(acks)
    print(
        f"goals: /healthz under {GOAL_HEALTHZ_S:g} s, every ask acknowledged under "
        f"{GOAL_ACK_S:g} s and answered once: {'ok' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
