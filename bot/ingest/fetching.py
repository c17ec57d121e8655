"""Fetching a feed or a transcript from the internet, as hostile input: http(s) only; every
address the host resolves to must be public (FEEDS_ALLOW_PRIVATE lets loopback and private
networks through, for tests and intranet feeds); redirects followed one at a time, each hop
checked again; one time limit for the whole fetch, redirects included; and a size limit
counted as the body streams in, so a 50 MB answer is cut off at the limit, not read whole.

The check resolves the name itself and the client resolves it again when connecting: a name
whose answer changes in between (DNS rebinding) is not caught here."""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https addresses are fetched, not {parts.scheme or '?'}:")
    host = parts.hostname
    if not host:
        raise FetchError("the address names no host")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise FetchError(f"the host {host} could not be found") from None
    if not all(_public(str(info[4][0])) for info in infos):
        raise FetchError(
            f"{host} is a private or local address, which feeds may not point at "
            "(FEEDS_ALLOW_PRIVATE=true allows it)"
        )


class Fetcher:
    """A bounded HTTP GET, with conditional requests. One per poll; `close()` after."""

    def __init__(self, *, allow_private: bool, seconds: float = FETCH_SECONDS) -> None:
        self._allow_private = allow_private
        self._seconds = seconds
        self._client = httpx2.Client(
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            timeout=httpx2.Timeout(seconds, connect=min(CONNECT_SECONDS, seconds)),
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
        deadline = time.monotonic() + self._seconds
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
            url = urljoin(url, location)
            if url in seen:
                raise FetchError("the address redirects in a loop")
        raise FetchError(f"the address redirects more than {MAX_REDIRECTS} times")

    def _one(
        self, url: str, headers: dict[str, str], limit: int, deadline: float
    ) -> tuple[Fetched | None, str | None]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"gave up after {self._seconds:.0f} seconds")
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
            raise FetchError(f"gave up after {self._seconds:.0f} seconds") from None
        except httpx2.HTTPError as exc:
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
                raise FetchError(f"gave up after {self._seconds:.0f} seconds")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _fetched(url: str, response: httpx2.Response, body: bytes) -> Fetched:
        return Fetched(
            url,
            response.status_code,
            body,
            response.headers.get("content-type"),
            response.headers.get("etag"),
            response.headers.get("last-modified"),
        )
