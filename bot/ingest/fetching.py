"""Fetching a feed or a transcript from the internet, as hostile input: http(s) only; every
address the host resolves to must be public (FEEDS_ALLOW_PRIVATE lets loopback and private
networks through, for tests and intranet feeds); redirects followed one at a time, each hop
checked again; one time limit for the whole fetch, redirects included, that every socket
read waits no longer than (so a server dripping its headers a byte at a time is cut off too);
and a size limit counted as the body streams in, so a 50 MB answer is cut off at the limit,
not read whole.

The destination is checked twice: before each request (the URL, its scheme, every address
its host resolves to), and when connecting, where the connection goes to the very address
checked, so a name whose answer changes in between (DNS rebinding) is caught too."""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore2
import httpx2

# Both limits are the issue's: a feed of ten years of weekly episodes is about 5 MB.
FEED_BYTES = 10 * 1024 * 1024
TRANSCRIPT_BYTES = 10 * 1024 * 1024
CHAPTERS_BYTES = 1024 * 1024
FETCH_SECONDS = 20.0
CONNECT_SECONDS = 5.0
MAX_REDIRECTS = 5
USER_AGENT = "episode-bot (podcast feed reader)"


class FetchError(Exception):
    """A fetch that failed; the message is one sentence saying what happened."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back: the final URL, 200 with a body or 304 (not modified)
    without one, and the validators for the next conditional request."""

    url: str
    status: int
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """The server said nothing changed since the validators sent."""
        return self.status == 304


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to an address that is not
    public (unless `allow_private`). Raises FetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise FetchError("the address is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https addresses are fetched, not {parts.scheme or '?'}:")
    host = parts.hostname
    if not host:
        raise FetchError("the address names no host")
    if not allow_private:
        _public_address(host, port or (443 if parts.scheme == "https" else 80))


class _Deadline:
    """The end of the fetch under way. A read timeout alone starts again with each byte
    received, so a server sending its status line and headers a byte a second would hold
    a fetch for hours; every socket read and write waits no longer than this instead."""

    def __init__(self) -> None:
        self.at = math.inf

    def clamp(self, timeout: float | None) -> float:
        # A small floor rather than 0, which would make the socket non-blocking: past the
        # deadline the read times out as a read does (ReadTimeout), not with another error.
        left = max(self.at - time.monotonic(), 0.001)
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    """A connection whose reads and writes stop at the deadline."""

    def __init__(self, stream: httpcore2.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        clamped = self._deadline.clamp(timeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, clamped), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore2.SyncBackend):
    """Connects through connections that stop at the deadline, and (unless private
    addresses are allowed) only to an address it checked itself: the name is resolved once,
    here, and the connection goes to the public address found, so a name whose answer
    changes after check_destination (DNS rebinding) still cannot reach a private one. TLS
    still checks the certificate against the name (httpcore passes it for SNI)."""

    def __init__(self, deadline: _Deadline, *, allow_private: bool) -> None:
        self._deadline = deadline
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        clamped = self._deadline.clamp(timeout)
        address = host if self._allow_private else _public_address(host, port)
        stream = super().connect_tcp(address, port, clamped, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)


def _public_address(host: str, port: int) -> str:
    """The first address `host` resolves to, when every one of them is public. FetchError."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise FetchError(f"the host {host} could not be found") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_public(a) for a in addresses):
        raise FetchError(
            f"{host} is a private or local address, which feeds may not point at "
            "(FEEDS_ALLOW_PRIVATE=true allows it)"
        )
    return addresses[0]


def _transport(deadline: _Deadline, *, allow_private: bool) -> httpx2.HTTPTransport:
    """httpx2's transport over a pool whose connections stop at `deadline`. httpx2 has no
    argument for a network backend, so the pool it made is replaced by one with it. (A
    client given its transport ignores HTTP(S)_PROXY: fetches connect directly, which is
    what check_destination checks.)"""
    ssl_context = httpx2.create_ssl_context()  # made once: loading the CAs takes a while
    transport = httpx2.HTTPTransport(verify=ssl_context)
    limits = httpx2.Limits()
    transport._pool = httpcore2.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(deadline, allow_private=allow_private),
    )
    return transport


class Fetcher:
    """A bounded HTTP GET, with conditional requests. One per poll, used by one thread at
    a time (the deadline is the fetch's under way); `close()` after."""

    def __init__(self, *, allow_private: bool, seconds: float = FETCH_SECONDS) -> None:
        self._allow_private = allow_private
        self._seconds = seconds
        self._deadline = _Deadline()
        self._client = httpx2.Client(
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            timeout=httpx2.Timeout(seconds, connect=min(CONNECT_SECONDS, seconds)),
            transport=_transport(self._deadline, allow_private=allow_private),
        )

    def close(self) -> None:
        """Close the connections kept open."""
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        limit: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """GET `url` (at most `limit` bytes of body), following redirects. Raises FetchError."""
        deadline = self._deadline.at = time.monotonic() + self._seconds
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: set[str] = set()
        for _ in range(MAX_REDIRECTS + 1):
            check_destination(url, allow_private=self._allow_private)
            seen.add(url)
            fetched, location = self._one(url, headers, limit, deadline)
            if location is None:
                assert fetched is not None
                return fetched
            try:
                url = urljoin(url, location)
            except ValueError:  # "http://[::1" and the like
                raise FetchError("the address redirects to an address that is not valid") from None
            if url in seen:
                raise FetchError("the address redirects in a loop")
        raise FetchError(f"the address redirects more than {MAX_REDIRECTS} times")

    def _one(
        self, url: str, headers: dict[str, str], limit: int, deadline: float
    ) -> tuple[Fetched | None, str | None]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._gave_up()
        timeout = httpx2.Timeout(left, connect=min(CONNECT_SECONDS, left))
        try:
            with self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.is_redirect and "location" in response.headers:
                    return None, response.headers["location"]
                if response.status_code == 304:
                    return self._fetched(url, response, b""), None
                if response.status_code != 200:
                    raise FetchError(f"the server answered {response.status_code}")
                return self._fetched(url, response, self._body(response, limit, deadline)), None
        except httpx2.TimeoutException:
            raise self._gave_up() from None
        except (httpx2.HTTPError, httpx2.InvalidURL, UnicodeError) as exc:
            # InvalidURL: a control character in an address; UnicodeError: a validator
            # (ETag) the server sent that is not ASCII, sent back in a header.
            raise FetchError(f"could not fetch it ({type(exc).__name__})") from None

    def _body(self, response: httpx2.Response, limit: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"it is larger than the {limit // 1_048_576} MB allowed")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(f"it is larger than the {limit // 1_048_576} MB allowed")
            if time.monotonic() > deadline:  # a server dripping bytes never times a read out
                raise self._gave_up()
            chunks.append(chunk)
        return b"".join(chunks)

    def _gave_up(self) -> FetchError:
        # :g, not :.0f, so that a limit of half a second is not said as "0 seconds"
        unit = "second" if self._seconds == 1 else "seconds"
        return FetchError(f"gave up after {self._seconds:g} {unit}")

    @staticmethod
    def _fetched(url: str, response: httpx2.Response, body: bytes) -> Fetched:
        return Fetched(
            url,
            response.status_code,
            body,
            response.headers.get("content-type"),
            _validator(response.headers.get("etag")),
            _validator(response.headers.get("last-modified")),
        )


def _validator(value: str | None) -> str | None:
    """A validator worth sending back: printable ASCII of a sane length, else none (the
    next fetch is then a plain one, not a header the client cannot encode)."""
    if value and len(value) <= 200 and value.isascii() and value.isprintable():
        return value
    return None
