"""Hostile input to `episode-bot serve`: what people type (full-text operators, markup that
would ping a channel, control characters, 4,000-character pastes, requests to reveal the
bot's instructions) and malformed requests to POST /slack/events (missing fields, wrong
types, bodies that are not what their content type says, oversized bodies, unknown events,
clicks on answers that no longer exist).

One `serve` subprocess for the whole module (offline answers, as no Anthropic key is set),
against the loopback Slack Web API stand-in. Cases run one after the other: each waits for
its reply, then for `/episode stats` to come back, which goes through the same one-worker
answer pool and so proves that nothing of the case is still being worked on; the replies in
between are the case's, and the serve log written meanwhile must hold no traceback. The
corpus, with each case's expected outcome, is tests/data/hostile_inputs.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import pytest

from tests.data.hostile_inputs import (
    CLICKS,
    REQUESTS,
    RESPONSE_URL,
    ROOT_TS,
    TYPED,
    SlackRequest,
    TypedText,
)
from tests.fakes.slack_api import Call, SlackApiStandIn
from tests.system.test_slack_serve import (
    ACK_BUDGET_S,
    BOT_TOKEN,
    SCRIPT,
    SIGNING_SECRET,
    Server,
    _env,
    _event,
    _free_port,
)

REPLY_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"})
# Markup that notifies people: a reply holding any of these unescaped pings the channel.
PINGS = re.compile(r"<!(?:channel|here|everyone|subteam)")
# What hostile cases type to forge a mention or disguise a link; never rendered as markup.
FORGED = ("<@U123ABC>", "<https://evil.example")
REPLY_WAIT_S = 15.0  # an answer is worked out after the acknowledgement
SETTLE_S = 0.05  # for Bolt to hand an event's work over after acknowledging it
BARRIER_CHANNEL = "C0BARRIER"
BARRIER_REPLY = "*Answers*"  # how `/episode stats` replies begin
TEXT_LIMIT = 3000  # Slack's limit for a section's or context element's text
MAX_BLOCKS = 50
THREAD_CHANNEL = "C0THREADS"
TYPED_CHANNEL = "C0TYPED"


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll often: the corpus has a hundred cases, each waiting for a reply or two."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@dataclass(frozen=True)
class Mark:
    """Where the stand-in's calls and serve's log stood when a case started."""

    calls: int
    log: int


class Harness:
    """The module's one `serve`: send requests, see what it replied and logged since a mark."""

    def __init__(self, server: Server, log_path: Path, root_ts: str) -> None:
        self.server, self.log_path, self.root_ts = server, log_path, root_ts
        self.slack = server.slack
        self._ids = count(1)

    def mark(self) -> Mark:
        return Mark(len(self.slack.calls), self.log_path.stat().st_size)

    def calls_since(self, mark: Mark, until: int | None = None) -> list[Call]:
        with self.slack._lock:
            return list(self.slack.calls[mark.calls : until])

    def replies_since(self, mark: Mark, until: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls_since(mark, until)
            if c.method in REPLY_METHODS and (c.method == "response_url" or c.token == BOT_TOKEN)
        ]

    def barrier(self) -> int | None:
        """Everything handed to the bot's answer pool so far is done: `/episode stats` goes
        through that one-worker pool too, so its reply comes after theirs. Returns the index
        of that reply among the stand-in's calls (None if serve no longer answers)."""
        start = len(self.slack.calls)
        status, _, _ = self.server.post(self.server.command("stats", channel_id=BARRIER_CHANNEL))

        def index() -> int | None:
            with self.slack._lock:
                for at in range(start, len(self.slack.calls)):
                    call = self.slack.calls[at]
                    if call.method == "response_url" and str(
                        call.params.get("text", "")
                    ).startswith(BARRIER_REPLY):
                        return at
            return None

        if status != 200 or not _wait_for(lambda: index() is not None, REPLY_WAIT_S):
            return None
        return index()

    def log_since(self, mark: Mark) -> str:
        with self.log_path.open("rb") as log:
            log.seek(mark.log)
            return log.read().decode(errors="replace")

    def unique(self) -> int:
        return next(self._ids)

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        signature: str = "good",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, float]:
        """POST raw bytes to /slack/events, signed as Slack signs them (unless told not to).
        Status 0 means the connection failed before any status came back."""
        stamp = str(int(time.time()))
        sent = {"Content-Type": content_type, **(headers or {})}
        if signature != "none":
            secret = SIGNING_SECRET if signature == "good" else "not-the-signing-secret-at-all!!"
            digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
            sent["X-Slack-Request-Timestamp"] = stamp
            sent["X-Slack-Signature"] = f"v0={digest.hexdigest()}"
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        started = time.perf_counter()
        try:
            # The server may answer (413) and close before the body is all sent.
            with contextlib.suppress(OSError):
                connection.request("POST", "/slack/events", body=body, headers=sent)
            try:
                response = connection.getresponse()
                text = response.read().decode(errors="replace")
                return response.status, text, time.perf_counter() - started
            except (OSError, http.client.HTTPException) as exc:
                return 0, f"{exc.__class__.__name__}: {exc}", time.perf_counter() - started
        finally:
            connection.close()


def _start_serve(tmp: Path, slack: SlackApiStandIn) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = _free_port()
    log_path = tmp / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**_env(tmp, slack), "LOAD_SAMPLE_EPISODE": "true"},
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    if not _wait_for(healthy, 30):
        process.kill()
        process.wait()
        pytest.fail(f"serve did not start: {log_path.read_text(errors='replace')}")
    return process, port, log_path


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    tmp = tmp_path_factory.mktemp("hostile-serve")
    slack = SlackApiStandIn().start()
    process, port, log_path = _start_serve(tmp, slack)
    try:
        server = Server(process, port, slack)  # type: ignore[arg-type]
        # The thread that the thread cases reply in: an answer the bot posted.
        status, _, _ = server.post(server.command("ask Who is Boris?", channel_id=THREAD_CHANNEL))
        assert status == 200
        assert _wait_for(lambda: bool(slack.channel_messages.get(THREAD_CHANNEL)), REPLY_WAIT_S)
        root_ts = str(slack.channel_messages[THREAD_CHANNEL][0]["ts"])
        harness = Harness(server, log_path, root_ts)
        assert harness.barrier() is not None
        yield harness
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        slack.stop()


# ------------------------------------------------------------------ checking replies


def _params_of(call: Call) -> dict[str, Any]:
    params = dict(call.params)
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _ack_reply(body: str) -> dict[str, Any] | None:
    """The reply carried in the acknowledgement itself, if any (Bolt's `ack(text=...)`)."""
    if not body.strip():
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and ("text" in parsed or "blocks" in parsed) else None


def _text_objects(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)


def _is_answer(reply: dict[str, Any]) -> bool:
    """An answer carries feedback buttons; a sentence does not."""
    blocks = reply.get("blocks")
    return isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") in ("actions", "context_actions") for b in blocks
    )


def _is_ephemeral(reply: dict[str, Any], method: str) -> bool:
    return method == "chat.postEphemeral" or (
        method in {"ack", "response_url"} and reply.get("response_type", "ephemeral") == "ephemeral"
    )


def _problems_with(reply: dict[str, Any]) -> list[str]:
    """What is wrong with one reply: a ping, a forged mention or link, no text, a traceback
    shown to the user, or blocks Slack would refuse."""
    problems: list[str] = []
    rendered = json.dumps(
        {k: reply.get(k) for k in ("text", "blocks", "attachments")}, ensure_ascii=False
    )
    if found := PINGS.findall(rendered):
        problems.append(f"reply pings: {sorted(set(found))}")
    problems += [f"reply renders {forged!r} as markup" for forged in FORGED if forged in rendered]
    text = reply.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("reply has no text")
    if "Traceback (most recent call last)" in rendered or 'File "/' in rendered:
        problems.append("reply shows a traceback to the user")
    blocks = reply.get("blocks")
    if isinstance(blocks, list):
        if len(blocks) > MAX_BLOCKS:
            problems.append(f"{len(blocks)} blocks, over Slack's {MAX_BLOCKS}")
        too_long = [len(t) for t in _text_objects(blocks) if len(t) > TEXT_LIMIT]
        if too_long:
            problems.append(f"text objects over {TEXT_LIMIT} characters: {too_long}")
    return problems


def _excerpt(log: str) -> str:
    """The lines around the first traceback: what was logged, the innermost frames and the
    exception."""
    lines = log[log.find("Traceback") :].splitlines()
    end = next(
        (i for i, line in enumerate(lines[1:], 1) if line and not line.startswith(" ")),
        len(lines) - 1,
    )
    before = log[: log.find("Traceback")].splitlines()[-1:]
    return "\n".join([*before, lines[0], "  ...", *lines[max(1, end - 6) : end + 1]])


def _collect(
    harness: Harness, mark: Mark, ack_body: str, *, wait_for_one: float = 0
) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """Every reply since `mark` as (how it came, what it said): the acknowledgement's own
    body, posts, ephemerals and response_url posts; and whether serve still answers.
    Waits up to `wait_for_one` seconds for a first reply, then until the bot's answer pool
    has done all it was given (so that a second reply would be seen)."""
    ack = _ack_reply(ack_body)
    if wait_for_one and ack is None:
        _wait_for(lambda: bool(harness.replies_since(mark)), wait_for_one)
    time.sleep(SETTLE_S)
    until = harness.barrier()
    replies = [("ack", ack)] if ack is not None else []
    replies += [(c.method, _params_of(c)) for c in harness.replies_since(mark, until)]
    return replies, until is not None


# ------------------------------------------------------------------ typed text


def _deliver(harness: Harness, case: TypedText) -> tuple[int, str, float]:
    server, n = harness.server, harness.unique()
    ts = f"17000{n:05d}.000100"
    if case.via == "command":
        form = server.command(case.text, channel_id=TYPED_CHANNEL)
        return harness.send(urlencode(form).encode(), "application/x-www-form-urlencoded")
    if case.via == "thread":
        event = {
            "type": "message",
            "channel": THREAD_CHANNEL,
            "user": "U0OTHER",
            "channel_type": "channel",
            "text": case.text,
            "ts": ts,
            "thread_ts": harness.root_ts,
        }
    elif case.via == "dm":
        event = {
            "type": "message",
            "channel": "D0TYPED",
            "user": "U0ASKER",
            "channel_type": "im",
            "text": case.text,
            "ts": ts,
        }
    else:
        event = {
            "type": "app_mention",
            "channel": TYPED_CHANNEL,
            "user": "U0ASKER",
            "text": case.text,
            "ts": ts,
        }
    body = json.dumps(_event(f"Ev0TYPED{n:05d}", event)).encode()
    return harness.send(body, "application/json")


@pytest.mark.parametrize("case", TYPED, ids=[case.id for case in TYPED])
def test_typed_text_gets_one_reply_that_pings_nobody(harness: Harness, case: TypedText) -> None:
    mark = harness.mark()
    status, body, seconds = _deliver(harness, case)
    replies, alive = _collect(harness, mark, body, wait_for_one=REPLY_WAIT_S * (status == 200))
    log = harness.log_since(mark)

    problems: list[str] = []
    if status != 200:
        problems.append(f"status {status}: {body[:300]!r}")
    if seconds >= ACK_BUDGET_S:
        problems.append(f"acknowledged after {seconds:.2f} s")
    if len(replies) != 1:
        problems.append(f"{len(replies)} replies, not one: {[m for m, _ in replies]}")
    for method, reply in replies:
        problems += [f"{method}: {p}" for p in _problems_with(reply)]
    if "Traceback" in log:
        problems.append(f"traceback in serve's output:\n{_excerpt(log)}")
    if not alive:
        problems.append("serve stopped answering /episode stats afterwards")
    texts = [str(reply.get("text"))[:200] for _, reply in replies]
    assert not problems, f"{case.id}: {problems}\nreplies: {texts}"


# ------------------------------------------------------------------ malformed requests


def _fill(value: Any, harness: Harness) -> Any:
    """The case's placeholders replaced with this run's response_url and thread."""
    if isinstance(value, str):
        return value.replace(RESPONSE_URL, harness.slack.response_url).replace(
            ROOT_TS, harness.root_ts
        )
    if isinstance(value, dict):
        return {_fill(k, harness): _fill(v, harness) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(item, harness) for item in value]
    return value


def _body(case: SlackRequest, harness: Harness) -> bytes:
    if case.raw is not None:
        return case.raw.replace(
            RESPONSE_URL.encode(), quote_plus(harness.slack.response_url).encode()
        )
    if case.json_body is not None:
        return json.dumps(_fill(case.json_body, harness), ensure_ascii=False).encode()
    assert case.form is not None, case.id
    form = {
        k: json.dumps(_fill(CLICKS[v], harness)) if v in CLICKS else _fill(v, harness)
        for k, v in case.form.items()
    }
    return urlencode(form).encode()


@pytest.mark.parametrize("case", REQUESTS, ids=[case.id for case in REQUESTS])
def test_malformed_request_is_refused_or_ignored_and_never_a_5xx(
    harness: Harness, case: SlackRequest
) -> None:
    mark = harness.mark()
    status, body, seconds = harness.send(
        _body(case, harness), case.content_type, signature=case.signature, headers=case.headers
    )
    waits = case.expect == "ephemeral" and 200 <= status < 300
    replies, alive = _collect(harness, mark, body, wait_for_one=5.0 * waits)
    log = harness.log_since(mark)
    posts = [(m, r) for m, r in replies if not _is_ephemeral(r, m)]
    ephemerals = [(m, r) for m, r in replies if _is_ephemeral(r, m)]

    problems: list[str] = []
    if status == 0 or status >= 500:
        problems.append(f"status {status}: {body[:300]!r}")
    if seconds >= ACK_BUDGET_S:  # Slack gives up on a request after three seconds
        problems.append(f"status {status} came after {seconds:.2f} s")
    if "Traceback" in log:
        problems.append(f"traceback in serve's output:\n{_excerpt(log)}")
    for method, reply in replies:
        problems += [f"{method}: {p}" for p in _problems_with(reply)]
    if case.expect == "client":
        if not 400 <= status < 500 or (case.status and status != case.status):
            problems.append(f"expected {case.status or '4xx'}, got {status}")
        if replies:
            problems.append(f"a refused request was answered: {[m for m, _ in replies]}")
    elif case.expect == "challenge":
        if status != 200 or "h0st1le-ch4llenge" not in body:
            problems.append(f"expected the challenge back, got {status}: {body[:200]!r}")
    elif 200 <= status < 300 or case.expect == "ephemeral":
        if case.expect == "ephemeral":
            if len(ephemerals) != 1 or posts:
                problems.append(f"expected one ephemeral, got {[m for m, _ in replies]}")
            elif case.reply_contains not in str(ephemerals[0][1].get("text")):
                problems.append(f"ephemeral does not say {case.reply_contains!r}")
        elif len(replies) > 1:
            problems.append(f"{len(replies)} replies: {[m for m, _ in replies]}")
        elif case.expect == "quiet" and any(_is_answer(r) for _, r in replies):
            problems.append("an answer was posted for a malformed request")
    elif replies:
        problems.append(f"status {status}, yet replied: {[m for m, _ in replies]}")
    if not alive:
        problems.append("serve stopped answering /episode stats afterwards")
    texts = [str(reply.get("text"))[:200] for _, reply in replies]
    assert not problems, f"{case.id}: {problems}\nreplies: {texts}"


# ------------------------------------------------------------------ afterwards


def test_serve_still_answers_an_ask_after_the_whole_corpus(harness: Harness) -> None:
    mark = harness.mark()
    form = harness.server.command(
        "ask What share of Claude Code is written by Claude?", channel_id="C0AFTER"
    )
    status, _, seconds = harness.server.post(form)
    assert status == 200 and seconds < ACK_BUDGET_S
    assert _wait_for(lambda: bool(harness.replies_since(mark)), REPLY_WAIT_S)
    [post] = harness.replies_since(mark, harness.barrier())
    assert post.params["channel"] == "C0AFTER"
    assert "95%" in json.dumps(_params_of(post).get("blocks"), ensure_ascii=False)


def test_serve_log_holds_no_secret(harness: Harness) -> None:
    log = harness.log_since(Mark(0, 0))
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log
