"""A Slack Web API stand-in on loopback: the real `slack_sdk` clients talk to it through
`base_url`. It records every call, answers in Slack's wire format, and can be told to
answer 429 (with Retry-After), a Slack error, or an HTTP error the next times a method is
called."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "UBOT00001"
TEAM_ID = "T00000001"
LOST_REPLY = -1  # a failure "status": the call works, its reply is lost


@dataclass(frozen=True)
class Call:
    """One request as the stand-in received it."""

    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class SlackApiStandIn:
    """Start with `start()`; point clients at `url`; inspect `calls`."""

    calls: list[Call] = field(default_factory=list)
    # What chat.postMessage "posted", by channel, for conversations.history.
    channel_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # What apps.connections.open hands out: the Socket Mode stand-in's URL, when there is one.
    socket_url: str | None = None
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Base URL for `WebClient(base_url=...)`, trailing slash included as Slack's."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    def start(self, port: int = 0) -> SlackApiStandIn:
        """Serve on loopback in a background thread: on a free port, or on `port` again
        after `stop()` (Slack coming back after an outage)."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stand_in._handle(self)

            def log_message(self, *_args: object) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Shut the server down: connections are refused until `start(port)`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def outage(self, seconds: float) -> None:
        """Go away for `seconds` (connections refused), then come back on the same port."""
        assert self._server is not None, "start() the stand-in first"
        port = self._server.server_port
        self.stop()
        threading.Timer(seconds, lambda: self.start(port)).start()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail: 429 with `retry_after`, a Slack
        error (`ok: false`) with `error`, or any other HTTP `status`."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, error, retry_after, times)
            )

    def lose_reply_next(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` take effect but get no reply: the connection
        closes, as when a network drops Slack's answer."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(LOST_REPLY, None, None, times))

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    @property
    def response_url(self) -> str:
        """A `response_url` to put in slash-command payloads; posts to it are recorded as
        calls of the method "response_url"."""
        return self.url.replace("/api/", "/response_url")

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        webhook = not request.path.startswith("/api/")
        method = "response_url" if webhook else request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode()
        if request.headers.get("Content-Type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        with self._lock:
            self.calls.append(Call(method, params, token))
            failure = self._take_failure(method)
        if failure is not None and failure.status == LOST_REPLY:
            # Slack did the work, but its reply never reaches the client.
            with self._lock:
                self._answer(method, params)
            request.close_connection = True
            return
        if failure is not None:
            self._send_failure(request, failure)
        elif webhook:
            self._send(request, 200, {"ok": True})
        elif token is None:
            self._send(request, 200, {"ok": False, "error": "not_authed"})
        else:
            self._send(request, 200, self._answer(method, params))

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _send_failure(self, request: BaseHTTPRequestHandler, failure: _Failure) -> None:
        if failure.retry_after is not None:
            self._send(
                request,
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(failure.retry_after)},
            )
        elif failure.error is not None:
            self._send(request, failure.status, {"ok": False, "error": failure.error})
        else:
            self._send(request, failure.status, {"ok": False, "error": "fatal_error"})

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID, "bot_id": "B0001"}
        if method in {"chat.postMessage", "chat.update"}:
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            message = {
                k: v for k, v in params.items() if k in {"text", "blocks", "thread_ts", "metadata"}
            }
            if method == "chat.postMessage":
                self.channel_messages.setdefault(str(params.get("channel")), []).append(
                    {**message, "ts": ts, "user": BOT_USER_ID}
                )
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {**message, "ts": ts, "user": BOT_USER_ID},
            }
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": self.socket_url}
        if method == "conversations.history":
            found = self.channel_messages.get(str(params.get("channel")), [])
            oldest = float(params.get("oldest") or 0)
            with_metadata = str(params.get("include_all_metadata")).lower() in {"1", "true"}
            messages = [
                m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in reversed(found)
                if float(m["ts"]) > oldest
            ]
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        return {"ok": True}

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)
