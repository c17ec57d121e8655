"""`episode-bot serve`: the Bolt app over HTTP on waitress, a production WSGI server.

POST /slack/events goes to Bolt (which checks every request's signature); GET /healthz says
the process is up; with many workspaces, GET /slack/install and /slack/oauth_redirect are
Bolt's OAuth install flow. Bodies over 1 MB and headers over 32 KB are refused before Bolt
sees them.

Slow or idle clients cannot take the server off the air. Waitress reads requests on its one
event-loop thread and hands only complete ones to the worker threads, so a client that
trickles its request holds a socket, never a worker. On top of waitress: a connection must
deliver a whole request within REQUEST_DEADLINE_S of being opened or of its last response,
however busily it trickles bytes, or it is closed; up to CONNECTION_LIMIT connections are held
(the open-file limit is raised for them); and at that limit the connections that have waited
longest are closed to make room, where waitress would stop accepting, leaving a health check
or Slack itself in the listen queue.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import re
import resource
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import SQLAlchemyError
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from bot.slack.in_flight import InFlight
from bot.slack.request_shape import shape_problem, spelled_for_bolt

MAX_BODY_BYTES = 1_048_576
MAX_HEADER_BYTES = 32_768  # Slack's headers are under 2 KB; waitress would buffer 256 KB each
THREADS = 16  # acknowledgements must not queue behind slow answers
# Slack gives up on a response after 3 s, so a request still arriving after 5 s is not
# Slack's; an idle kept-alive connection is closed as soon, and its client reconnects.
REQUEST_DEADLINE_S = 5
SWEEP_EVERY_S = 1  # how often the deadline is checked (waitress checks idleness every 30 s)
CONNECTION_LIMIT = 1000  # waitress's 100 let 101 idle sockets lock everyone out
FILES_KEPT_BACK = 100  # open files besides connections: database, clients, logs, temp bodies
MAKE_ROOM_SHARE = 0.1  # of the limit, closed at once when it is reached
MAKE_ROOM_LOG_EVERY_S = 60.0
# Slack's timestamps are Unix seconds in ASCII digits; anything else (`²`, 400 digits) is not
# Slack's, and would make slack_sdk's int()/float arithmetic raise instead of refuse.
TIMESTAMP = re.compile(r"[0-9]{1,12}")

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _plain(start_response: Callable[..., Any], status: str, sentence: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [sentence.encode() + b"\n"]


def _screened(
    environ: dict[str, Any], start_response: Callable[..., Any], verifier: SignatureVerifier
) -> list[bytes] | None:
    """A 401 or 400 for what is not a signed, well-formed Slack request; None lets it on.
    The body is read here and put back for Bolt."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(start_response, "400 Bad Request", "The request has no valid length.")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    headers = {
        "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
        "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
    }
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _plain(start_response, "400 Bad Request", "The request body is not UTF-8.")
    stamp = headers["x-slack-request-timestamp"]
    if not TIMESTAMP.fullmatch(stamp) or not verifier.is_valid_request(body, headers):
        return _plain(start_response, "401 Unauthorized", "The request is not signed by Slack.")
    content_type = environ.get("CONTENT_TYPE", "")
    if (spelled := spelled_for_bolt(text, content_type)) is not None:
        # Signed again for Bolt's own check, only now that Slack's signature is known good.
        body = spelled.encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["HTTP_X_SLACK_SIGNATURE"] = verifier.generate_signature(timestamp=stamp, body=body)
    if problem := shape_problem(body, content_type):
        return _plain(start_response, "400 Bad Request", problem)
    return None


def wsgi_app(
    app: App, in_flight: InFlight | None = None, signing_secret: str | None = None
) -> WsgiApp:
    """Bolt's WSGI handler plus a health check; Slack requests are counted in `in_flight`.
    With the signing secret, unsigned or malformed requests are refused before Bolt."""
    counter = in_flight or InFlight()
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    slack = SlackRequestHandler(app, path="/slack/events")

    oauth_paths = (
        {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path}
        if app.oauth_flow is not None
        else set()
    )

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        if path in oauth_paths and method == "GET":
            # A person's browser, not Slack: nothing to sign. Bolt checks the state instead.
            return _install_page(slack, environ, start_response)
        with counter.request():
            if verifier is not None and (refused := _screened(environ, start_response, verifier)):
                return refused
            # Bolt's adapter returns the whole body as a list, so the response is ready here.
            return slack(environ, start_response)

    return application


def _install_page(
    slack: SlackRequestHandler, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Bolt's install page or OAuth redirect; when the database cannot be reached (the state
    or the installation cannot be stored), one plain page saying so, and nothing stored."""
    try:
        return slack(environ, start_response)
    except SQLAlchemyError as exc:
        log.error("the install flow could not reach the database (%s)", type(exc).__name__)
        return _plain(
            start_response,
            "503 Service Unavailable",
            "The bot's database is unavailable, so nothing was installed: try again in a "
            "minute from /slack/install.",
        )


class _Channel(HTTPChannel):
    """Waitress's connection, remembering since when it has been ready for a request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ready_since: float = self.creation_time

    def service(self) -> None:
        """Answer the requests read (on a worker thread); the deadline restarts after."""
        # Also set before: the sweep must not see the request gone with the old time.
        self.ready_since = time.time()
        try:
            super().service()
        finally:
            self.ready_since = time.time()


class _Server(TcpWSGIServer):
    """Waitress's TCP server, with a deadline for each request to arrive whole and room
    made at the connection limit."""

    channel_class = _Channel
    _room_logged = 0.0

    def maintenance(self, now: float) -> None:
        """Close connections idle too long (waitress) and those overdue with a request."""
        super().maintenance(now)
        cutoff = now - REQUEST_DEADLINE_S
        for channel in self.active_channels.values():
            if (
                isinstance(channel, _Channel)
                and not channel.requests
                and channel.ready_since < cutoff
            ):
                channel.will_close = True

    def readable(self) -> bool:
        """Whether to accept now (waitress's, but for what it does at the limit). Waitress
        stops accepting until a connection closes by itself, with a warning each time; here
        the connections waiting longest are marked to close on this same turn of the loop,
        and accepting goes on from the next."""
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) >= self.adj.connection_limit:
            self._make_room(now)
            return False
        return True

    def _make_room(self, now: float) -> None:
        waiting = [
            c
            for c in self.active_channels.values()
            if isinstance(c, _Channel) and not c.requests and not c.will_close
        ]
        waiting.sort(key=lambda channel: channel.ready_since)
        closing = waiting[: max(1, int(self.adj.connection_limit * MAKE_ROOM_SHARE))]
        for channel in closing:
            channel.will_close = True
        if closing and now - self._room_logged >= MAKE_ROOM_LOG_EVERY_S:
            self._room_logged = now
            log.warning(
                "%d connections open, the limit: closing the %d waiting longest for a request "
                "(said once a minute at most)",
                len(self.active_channels),
                len(closing),
            )


def _connection_limit() -> int:
    """CONNECTION_LIMIT, or fewer if the open-file limit cannot be raised to hold them."""
    wanted = CONNECTION_LIMIT + FILES_KEPT_BACK
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft == resource.RLIM_INFINITY:
        return CONNECTION_LIMIT
    return max(1, min(CONNECTION_LIMIT, soft - FILES_KEPT_BACK))


def _create_server(application: WsgiApp, **settings: Any) -> BaseWSGIServer | MultiSocketServer:
    """waitress.create_server, with _Server for each address the host resolves to."""
    adj = Adjustments(**settings)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict[int, Any] = {}
    servers = [
        _Server(application, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info)
        for info in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)


def serve(
    app: App,
    *,
    host: str,
    port: int,
    in_flight: InFlight | None = None,
    signing_secret: str | None = None,
) -> None:
    """Serve until interrupted."""
    # What start-up built lives as long as the process: left in the collector's view, it made
    # one full collection stall every acknowledgement in flight for ~50 ms (ack p99 doubled).
    gc.collect()
    gc.freeze()
    server = _create_server(
        wsgi_app(app, in_flight, signing_secret),
        host=host,
        port=port,
        threads=THREADS,
        max_request_body_size=MAX_BODY_BYTES,
        max_request_header_size=MAX_HEADER_BYTES,
        connection_limit=_connection_limit(),
        channel_timeout=REQUEST_DEADLINE_S,
        cleanup_interval=SWEEP_EVERY_S,
        # select() cannot watch a descriptor numbered 1024 or more: poll() can.
        asyncore_use_poll=True,
        ident="episode-bot",
    )
    server.run()  # as waitress.serve does; returns on KeyboardInterrupt (SIGINT, SIGTERM)
