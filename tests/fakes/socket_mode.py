"""A Slack Socket Mode stand-in on loopback: the WebSocket end of `apps.connections.open`.

It greets each client with `hello` as Slack does, delivers envelopes the test sends, and
collects the acknowledgements the client sends back."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class SocketModeStandIn:
    """Start with `start()`, hand `url` to the Web API stand-in, then `deliver()`."""

    acks: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    _connections: queue.Queue[ServerConnection] = field(default_factory=queue.Queue)
    _server: Server | None = None

    @property
    def url(self) -> str:
        """The WebSocket URL apps.connections.open should return."""
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link"

    def start(self) -> SocketModeStandIn:
        """Serve on a free loopback port in a background thread."""
        self._server = serve(self._handle, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()

    def wait_for_client(self, timeout: float = 30) -> ServerConnection:
        """The next client connection (the bot connecting)."""
        return self._connections.get(timeout=timeout)

    def deliver(self, connection: ServerConnection, kind: str, payload: dict[str, Any]) -> str:
        """Send an envelope as Slack does; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        connection.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                }
            )
        )
        return envelope_id

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A00000001"}}
            )
        )
        self._connections.put(connection)
        for message in connection:
            self.acks.put(json.loads(message))
