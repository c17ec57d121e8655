"""`episode-bot serve`: the Bolt app over HTTP on waitress, a production WSGI server.

POST /slack/events goes to Bolt (which checks every request's signature); GET /healthz says
the process is up. Bodies over 1 MB are refused by the server before Bolt sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

MAX_BODY_BYTES = 1_048_576
THREADS = 16  # acknowledgements must not queue behind slow answers

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App) -> WsgiApp:
    """Bolt's WSGI handler plus a health check."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


def serve(app: App, *, host: str, port: int) -> None:
    """Serve until interrupted."""
    waitress.serve(
        wsgi_app(app),
        host=host,
        port=port,
        threads=THREADS,
        max_request_body_size=MAX_BODY_BYTES,
        ident="episode-bot",
    )
