"""An Anthropic Messages API stand-in on loopback: the real `anthropic` SDK talks to it
through `base_url`. It checks requests as the real API would, answers from the documents
and search results it was sent (cited, non-streaming or as server-sent events), reports
usage with a deterministic prompt-cache simulation, records every request, and can be
told to fail the next calls (429, 529, 500, 401, a slow answer, or a stream that breaks
off) or to cite badly. With `pace` set it answers at a real model's speed, and records
when each streamed answer's first and last pieces went out.

Usage is an estimate, for cost comparisons (see `anthropic_answers.tokens`): every text
costs ceil(len / 4) tokens. Caching follows the real API's rules in simplified form:
each block with cache_control ends a cacheable prefix if that prefix has at least
`min_cache_tokens` tokens; a request reads the longest prefix still cached, writes the
rest up to its last cacheable breakpoint, and entries live 5 minutes (or 1 hour) from
their last use, on `clock`."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import anthropic_answers as answers

FAULTS = {
    "429": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your "
        "organization of 50 requests per minute. Please try again later.",
    ),
    "529": (529, "overloaded_error", "Overloaded"),
    "500": (500, "api_error", "Internal server error"),
    "401": (401, "authentication_error", "invalid x-api-key"),
}
# Faults of a streamed answer: it breaks off right after message_start ("cut",
# "stream_error") or after about half of its content deltas ("cut_midway",
# "error_midway"); the "error" ones send an overloaded_error event before closing.
STREAM_BREAKS = frozenset({"cut", "stream_error", "cut_midway", "error_midway"})


@dataclass(frozen=True)
class Recorded:
    """One request as the stand-in received it, and the status it answered (for a
    "timeout" fault, the status of the late answer). Header names are lowercased.

    Times are on `time.monotonic` (not on the stand-in's `clock`, which a test may
    fake), so a benchmark can set them against its own: when the request arrived and,
    for a streamed answer, when its first and last content deltas (pieces of text, of
    tool input, or citations) were actually sent; None until one is, and for
    everything else. The record is replaced as a stream goes on, so read it from
    `requests` once the answer is in."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int
    usage: dict[str, Any] | None
    arrived: float = 0.0
    first_delta_sent: float | None = None
    last_delta_sent: float | None = None


@dataclass
class _Fault:
    kind: str
    times: int
    retry_after: float | None


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False  # send `body` (a message) as server-sent events
    delay: float = 0.0
    # One of STREAM_BREAKS: where a stream stops, and whether an overloaded error event
    # goes out first (as the real API sends one when it fails mid-answer).
    breaks: str | None = None
    pace: tuple[float, float] | None = None  # AnthropicStandIn.pace when it answered


def _error(status: int, kind: str, message: str, **headers: str) -> _Reply:
    return _Reply(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)


@dataclass
class AnthropicStandIn:
    """Start with `start()`; point `anthropic.Anthropic(api_key=..., base_url=url)` at it;
    inspect `requests`. The SDK sends the key as `Authorization: Bearer`; `x-api-key`
    (the API's documented header) is accepted too and wins when both are sent."""

    api_key: str = "sk-ant-test-standin"
    # How long a "timeout" fault holds its answer back.
    timeout_seconds: float = 5.0
    # The smallest prefix that is cached (the real API's minimum for Sonnet models).
    min_cache_tokens: int = 1024
    # Models known besides every "claude-*" id.
    known_models: frozenset[str] = frozenset()
    # Cache expiry runs on this clock, so a test can move time on instead of sleeping.
    clock: Callable[[], float] = time.monotonic
    # Offered tools and given no tool result yet, search once before answering, as a model
    # that checks the library for itself would (see `anthropic_answers.search_query`).
    search_first: bool = True
    # Answer at a model's speed: (first_token_seconds, total_seconds) after the request
    # arrives, a streamed answer's first content delta goes out, then the rest evenly
    # spaced up to its last at total_seconds; a non-streamed answer is held back
    # total_seconds. None: everything at once. Errors are never paced. See `set_pace`.
    pace: tuple[float, float] | None = None
    requests: list[Recorded] = field(default_factory=list)
    _faults: deque[_Fault] = field(default_factory=deque)
    _scripted_calls: deque[list[tuple[str, Any]]] = field(default_factory=deque)
    _keep_calling: int = 0
    _bad_citations: int = 0
    _cache: dict[str, float] = field(default_factory=dict)  # key -> expiry on `clock`
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _request_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _tool_use_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Base URL for `anthropic.Anthropic(base_url=...)`."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> AnthropicStandIn:
        """Serve on a free loopback port in a background thread."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in._handle(self)

            def do_POST(self) -> None:
                stand_in._handle(self)

            def log_message(self, *_args: object) -> None:  # keep test output clean
                pass

        self._stopping.clear()
        server = self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval, as shutdown() waits up to one of them.
        poll = {"poll_interval": 0.05}
        threading.Thread(target=server.serve_forever, kwargs=poll, daemon=True).start()
        return self

    def stop(self) -> None:
        """Shut the server down; a request held back by a "timeout" fault is dropped."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail_next(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """Make the next `times` POST /v1/messages fail: "429" (rate_limit_error, with a
        retry-after header of `retry_after` seconds, default 1), "529" (overloaded_error),
        "500" (api_error), "401" (authentication_error), "timeout" (the answer comes
        after `timeout_seconds`, so a client with a shorter timeout gives up), or, for
        streamed requests (a non-streamed one is answered in full, and uses up the
        fault): "cut" (the stream ends after message_start), "stream_error" (an
        overloaded_error event after message_start), "cut_midway" (the connection
        drops after about half of the content deltas, so some answer text went out;
        sent chunked, as the real API streams, so the SDK sees an incomplete body
        rather than a stream that just ended) and "error_midway" (an overloaded_error
        event after about half of the content deltas, then the stream closes)."""
        if kind not in {*FAULTS, "timeout", *STREAM_BREAKS}:
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, times, retry_after))

    def set_pace(self, first_token_seconds: float, total_seconds: float) -> None:
        """Answer from now on at a model's speed (see `pace`): the first content delta
        `first_token_seconds` after the request arrives, the last `total_seconds` after
        it. Set `pace = None` to answer at once again."""
        if not 0 <= first_token_seconds <= total_seconds:
            raise ValueError(
                f"need 0 <= first_token_seconds <= total_seconds, got "
                f"{first_token_seconds!r}, {total_seconds!r}"
            )
        self.pace = (first_token_seconds, total_seconds)

    def bad_citations_next(self, times: int = 1) -> None:
        """Make the next `times` cited answers carry, after their good citations, three
        that a careful client must refuse (see `anthropic_answers.answer`)."""
        with self._lock:
            self._bad_citations += times

    def tool_calls_next(self, *calls: tuple[str, Any]) -> None:
        """Make the next reply that may call tools call these, (name, input) each, all in
        one reply (parallel calls). Each use queues one more such reply."""
        with self._lock:
            self._scripted_calls.append(list(calls))

    def keep_calling_tools(self, times: int = 100) -> None:
        """Make the next `times` replies that may call tools search again, as a model that
        never settles would; a reply under tool_choice none still answers."""
        with self._lock:
            self._keep_calling += times

    def requests_to(self, path: str) -> list[Recorded]:
        """Recorded requests to one path, in order."""
        with self._lock:
            return [recorded for recorded in self.requests if recorded.path == path]

    # ------------------------------------------------------------------------ serving

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        reply = self._reply(request.command, request.path, headers, body, raw)
        usage = reply.body.get("usage") if reply.status == 200 else None
        recorded = Recorded(request.path, headers, body, reply.status, usage, arrived)
        with self._lock:
            self.requests.append(recorded)
            at = len(self.requests) - 1
        hold = reply.delay
        if reply.pace is not None and not reply.stream:
            hold = max(hold, reply.pace[1])
        # Event.wait wakes at once when stop() is called, so a held answer never delays it.
        if hold and self._stopping.wait(max(0.0, arrived + hold - time.monotonic())):
            return
        request_id = f"req_standin{next(self._request_ids):012d}"
        # OSError: the client gave up (its timeout) and closed the connection.
        with contextlib.suppress(OSError):
            if reply.stream:
                self._stream(request, reply, request_id, arrived, at)
            else:
                self._send(request, reply, request_id)

    def _reply(
        self, method: str, path: str, headers: dict[str, str], body: Any, raw: bytes
    ) -> _Reply:
        if not self._authorized(headers):
            return _error(401, *FAULTS["401"][1:])
        if "anthropic-version" not in headers:
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        route = path.split("?", 1)[0]
        if method == "POST" and route == "/v1/messages":
            return self._messages(body, raw)
        if method == "GET" and route.startswith("/v1/models/"):
            return self._model(route.removeprefix("/v1/models/"))
        return _error(404, "not_found_error", "Not Found")

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = headers.get("x-api-key")
        if key is None:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            key = token if scheme.lower() == "bearer" else None
        return key == self.api_key

    def _known(self, model: str) -> bool:
        return model.startswith("claude-") or model in self.known_models

    def _model(self, model_id: str) -> _Reply:
        if not self._known(model_id):
            return _error(404, "not_found_error", f"model: {model_id}")
        return _Reply(
            200,
            {
                "type": "model",
                "id": model_id,
                "display_name": display_name(model_id),
                "created_at": "2026-01-01T00:00:00Z",
                # Required by this SDK's ModelInfo; the real API sends it.
                "lifecycle": "active",
            },
        )

    def _messages(self, body: Any, raw: bytes) -> _Reply:
        with self._lock:
            fault = self._take_fault()
        if fault is not None and fault.kind in STREAM_BREAKS:
            return replace(self._answer(body, raw), breaks=fault.kind)
        if fault is not None and fault.kind != "timeout":
            status, kind, message = FAULTS[fault.kind]
            if fault.kind != "429":
                return _error(status, kind, message)
            wait = 1.0 if fault.retry_after is None else fault.retry_after
            return _error(status, kind, message, **{"retry-after": f"{wait:g}"})
        reply = self._answer(body, raw)
        return replace(reply, delay=self.timeout_seconds) if fault is not None else reply

    def _take_fault(self) -> _Fault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self._faults.popleft()
        return fault

    def _answer(self, body: Any, raw: bytes) -> _Reply:
        if body is None:
            message = "The request body is not valid JSON." if raw else "The request has no body."
            return _error(400, "invalid_request_error", message)
        try:
            answers.validate(body)
        except answers.InvalidRequest as invalid:
            return _error(400, "invalid_request_error", str(invalid))
        if not self._known(body["model"]):
            return _error(404, "not_found_error", f"model: {body['model']}")
        stop_reason = "end_turn"
        with self._lock:
            calls = self._tool_calls(body) if answers.offers_tools(body) else None
            if answers.wants_takeaways(body):
                content = answers.takeaways_json(body)
            elif calls:
                content = [{"type": "text", "text": "Let me search the library."}]
                content += [
                    answers.tool_use(name, given, f"toolu_standin{next(self._tool_use_ids):012d}")
                    for name, given in calls
                ]
                stop_reason = "tool_use"
            else:
                content = answers.answer(body)
            if self._bad_citations and any(block.get("citations") for block in content):
                self._bad_citations -= 1
                content = answers.answer(body, bad_citations=True)
            usage = self._usage(body)
            message_id = f"msg_standin{next(self._message_ids):012d}"
        usage["output_tokens"] = answers.output_tokens(content)
        message = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        return _Reply(200, message, stream=bool(body.get("stream")), pace=self.pace)

    def _tool_calls(self, body: dict[str, Any]) -> list[tuple[str, Any]] | None:
        """The calls this reply makes, if it makes any (lock held)."""
        if self._scripted_calls:
            return self._scripted_calls.popleft()
        query = {"query": answers.search_query(body) or "the question"}
        if self._keep_calling:
            self._keep_calling -= 1
            return [("search_transcripts", query)]
        if self.search_first and not answers.tool_results(body):
            return [("search_transcripts", query)]
        return None

    def _usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Input usage of a valid request, reading and writing the cache (lock held)."""
        total, marks = answers.breakpoints(body)
        now = self.clock()
        cacheable = [mark for mark in marks if mark.tokens >= self.min_cache_tokens]
        hits = [mark for mark in cacheable if self._cache.get(mark.key, -1.0) > now]
        read = max(hits, key=lambda mark: mark.tokens) if hits else None
        read_tokens = read.tokens if read else 0
        if read is not None:
            self._cache[read.key] = now + answers.TTL_SECONDS[read.ttl]
        written = {"5m": 0, "1h": 0}
        if cacheable and cacheable[-1].tokens > read_tokens:
            # Each breakpoint writes the tokens between the one before it (or what was
            # read) and itself, at its own TTL.
            done = read_tokens
            for mark in cacheable:
                if mark.tokens > done:
                    written[mark.ttl] += mark.tokens - done
                    done = mark.tokens
                self._cache[mark.key] = now + answers.TTL_SECONDS[mark.ttl]
        created = written["5m"] + written["1h"]
        return {
            "input_tokens": total - read_tokens - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written["5m"],
                "ephemeral_1h_input_tokens": written["1h"],
            },
            "output_tokens": 0,
            "service_tier": "standard",
        }

    def _stream(
        self,
        request: BaseHTTPRequestHandler,
        reply: _Reply,
        request_id: str,
        arrived: float,
        at: int,
    ) -> None:
        """Send `reply.body` as server-sent events, paced and broken off as `reply` says,
        noting in `requests[at]` when content deltas go out."""
        events = list(stream_events(reply.body))
        deltas = [i for i, event in enumerate(events) if event["type"] == "content_block_delta"]
        stop_at = None  # the event after which the stream breaks off
        if reply.breaks in {"cut", "stream_error"} or (reply.breaks and not deltas):
            stop_at = 0  # message_start
        elif reply.breaks:
            stop_at = deltas[max(1, len(deltas) // 2) - 1]
        # A cut is only visible to the client in a body that says where it ends: chunked,
        # which needs HTTP/1.1. Otherwise HTTP/1.0, where the stream ends when the
        # connection closes, so a connection closed early reads as a stream that ended.
        chunked = reply.breaks == "cut_midway"
        if chunked:
            request.protocol_version = "HTTP/1.1"
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream; charset=utf-8")
        request.send_header("Cache-Control", "no-cache")
        request.send_header("request-id", request_id)
        if chunked:
            request.send_header("Transfer-Encoding", "chunked")
            request.send_header("Connection", "close")
        request.end_headers()

        def write(name: str, data: dict[str, Any]) -> None:
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            if chunked:
                payload = b"%x\r\n%s\r\n" % (len(payload), payload)
            request.wfile.write(payload)
            request.wfile.flush()

        for i, (event, due) in enumerate(zip(events, _schedule(events, reply.pace), strict=True)):
            # Waiting on _stopping, so stop() never waits for a paced answer.
            if due is not None and self._stopping.wait(max(0.0, arrived + due - time.monotonic())):
                return
            if event["type"] == "content_block_delta":
                # Noted as it is handed out: noted after, the client may already have read it.
                self._delta_sent(at)
            write(event["type"], event)
            if i == stop_at:
                if reply.breaks in {"stream_error", "error_midway"}:
                    error = {"type": "error", "error": {"type": "overloaded_error"}}
                    error["error"]["message"] = "Overloaded"
                    write("error", error)
                return  # closing the connection, with no end chunk if chunked
        if chunked:
            request.wfile.write(b"0\r\n\r\n")

    def _delta_sent(self, at: int) -> None:
        """Note on `requests[at]` that a content delta is going out now."""
        now = time.monotonic()
        with self._lock:
            if at >= len(self.requests):  # the list was emptied meanwhile: nothing to note
                return
            recorded = self.requests[at]
            first = now if recorded.first_delta_sent is None else recorded.first_delta_sent
            self.requests[at] = replace(recorded, first_delta_sent=first, last_delta_sent=now)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, reply: _Reply, request_id: str) -> None:
        body = reply.body
        if body.get("type") == "error":  # the real API repeats the id in error bodies
            body = {**body, "request_id": request_id}
        payload = json.dumps(body).encode()
        request.send_response(reply.status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.send_header("request-id", request_id)
        for name, value in reply.headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)


def display_name(model_id: str) -> str:
    """'claude-sonnet-4-5-20250929' -> 'Claude Sonnet 4.5'."""
    parts = model_id.split("-")
    names = [p.capitalize() for p in parts if not p.isdigit()]
    version = ".".join(p for p in parts if p.isdigit() and len(p) < 8)
    return " ".join([*names, version] if version else names)


def _schedule(events: list[dict[str, Any]], pace: tuple[float, float] | None) -> list[float | None]:
    """When each of `events` is due, in seconds after the request arrived (None: at
    once, after the one before). Under `pace` = (first, total), content deltas are due
    evenly from `first` to `total`; a block starts with its first delta, as the real API
    starts one when its first token is ready; message_delta is due at `total` even when
    there are too few deltas to span the time."""
    due: list[float | None] = [None] * len(events)
    if pace is None:
        return due
    first, total = pace
    deltas = [i for i, event in enumerate(events) if event["type"] == "content_block_delta"]
    step = (total - first) / (len(deltas) - 1) if len(deltas) > 1 else 0.0
    for k, i in enumerate(deltas):
        due[i] = first + k * step
    for i, event in enumerate(events):
        if event["type"] == "content_block_start" and i + 1 < len(events):
            due[i] = due[i + 1]
        elif event["type"] == "message_delta":
            due[i] = total
    return due


def stream_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The server-sent events of `message`, as the real API streams them; each is sent
    under its `type` as the event name (the SDK drops unnamed events). message_start holds
    the whole input usage (the SDK takes `cache_creation` from there only); message_delta
    repeats the cumulative counts, which the SDK copies over the snapshot's."""
    usage = message["usage"]
    started = {**message, "content": [], "stop_reason": None}
    yield {"type": "message_start", "message": {**started, "usage": {**usage, "output_tokens": 1}}}
    yield {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            # The input arrives as pieces of its JSON, which the SDK puts together.
            start = {**block, "input": {}}
            yield {"type": "content_block_start", "index": index, "content_block": start}
            given = json.dumps(block["input"])
            for at in range(0, len(given), 16):
                delta = {"type": "input_json_delta", "partial_json": given[at : at + 16]}
                yield {"type": "content_block_delta", "index": index, "delta": delta}
            yield {"type": "content_block_stop", "index": index}
            continue
        # A text block starts empty; the SDK turns `citations` into a list on the first
        # citations_delta, so none is announced here.
        start = {"type": "text", "text": ""}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        text = block["text"]
        deltas = [
            {"type": "text_delta", "text": text[at : at + 24]} for at in range(0, len(text), 24)
        ]
        deltas += [{"type": "citations_delta", "citation": c} for c in block.get("citations", [])]
        for delta in deltas:
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}
    counts = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
        "usage": {**{k: usage[k] for k in counts}, "output_tokens": usage["output_tokens"]},
    }
    yield {"type": "message_stop"}
