"""A podcast host stand-in on loopback: it serves feeds, transcripts and chapters as a real
host does, and misbehaves on request, so the feed fetcher and poller can be tested offline.

Each path is registered with `serve(...)` (a body, its content type, optional ETag and
Last-Modified, answered 304 to a matching conditional request, an optional delay before
answering, an optional drip that sends the body a few bytes at a time), `redirect(...)`
(to another path or URL, so a chain or a loop can be made) or `serve_large(...)` (a body of
any size made on the fly, never held in memory, with or without Content-Length). Any other
path answers 404. Every request is recorded in `requests`: its path, headers, the status
answered and how many body bytes went out.

`rss(...)` writes a real-shaped RSS 2.0 feed (itunes and Podcasting 2.0 namespaces) from a
few `Item`s, and `BILLION_LAUGHS` and `EXTERNAL_ENTITY` are hostile feeds."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
MB = 1024 * 1024
LARGE_CHUNK = 64 * 1024  # what serve_large writes at a time
DRIP_BYTES = 16  # what a dripping body sends at a time


class Headers(Mapping[str, str]):
    """A request's headers as received, looked up without regard to case, as HTTP does."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._pairs[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._pairs.values())

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass
class Request:
    """One request as the stand-in received it, and what it answered. `finished` is set
    once the answer is over (sent whole, or cut off by the client going away)."""

    path: str
    headers: Headers
    status: int = 0
    sent: int = 0  # body bytes written before the answer ended
    finished: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass(frozen=True)
class Route:
    """How one path answers; see `FeedServer.serve`, `redirect` and `serve_large`."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None
    delay: float = 0.0
    drip: float | None = None
    size: int | None = None  # made on the fly, instead of `body`
    content_length: bool = True


@dataclass
class FeedServer:
    """Start with `start()`; register paths with `serve`, `redirect` or `serve_large`;
    fetch `url + path`; inspect `requests` (or `requests_to(path)`)."""

    requests: list[Request] = field(default_factory=list)
    _routes: dict[str, Route] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by stop(), so delays and drips end at once rather than holding threads open.
    _stopping: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: fetch `url + "/feed.xml"`."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FeedServer:
        """Serve on a free loopback port in a background thread."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: each answer ends with the connection, so a body needs no length.
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
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
        """Shut the server down; delayed and dripping answers are cut off."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def serve(
        self,
        path: str,
        body: bytes,
        content_type: str = "application/rss+xml",
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
        delay: float = 0.0,
        drip: float | None = None,
    ) -> None:
        """Answer GET `path` with `body` (replacing what it answered before). With `etag`
        or `last_modified` the answer carries that validator, and a request sending it back
        (If-None-Match, or If-Modified-Since no earlier) is answered 304 without a body.
        `delay` waits that many seconds before answering anything; `drip` sends the body
        DRIP_BYTES at a time, `drip` seconds apart."""
        self._route(
            path,
            Route(body, content_type, status, etag, last_modified, delay=delay, drip=drip),
        )

    def redirect(self, path: str, to: str, status: int = 302, *, delay: float = 0.0) -> None:
        """Answer GET `path` with a redirect to `to`, sent as the Location as given: a path
        ("/b"), a relative reference ("b") or a whole URL; after `delay` seconds."""
        self._route(path, Route(status=status, location=to, delay=delay))

    def serve_large(
        self,
        path: str,
        size: int = 50 * MB,
        content_type: str = "application/rss+xml",
        *,
        content_length: bool = True,
        drip: float | None = None,
    ) -> None:
        """Answer GET `path` with `size` bytes made on the fly, LARGE_CHUNK at a time (one
        every `drip` seconds if given), declared in Content-Length or not. The body is an
        RSS-looking prefix followed by spaces, so only its size can refuse it."""
        route = Route(
            content_type=content_type, size=size, content_length=content_length, drip=drip
        )
        self._route(path, route)

    def requests_to(self, path: str) -> list[Request]:
        """The recorded requests for `path`, in order."""
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _route(self, path: str, route: Route) -> None:
        assert path.startswith("/"), "a path starts with /"
        with self._lock:
            self._routes[path] = route

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        request = Request(path, Headers(handler.headers.items()))
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(path)
        try:
            if route is not None and route.delay and self._stopping.wait(route.delay):
                return
            self._answer(handler, request, route)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a limit or a deadline): what the test is about
        finally:
            request.finished.set()

    def _answer(
        self, handler: BaseHTTPRequestHandler, request: Request, route: Route | None
    ) -> None:
        if route is None:
            route = Route(b"not found\n", "text/plain", status=404)
        status = 304 if _not_modified(route, request.headers) else route.status
        request.status = status
        handler.send_response(status)
        if route.location is not None:
            handler.send_header("Location", route.location)
        if route.etag is not None:
            handler.send_header("ETag", route.etag)
        if route.last_modified is not None:
            handler.send_header("Last-Modified", route.last_modified)
        if status == 304 or route.location is not None:
            handler.end_headers()
            return
        size = route.size if route.size is not None else len(route.body)
        handler.send_header("Content-Type", route.content_type)
        if route.content_length:
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        for chunk in _chunks(route):
            if route.drip is not None and self._stopping.wait(route.drip):
                return
            handler.wfile.write(chunk)
            handler.wfile.flush()
            request.sent += len(chunk)


def _not_modified(route: Route, headers: Headers) -> bool:
    """Whether a conditional request matches the route's validators. If-None-Match wins
    over If-Modified-Since when both are sent (RFC 9110, 13.2.2)."""
    if route.status != 200:
        return False
    if "If-None-Match" in headers:
        sent = [tag.strip() for tag in headers["If-None-Match"].split(",")]
        return route.etag is not None and (route.etag in sent or "*" in sent)
    if "If-Modified-Since" in headers and route.last_modified is not None:
        try:
            since = parsedate_to_datetime(headers["If-Modified-Since"])
            return parsedate_to_datetime(route.last_modified) <= since
        except (TypeError, ValueError):
            return False
    return False


def _chunks(route: Route) -> Iterator[bytes]:
    """The body a piece at a time: a large one made as it goes, never whole."""
    if route.size is None:
        step = DRIP_BYTES if route.drip is not None else LARGE_CHUNK
        for start in range(0, len(route.body), step):
            yield route.body[start : start + step]
        return
    prefix = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    left = route.size
    if left >= len(prefix):
        yield prefix
        left -= len(prefix)
    filler = b" " * LARGE_CHUNK
    while left > 0:
        yield filler[: min(left, LARGE_CHUNK)]
        left -= LARGE_CHUNK


@dataclass(frozen=True)
class Transcript:
    """One `<podcast:transcript>` of an item."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


@dataclass(frozen=True)
class Item:
    """One `<item>` of a feed; what is None is left out of it."""

    guid: str | None = None
    title: str | None = None
    published: str | None = None  # the pubDate text as written, e.g. RFC 822
    link: str | None = None
    audio: str | None = None  # the enclosure's URL (audio/mpeg)
    transcripts: tuple[Transcript, ...] = ()
    chapters: str | None = None  # the `<podcast:chapters>` URL (application/json+chapters)
    guest: str | None = None  # a `<podcast:person role="guest">`
    description: str | None = None  # the show notes, HTML as feeds write them


def _element(tag: str, text: str | None, **attributes: str | None) -> str:
    """`<tag a="1">text</tag>`, escaped; attributes that are None are left out."""
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in attributes.items() if value)
    if text is None:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def _item(item: Item) -> str:
    lines: list[str] = []
    if item.title is not None:
        lines.append(_element("title", item.title))
        lines.append(_element("itunes:title", item.title))
    if item.guid is not None:
        lines.append(_element("guid", item.guid, isPermaLink="false"))
    if item.published is not None:
        lines.append(_element("pubDate", item.published))
    if item.link is not None:
        lines.append(_element("link", item.link))
    if item.description is not None:
        lines.append(_element("description", item.description))
    if item.audio is not None:
        lines.append(_element("enclosure", None, url=item.audio, length="0", type="audio/mpeg"))
    lines.append(_element("itunes:duration", "00:42:00"))
    for transcript in item.transcripts:
        lines.append(
            _element(
                "podcast:transcript",
                None,
                url=transcript.url,
                type=transcript.type,
                language=transcript.language,
                rel=transcript.rel,
            )
        )
    if item.chapters is not None:
        lines.append(
            _element("podcast:chapters", None, url=item.chapters, type="application/json+chapters")
        )
    if item.guest is not None:
        lines.append(_element("podcast:person", item.guest, role="guest", group="cast"))
    return "<item>\n    " + "\n    ".join(lines) + "\n  </item>"


def rss(
    title: str,
    items: Iterable[Item],
    *,
    language: str | None = "en",
    link: str = "https://example.com/show",
) -> bytes:
    """A real-shaped RSS 2.0 feed, UTF-8, with the itunes and Podcasting 2.0 namespaces,
    listing `items` in the order given (feeds list the newest first)."""
    channel = [
        _element("title", title),
        _element("link", link),
        _element("description", f"{title}, a podcast."),
        _element("language", language) if language is not None else "",
        _element("itunes:author", "Example Media"),
        _element("itunes:explicit", "false"),
        _element("podcast:locked", "no"),
        *(_item(item) for item in items),
    ]
    body = "\n  ".join(part for part in channel if part)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:itunes="{ITUNES_NS}" xmlns:podcast="{PODCAST_NS}">\n'
        f"<channel>\n  {body}\n</channel>\n</rss>\n"
    ).encode()


# Ten entities, each ten of the one before: a parser that expands them builds 10**9 "lol"s.
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY lol0 "lol">\n'
    + b"".join(f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n'.encode() for n in range(1, 10))
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>\n'
)

# An external entity: a parser that resolves it reads a file from the machine into the title.
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY secret SYSTEM "file:///etc/passwd">\n'
    b']>\n<rss version="2.0"><channel><title>&secret;</title></channel></rss>\n'
)
