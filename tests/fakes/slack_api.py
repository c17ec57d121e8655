"""A Slack Web API stand-in on loopback: the real `slack_sdk` clients talk to it through
`base_url`. It records every call, answers in Slack's wire format, and can be told to
answer 429 (with Retry-After), a Slack error, or an HTTP error the next times a method is
called.

It keeps the messages it was sent by (channel, ts) as Slack does: posted, updated, deleted,
or streamed into a thread with chat.startStream / appendStream / stopStream, and it keeps
the assistant thread statuses that assistant.threads.setStatus set.

It also runs Slack's side of OAuth v2 (tests/fakes/slack_oauth.py): `add_workspace` gives a
code that oauth.v2.access exchanges for a bot token, refresh tokens rotate, and the tokens
it issued answer auth.test for their own workspace until expired or revoked. Any other
token answers as the one fixed workspace (TEAM_ID, BOT_USER_ID)."""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.slack_oauth import OAuthApp, basic_credentials

BOT_USER_ID = "UBOT00001"
TEAM_ID = "T00000001"
LOST_REPLY = -1  # a failure "status": the call works, its reply is lost
MAX_SUGGESTED_PROMPTS = 4  # Slack shows at most four

Answer = dict[str, Any]


def _error(error: str) -> Answer:
    return {"ok": False, "error": error}


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
class _Message:
    """One message Slack holds, posted or streamed; `history` is its entry in
    `SlackApiStandIn.channel_messages`, kept in step so conversations.history shows edits."""

    channel: str
    ts: str
    text: str | None = None
    blocks: Any = None  # a list of block dicts, or the JSON string a form post carries
    thread_ts: str | None = None
    metadata: Any = None
    streamed: bool = False
    streamed_text: str = ""
    streaming: bool = False
    expired: bool = False
    appends: int = 0
    tasks: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, Any] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The message as Slack's answers show it: only the fields it has."""
        fields = {
            "text": self.text,
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "metadata": self.metadata,
        }
        return {
            **{k: v for k, v in fields.items() if v is not None},
            "ts": self.ts,
            "user": BOT_USER_ID,
        }

    def view(self) -> dict[str, Any]:
        """The message as a test sees it: every field, plus the streaming state."""
        seen: dict[str, Any] = {
            "ts": self.ts,
            "user": BOT_USER_ID,
            "text": self.text,
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "metadata": self.metadata,
        }
        if self.streamed:
            seen.update(
                streamed_text=self.streamed_text,
                streaming=self.streaming,
                expired=self.expired,
                tasks=self.tasks,
            )
        return copy.deepcopy(seen)

    def sync(self) -> None:
        """Rewrite the history entry in place, so references to it see the change."""
        self.history.clear()
        self.history.update(self.wire())

    def stream(self, params: dict[str, Any]) -> None:
        """Add what a start/append/stop call carries: `markdown_text`, then its chunks."""
        text = str(params.get("markdown_text") or "")
        for chunk in params.get("chunks") or []:
            if chunk.get("type") == "markdown_text":
                text += str(chunk.get("text") or "")
            elif chunk.get("type") == "task_update":
                self.tasks.append(chunk)
        self.streamed_text += text
        self.text = self.streamed_text
        self.sync()


@dataclass
class SlackApiStandIn:
    """Start with `start()`; point clients at `url`; inspect `calls`, `message(...)`,
    `messages_in(...)` and `statuses`. For OAuth: `add_workspace(...)`, then exchange its
    code with `client_id` / `client_secret`."""

    calls: list[Call] = field(default_factory=list)
    # What was posted or streamed, by channel, for conversations.history; chat.update
    # edits these entries in place and chat.delete removes them.
    channel_messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # The latest assistant thread status by (channel_id, thread_ts); a reply clears it.
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    # What apps.connections.open hands out: the Socket Mode stand-in's URL, when there is one.
    socket_url: str | None = None
    # The app's credentials, which oauth.v2.access checks, and the app_id it answers.
    client_id: str = "1111.2222"
    client_secret: str = "stand-in-secret"
    app_id: str = "A0STANDIN"
    _oauth: OAuthApp = field(default_factory=OAuthApp)
    _messages: dict[tuple[str, str], _Message] = field(default_factory=dict)
    _stream_refusal: str | None = None
    _expire_after: int | None = None
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

    def refuse_streams(self, error: str = "feature_not_enabled") -> None:
        """Make every chat.startStream from now on fail with `error`, until `allow_streams()`:
        a workspace or app without text streaming."""
        with self._lock:
            self._stream_refusal = error

    def allow_streams(self) -> None:
        """Let chat.startStream work again after `refuse_streams()`."""
        with self._lock:
            self._stream_refusal = None

    def expire_streams_after(self, appends: int) -> None:
        """End every stream's streaming state once it has had `appends` successful
        chat.appendStream calls: the next append or stop answers
        `message_not_in_streaming_state`, as when Slack expires a stream server-side."""
        with self._lock:
            self._expire_after = appends
            for message in self._messages.values():
                self._expire_if_due(message)

    def expire_stream(self, channel: str, ts: str) -> None:
        """Expire one stream now, as Slack does to a stream left idle."""
        with self._lock:
            message = self._messages.get((channel, ts))
            assert message is not None and message.streamed, f"no stream {channel} {ts}"
            if message.streaming:
                message.streaming, message.expired = False, True

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message at (channel, ts) as it is now, or None if there is none (or it was
        deleted). Keys: ts, user, text, blocks, thread_ts, metadata (None when unset); a
        streamed message adds streamed_text, streaming, expired and tasks (its
        task_update chunks in order)."""
        with self._lock:
            found = self._messages.get((channel, ts))
            return found.view() if found is not None else None

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Every message in `channel` as `message()` shows it, in the order it was posted."""
        with self._lock:
            return [m.view() for m in self._messages.values() if m.channel == channel]

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method, in order."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def tokens_used(self, method: str) -> list[str | None]:
        """The bearer token of each call to `method`, in order (None when it had none)."""
        return [call.token for call in self.calls_to(method)]

    def add_workspace(
        self,
        team_id: str,
        *,
        team_name: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        rotating: bool = False,
        expires_in: int = 43200,
        bot_user_id: str | None = None,
    ) -> str:
        """Let workspace `team_id` install the app and return a one-time OAuth code for
        oauth.v2.access. Called again for the same team (a reinstall) it updates the
        workspace and returns a new code; the bot user stays the same. A `rotating`
        workspace gets refresh tokens and access tokens that lapse after `expires_in`
        seconds."""
        with self._lock:
            return self._oauth.add_workspace(
                team_id,
                team_name=team_name,
                enterprise_id=enterprise_id,
                enterprise_name=enterprise_name,
                rotating=rotating,
                expires_in=expires_in,
                bot_user_id=bot_user_id,
            )

    def new_code(self, team_id: str) -> str:
        """Another one-time OAuth code for a workspace added with `add_workspace`."""
        with self._lock:
            return self._oauth.new_code(team_id)

    def expire_token(self, token: str) -> None:
        """From now on every call with `token` answers `token_expired`, as Slack does once a
        rotating token's lifetime is over. Works for any token, issued here or not."""
        with self._lock:
            self._oauth.expire(token)

    def revoke_workspace(self, team_id: str) -> None:
        """Uninstall the app from `team_id`: every token issued to it answers `invalid_auth`,
        and its refresh tokens and unused codes are refused. `add_workspace` again (a
        reinstall) gives a code whose tokens work."""
        with self._lock:
            self._oauth.revoke(team_id)

    def team_of_token(self, token: str) -> str | None:
        """The team_id a token was issued to here, or None for a token it never issued."""
        with self._lock:
            return self._oauth.team_of(token)

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
        basic = basic_credentials(auth)
        # A client secret sent as a form field is checked, but never kept where tests (and
        # their failure output) can show it.
        recorded = {k: v for k, v in params.items() if k != "client_secret"}
        with self._lock:
            self.calls.append(Call(method, recorded, token))
            failure = self._take_failure(method)
        if failure is not None and failure.status == LOST_REPLY:
            # Slack did the work, but its reply never reaches the client.
            with self._lock:
                self._reply(method, params, token, basic)
            request.close_connection = True
            return
        if failure is not None:
            self._send_failure(request, failure)
        elif webhook:
            self._send(request, 200, {"ok": True})
        else:
            # Requests arrive on several threads; the message and token stores change
            # under the lock.
            with self._lock:
                answer = self._reply(method, params, token, basic)
            self._send(request, 200, answer)

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
                _error("ratelimited"),
                {"Retry-After": str(failure.retry_after)},
            )
        elif failure.error is not None:
            self._send(request, failure.status, _error(failure.error))
        else:
            self._send(request, failure.status, _error("fatal_error"))

    def _reply(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        basic: tuple[str, str] | None,
    ) -> Answer:
        """Slack's answer to one Web API call; the caller holds the lock. oauth.v2.access
        authenticates with the app's credentials, every other method with a token that
        is neither expired nor revoked."""
        if method == "oauth.v2.access":
            return self._oauth.access(
                params,
                basic,
                client_id=self.client_id,
                client_secret=self.client_secret,
                app_id=self.app_id,
            )
        if token is None:
            return _error("not_authed")
        refusal = self._oauth.refusal(token)
        if refusal is not None:
            return _error(refusal)
        if method == "auth.test":
            # A token issued here names its own workspace; any other, the fixed one.
            issued = self._oauth.auth_test(token)
            if issued is not None:
                return issued
        return self._answer(method, params)

    def _answer(self, method: str, params: dict[str, Any]) -> Answer:
        """Slack's answer to one authenticated call; the caller holds the lock."""
        routes: dict[str, Callable[[dict[str, Any]], Answer]] = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.startStream": self._start_stream,
            "chat.appendStream": self._append_stream,
            "chat.stopStream": self._stop_stream,
            "assistant.threads.setStatus": self._set_status,
            "assistant.threads.setSuggestedPrompts": self._set_suggested_prompts,
            "conversations.history": self._history,
        }
        if method in routes:
            return routes[method](params)
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID, "bot_id": "B0001"}
        if method == "apps.connections.open":
            if self.socket_url is None:
                return _error("invalid_auth")
            return {"ok": True, "url": self.socket_url}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._new_ts()}
        return {"ok": True}

    def _new_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _add(self, message: _Message) -> _Message:
        """Store a new message and show it in history; a reply in a thread clears that
        thread's assistant status, as Slack does."""
        self._messages[(message.channel, message.ts)] = message
        message.sync()
        self.channel_messages.setdefault(message.channel, []).append(message.history)
        if message.thread_ts is not None:
            self.statuses.pop((message.channel, message.thread_ts), None)
        return message

    def _expire_if_due(self, message: _Message) -> None:
        due = self._expire_after is not None and message.appends >= self._expire_after
        if message.streaming and due:
            message.streaming, message.expired = False, True

    def _post_message(self, params: dict[str, Any]) -> Answer:
        message = self._add(
            _Message(
                channel=str(params.get("channel")),
                ts=self._new_ts(),
                text=params.get("text"),
                blocks=params.get("blocks"),
                thread_ts=params.get("thread_ts"),
                metadata=params.get("metadata"),
            )
        )
        return {
            "ok": True,
            "channel": params.get("channel"),
            "ts": message.ts,
            "message": message.wire(),
        }

    def _update(self, params: dict[str, Any]) -> Answer:
        message = self._messages.get((str(params.get("channel")), str(params.get("ts"))))
        if message is None:
            return _error("message_not_found")
        # Slack keeps what an update leaves out; `blocks: []` is how to drop them.
        text = params.get("text", params.get("markdown_text"))
        if text is not None:
            message.text = text
        if "blocks" in params:
            message.blocks = params["blocks"] or None
        if "metadata" in params:
            message.metadata = params["metadata"]
        message.streaming = False  # an edited stream is finished, expired or not
        message.sync()
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.wire(),
        }

    def _delete(self, params: dict[str, Any]) -> Answer:
        message = self._messages.pop((str(params.get("channel")), str(params.get("ts"))), None)
        if message is None:
            return _error("message_not_found")
        history = self.channel_messages.get(message.channel, [])
        history[:] = [m for m in history if m is not message.history]
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _start_stream(self, params: dict[str, Any]) -> Answer:
        if not params.get("channel") or not params.get("thread_ts"):
            return _error("invalid_arguments")  # streamed messages are always replies
        if self._stream_refusal is not None:
            return _error(self._stream_refusal)
        message = self._add(
            _Message(
                channel=str(params["channel"]),
                ts=self._new_ts(),
                text="",
                thread_ts=str(params["thread_ts"]),
                streamed=True,
                streaming=True,
            )
        )
        message.stream(params)
        self._expire_if_due(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _streaming_message(self, params: dict[str, Any]) -> _Message | None:
        message = self._messages.get((str(params.get("channel")), str(params.get("ts"))))
        return message if message is not None and message.streaming else None

    def _append_stream(self, params: dict[str, Any]) -> Answer:
        message = self._streaming_message(params)
        if message is None:
            return _error("message_not_in_streaming_state")
        if "markdown_text" not in params and "chunks" not in params:
            return _error("invalid_arguments")
        message.stream(params)
        message.appends += 1
        self._expire_if_due(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _stop_stream(self, params: dict[str, Any]) -> Answer:
        message = self._streaming_message(params)
        if message is None:
            return _error("message_not_in_streaming_state")
        # Slack renders the stop's blocks at the bottom of the finished message.
        if params.get("blocks"):
            message.blocks = params["blocks"]
        if "metadata" in params:
            message.metadata = params["metadata"]
        message.stream(params)
        message.streaming = False
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.wire()}

    def _set_status(self, params: dict[str, Any]) -> Answer:
        channel, thread_ts, status = (
            params.get("channel_id"),
            params.get("thread_ts"),
            params.get("status"),
        )
        if not channel or not thread_ts or not isinstance(status, str):
            return _error("invalid_arguments")
        if status:
            self.statuses[(str(channel), str(thread_ts))] = status
        else:  # an empty status is how Slack clears it
            self.statuses.pop((str(channel), str(thread_ts)), None)
        return {"ok": True}

    def _set_suggested_prompts(self, params: dict[str, Any]) -> Answer:
        prompts = params.get("prompts")
        valid = (
            bool(params.get("channel_id"))
            and isinstance(prompts, list)
            and 0 < len(prompts) <= MAX_SUGGESTED_PROMPTS
            and all(
                isinstance(p, dict)
                and all(isinstance(p.get(k), str) and p[k] for k in ("title", "message"))
                for p in prompts
            )
        )
        return {"ok": True} if valid else _error("invalid_arguments")

    def _history(self, params: dict[str, Any]) -> Answer:
        found = self.channel_messages.get(str(params.get("channel")), [])
        oldest = float(params.get("oldest") or 0)
        with_metadata = str(params.get("include_all_metadata")).lower() in {"1", "true"}
        # Copies: the answer is sent after the lock is let go, while edits may go on.
        messages = [
            dict(m) if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in reversed(found)
            if float(m["ts"]) > oldest
        ]
        return {"ok": True, "messages": messages, "has_more": False}

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
