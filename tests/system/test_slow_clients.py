"""`episode-bot serve` against clients that do not behave: idle and slow connections that
would tie up the server (none of them signed), and headers or forms that used to slip past
the screening into a 500 (timestamps that are not Unix seconds, `payload=` twice, a slash
command that says "payload").

One real `serve` subprocess for the module, on loopback, against the Slack Web API stand-in;
its log is a file, and each test checks that what was logged meanwhile holds no traceback.
The figures under load are benchmarks/slow_clients.py's.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.slack.server import REQUEST_DEADLINE_S, SWEEP_EVERY_S
from tests.fakes.slack_api import SlackApiStandIn
from tests.system.test_hostile_slack import _start_serve
from tests.system.test_slack_serve import ACK_BUDGET_S, SIGNING_SECRET, Server

HEALTHZ_BUDGET_S = 1.0
IDLE_CONNECTIONS = 150  # waitress's default limit was 100: 101 took serve off the air
# The sweep runs every SWEEP_EVERY_S, so a connection lives up to one sweep past its deadline.
CUT_OFF_WITHIN_S = REQUEST_DEADLINE_S + SWEEP_EVERY_S + 1.0
TRICKLE_EVERY_S = 0.5  # more often than the deadline's sweep: never idle, never done
REQUEST_LINE = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@dataclass
class Running:
    """The module's serve, its log, and where the log stood when a test began."""

    server: Server
    log_path: Path
    log_mark: int = 0
    _ids = count(1)

    @property
    def port(self) -> int:
        return self.server.port

    def log_since_mark(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_mark)
            return log.read().decode(errors="replace")

    def unique(self) -> str:
        return f"{next(self._ids)}.{time.time_ns()}"


@pytest.fixture(scope="module")
def module_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("slow-clients-serve")
    slack = SlackApiStandIn().start()
    process, port, log_path = _start_serve(tmp, slack)
    try:
        yield Running(Server(process, port, slack), log_path)  # type: ignore[arg-type]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        slack.stop()


@pytest.fixture
def serve(module_serve: Running) -> Iterator[Running]:
    """The module's serve, its log marked; after the test, nothing logged is a traceback."""
    module_serve.log_mark = module_serve.log_path.stat().st_size
    yield module_serve
    logged = module_serve.log_since_mark()
    assert "Traceback" not in logged, logged[-3000:]


def _healthz_seconds(port: int) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        assert response.status == 200
    return time.perf_counter() - started


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (without blocking)."""
    sock.setblocking(False)
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


def _ask(serve: Running, text: str) -> tuple[int, str, float]:
    # Slack's trigger ids are unique; the bot drops a replayed one.
    return serve.server.post(serve.server.command(text, trigger_id=serve.unique()))


def _answered(serve: Running, marker: str, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(marker in json.dumps(c.params) for c in serve.server.slack.calls):
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ slow and idle clients


def test_many_idle_connections_do_not_stop_healthz_or_an_ask(serve: Running) -> None:
    with ExitStack() as stack:
        idle = [
            stack.enter_context(socket.create_connection(("127.0.0.1", serve.port), timeout=5))
            for _ in range(IDLE_CONNECTIONS)
        ]
        time.sleep(0.5)  # all accepted by now, none has sent a byte
        assert _healthz_seconds(serve.port) < HEALTHZ_BUDGET_S
        status, _, seconds = _ask(serve, "ask Who is Boris? (#idle-150)")
        assert status == 200 and seconds < ACK_BUDGET_S
        assert _answered(serve, "(#idle-150)")
        # And they do not stay: each is closed once its deadline has passed.
        time.sleep(CUT_OFF_WITHIN_S)
        assert all(_closed_by_server(sock) for sock in idle)


def test_slow_senders_are_cut_off_within_the_deadline_and_hold_up_nobody(
    serve: Running,
) -> None:
    """A slow-loris header sender, a body trickled after a Content-Length, and a client that
    says nothing: each keeps its connection busy, none gets past the deadline."""
    scripts = {
        "headers byte by byte": REQUEST_LINE + b"X-Slow: " + b"a" * 1000,
        "body byte by byte": REQUEST_LINE + b"Content-Length: 1000\r\n\r\n" + b"x" * 1000,
        "nothing": b"",
    }
    with ExitStack() as stack:
        socks = {
            name: stack.enter_context(
                socket.create_connection(("127.0.0.1", serve.port), timeout=5)
            )
            for name in scripts
        }
        opened = time.monotonic()
        sent = dict.fromkeys(scripts, 0)
        # The body's headers go at once: only the body is slow.
        headers_end = scripts["body byte by byte"].index(b"\r\n\r\n") + 4
        socks["body byte by byte"].sendall(scripts["body byte by byte"][:headers_end])
        sent["body byte by byte"] = headers_end
        lived: dict[str, float] = {}
        healthz: list[float] = []
        while len(lived) < len(scripts) and time.monotonic() - opened < CUT_OFF_WITHIN_S + 2:
            for name, sock in socks.items():
                if name in lived:
                    continue
                if _closed_by_server(sock):
                    lived[name] = time.monotonic() - opened
                elif sent[name] < len(scripts[name]):
                    sock.setblocking(True)
                    try:
                        sock.send(scripts[name][sent[name] : sent[name] + 1])
                        sent[name] += 1
                    except OSError:
                        lived[name] = time.monotonic() - opened
            healthz.append(_healthz_seconds(serve.port))
            time.sleep(TRICKLE_EVERY_S)
        status, _, seconds = _ask(serve, "ask Who is Boris? (#after-slow)")

    assert set(lived) == set(scripts), f"still open after {CUT_OFF_WITHIN_S + 2:g} s: {lived}"
    assert all(s < CUT_OFF_WITHIN_S for s in lived.values()), lived
    # Cut off by the deadline, not by a limit on what they sent: they were still sending.
    assert all(sent[n] < len(scripts[n]) for n in scripts if scripts[n]), sent
    assert max(healthz) < HEALTHZ_BUDGET_S, healthz
    assert status == 200 and seconds < ACK_BUDGET_S


# ------------------------------------------------------------------ headers and forms


def _signed_raw(
    serve: Running, body: bytes, stamp: str, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, str]:
    """POST `body` signed with the real secret over `stamp`, whatever `stamp` is."""
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    connection = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(len(body)))
        # http.client sends str headers as latin-1, as a client could: `²` is one byte.
        connection.putheader("X-Slack-Request-Timestamp", stamp)
        connection.putheader("X-Slack-Signature", f"v0={digest.hexdigest()}")
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.parametrize(
    "stamp",
    ["1" * 400, "9" * 5000, "\u00b2", "\u00b9\u00b2\u00b3", " 1700000000", "+1700000000", "-1"],
    ids=["400-digits", "5000-digits", "superscript-two", "superscripts", "space", "plus", "neg"],
)
def test_a_timestamp_that_is_not_unix_seconds_is_a_401(serve: Running, stamp: str) -> None:
    body = urlencode(serve.server.command("help", trigger_id=serve.unique())).encode()
    status, text = _signed_raw(serve, body, stamp)
    assert (status, text.strip()) == (401, "The request is not signed by Slack.")


def _click(**overrides: object) -> str:
    payload: dict[str, object] = {
        "type": "block_actions",
        "user": {"id": "U0ASKER"},
        "team": {"id": "T00000001"},
        "actions": [{"action_id": "feedback_helpful", "value": "999999"}],
        **overrides,
    }
    return json.dumps(payload)


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ([("payload", _click()), ("payload", "not json")], "not a JSON object"),
        ([("payload", _click()), ("payload", '{"type": "block_actions"}')], "no action"),
        ([("payload", _click()), ("payload", "[]")], "not a JSON object"),
        ([("payload", "{}"), ("payload", _click(type=7))], "has no type"),
    ],
    ids=["last-not-json", "last-no-actions", "last-an-array", "last-type-not-a-string"],
)
def test_a_duplicated_payload_is_judged_by_the_value_bolt_reads(
    serve: Running, fields: list[tuple[str, str]], sentence: str
) -> None:
    """Bolt reads the last `payload=`; a good first one must not let a bad last one in."""
    stamp = str(int(time.time()))
    status, text = _signed_raw(serve, urlencode(fields).encode(), stamp)
    assert status == 400 and sentence in text


def test_a_duplicated_payload_whose_last_value_is_good_is_handled(serve: Running) -> None:
    stamp = str(int(time.time()))
    body = urlencode([("payload", "not json"), ("payload", _click())]).encode()
    status, _ = _signed_raw(serve, body, stamp)
    assert status == 200  # the click on an answer that no longer exists: an ephemeral


def test_a_slash_command_that_says_payload_is_not_lost(serve: Running) -> None:
    """Bolt reads any form with the word `payload` in it as an interaction, and this one as
    nothing: it used to be a 404 and no answer."""
    status, body, _ = _ask(serve, "payload")  # not a subcommand: help, in the acknowledgement
    assert status == 200 and "/episode ask" in json.loads(body)["text"]
    status, _, seconds = _ask(serve, "ask What is in the payload? (#payload-word)")
    assert status == 200 and seconds < ACK_BUDGET_S
    assert _answered(serve, "(#payload-word)")
