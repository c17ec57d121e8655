"""Fetching feeds and transcripts as hostile input, against a loopback podcast host: bodies
and validators, conditional requests, redirects followed by hand (loops and long chains
refused), size limits that stop a 50 MB answer early, one deadline for slow, dripping and
stalled servers, and only public http(s) addresses. Nothing here leaves the machine."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.ingest import fetching
from bot.ingest.fetching import (
    FEED_BYTES,
    MAX_REDIRECTS,
    USER_AGENT,
    Fetcher,
    FetchError,
    check_destination,
)
from tests.fakes.feed_server import MB, FeedServer, Item, rss

FEED = rss("The Show", [Item(guid="ep-1", title="Episode 1")])
ETAG = '"v1"'
MODIFIED = "Mon, 02 Nov 2026 10:00:00 GMT"
PUBLIC_IP = "93.184.216.34"  # what the fake resolver says a public name is; never dialled


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's proxy settings must not send loopback requests elsewhere."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    """One for many fetches, as a poll uses it; a fresh server (and port) each test."""
    with Fetcher(allow_private=True) as opened:
        yield opened


def _refused(fetcher: Fetcher, url: str, limit: int = FEED_BYTES, **kwargs: Any) -> str:
    """The one sentence a fetch that must fail says."""
    with pytest.raises(FetchError) as refused:
        fetcher.get(url, limit=limit, **kwargs)
    message = str(refused.value)
    assert message and "\n" not in message and ". " not in message, message
    return message


def test_a_feed_comes_back_with_its_body_type_and_validators(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/feed.xml", FEED, "application/rss+xml", etag=ETAG, last_modified=MODIFIED)
    fetched = fetcher.get(feed_server.url + "/feed.xml", limit=FEED_BYTES)
    assert (fetched.status, fetched.not_modified, fetched.body) == (200, False, FEED)
    assert fetched.url == feed_server.url + "/feed.xml"
    assert fetched.content_type == "application/rss+xml"
    assert (fetched.etag, fetched.last_modified) == (ETAG, MODIFIED)
    [request] = feed_server.requests_to("/feed.xml")
    assert request.headers.get("User-Agent") == USER_AGENT
    # A first fetch has nothing to be conditional on.
    assert "If-None-Match" not in request.headers and "If-Modified-Since" not in request.headers


def test_an_unchanged_feed_is_asked_with_its_validators_and_answered_304(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/feed.xml", FEED, etag=ETAG, last_modified=MODIFIED)
    first = fetcher.get(feed_server.url + "/feed.xml", limit=FEED_BYTES)
    again = fetcher.get(
        feed_server.url + "/feed.xml",
        limit=FEED_BYTES,
        etag=first.etag,
        last_modified=first.last_modified,
    )
    assert (again.status, again.not_modified, again.body) == (304, True, b"")
    assert again.etag == ETAG
    asked = feed_server.requests_to("/feed.xml")[-1]
    assert asked.headers.get("If-None-Match") == ETAG
    assert asked.headers.get("If-Modified-Since") == MODIFIED
    assert asked.status == 304


def test_a_date_alone_makes_the_request_conditional(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/feed.xml", FEED, last_modified=MODIFIED)
    fetched = fetcher.get(feed_server.url + "/feed.xml", limit=FEED_BYTES, last_modified=MODIFIED)
    assert fetched.not_modified
    asked = feed_server.requests_to("/feed.xml")[-1]
    assert "If-None-Match" not in asked.headers
    assert asked.headers.get("If-Modified-Since") == MODIFIED


def test_a_changed_feed_comes_back_whole_with_its_new_validator(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/feed.xml", FEED + b"<!-- v2 -->", etag='"v2"')
    fetched = fetcher.get(feed_server.url + "/feed.xml", limit=FEED_BYTES, etag=ETAG)
    assert fetched.status == 200 and fetched.body.endswith(b"<!-- v2 -->")
    assert fetched.etag == '"v2"'


def test_redirects_are_followed_to_the_end_relative_locations_too(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/shows/new/feed.xml", FEED, etag=ETAG)
    feed_server.redirect("/old", feed_server.url + "/moved", status=301)  # absolute
    feed_server.redirect("/moved", "/shows/feed", status=308)  # absolute path
    feed_server.redirect("/shows/feed", "new/feed.xml", status=307)  # relative to /shows/
    fetched = fetcher.get(feed_server.url + "/old", limit=FEED_BYTES, etag='"v0"')
    assert fetched.body == FEED and fetched.url == feed_server.url + "/shows/new/feed.xml"
    assert [r.path for r in feed_server.requests] == [
        "/old",
        "/moved",
        "/shows/feed",
        "/shows/new/feed.xml",
    ]
    # The validators go to where the feed is now.
    assert feed_server.requests_to("/shows/new/feed.xml")[0].headers.get("If-None-Match") == '"v0"'


def test_a_redirect_loop_is_refused_in_one_sentence(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    assert _refused(fetcher, feed_server.url + "/a") == "the address redirects in a loop"
    assert [r.path for r in feed_server.requests] == ["/a", "/b"]
    feed_server.redirect("/self", "/self")
    assert _refused(fetcher, feed_server.url + "/self") == "the address redirects in a loop"


def test_at_most_max_redirects_are_followed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    def chain(name: str, hops: int) -> str:
        for hop in range(hops):
            feed_server.redirect(f"/{name}{hop}", f"/{name}{hop + 1}")
        feed_server.serve(f"/{name}{hops}", FEED)
        return f"{feed_server.url}/{name}0"

    assert fetcher.get(chain("ok", MAX_REDIRECTS), limit=FEED_BYTES).body == FEED
    message = _refused(fetcher, chain("long", MAX_REDIRECTS + 1))
    assert message == f"the address redirects more than {MAX_REDIRECTS} times"
    assert len(feed_server.requests_to(f"/long{MAX_REDIRECTS + 1}")) == 0  # never asked


def test_a_redirect_without_location_is_an_answer_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve("/nowhere", b"", status=302)
    assert _refused(fetcher, feed_server.url + "/nowhere") == "the server answered 302"


def test_a_redirect_to_an_address_that_is_not_one_is_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.redirect("/broken", "http://[::1")
    assert "not valid" in _refused(fetcher, feed_server.url + "/broken")


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_errors_are_said_with_their_status(
    feed_server: FeedServer, fetcher: Fetcher, status: int
) -> None:
    feed_server.serve("/feed.xml", b"oops", "text/plain", status=status)
    assert _refused(fetcher, feed_server.url + "/feed.xml") == f"the server answered {status}"


def test_an_unregistered_path_is_a_404(feed_server: FeedServer, fetcher: Fetcher) -> None:
    assert _refused(fetcher, feed_server.url + "/missing.xml") == "the server answered 404"


def test_a_50_mb_answer_is_cut_off_at_the_limit_not_read_whole(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.serve_large("/huge.xml", 50 * MB, content_length=False)
    started = time.monotonic()
    message = _refused(fetcher, feed_server.url + "/huge.xml")
    assert time.monotonic() - started < 3
    assert message == f"it is larger than the {FEED_BYTES // MB} MB allowed"
    [request] = feed_server.requests_to("/huge.xml")
    assert request.finished.wait(5)
    # The limit, plus what the sockets' buffers took in before the fetcher hung up.
    assert request.sent < 40 * MB


def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    # A body sent a chunk a second: refused at once only if the header alone decides.
    feed_server.serve_large("/huge.xml", FEED_BYTES + 1, content_length=True, drip=1.0)
    started = time.monotonic()
    message = _refused(fetcher, feed_server.url + "/huge.xml")
    assert time.monotonic() - started < 0.9
    assert message == f"it is larger than the {FEED_BYTES // MB} MB allowed"


def test_a_body_just_at_the_limit_is_kept(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.serve_large("/exact.xml", 1 * MB, content_length=False)
    assert len(fetcher.get(feed_server.url + "/exact.xml", limit=1 * MB).body) == 1 * MB
    assert "larger than" in _refused(fetcher, feed_server.url + "/exact.xml", limit=1 * MB - 1)


def test_a_server_slower_than_the_limit_is_given_up_on(feed_server: FeedServer) -> None:
    feed_server.serve("/slow.xml", FEED, delay=5.0)
    with Fetcher(allow_private=True, seconds=1.0) as quick:
        started = time.monotonic()
        message = _refused(quick, feed_server.url + "/slow.xml")
    assert 0.9 < time.monotonic() - started < 2.5
    assert message == "gave up after 1 second"


def test_a_dripping_body_is_stopped_by_the_deadline(feed_server: FeedServer) -> None:
    # Each read gets a few bytes well within a read timeout: only the total deadline ends it.
    body = FEED * 4
    feed_server.serve("/drip.xml", body, drip=0.05)
    with Fetcher(allow_private=True, seconds=0.5) as quick:
        started = time.monotonic()
        message = _refused(quick, feed_server.url + "/drip.xml")
    assert time.monotonic() - started < 1.5
    assert message == "gave up after 0.5 seconds"
    assert feed_server.requests_to("/drip.xml")[0].sent < len(body)


def test_dripping_headers_are_stopped_by_the_deadline() -> None:
    # The status line and headers a byte at a time: a read timeout alone never fires.
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            for byte in b"HTTP/1.1 200 OK\r\nX-Stalling: " + b"a" * 200:
                if stop.wait(0.05):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    try:
        with Fetcher(allow_private=True, seconds=0.5) as quick:
            started = time.monotonic()
            url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
            message = _refused(quick, url)
        assert time.monotonic() - started < 1.5  # 200 bytes: 10 s at this pace
        assert message == "gave up after 0.5 seconds"
    finally:
        stop.set()
        listener.close()


def test_the_deadline_covers_every_hop(feed_server: FeedServer) -> None:
    # Each hop well within the limit; all of them together not.
    feed_server.redirect("/start", "/hop", delay=0.3)
    feed_server.redirect("/hop", "/end", delay=0.3)
    feed_server.serve("/end", FEED, delay=0.3)
    with Fetcher(allow_private=True, seconds=0.5) as quick:
        started = time.monotonic()
        message = _refused(quick, feed_server.url + "/start")
    assert message == "gave up after 0.5 seconds"
    assert time.monotonic() - started < 1
    assert [r.path for r in feed_server.requests] == ["/start", "/hop"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.com/feed.xml",
        "gopher://example.com/",
        "javascript:alert(1)",
        "feed.xml",
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with Fetcher(allow_private=True) as any_address:
        assert _refused(any_address, url).startswith("only http and https addresses are fetched")


def test_a_redirect_to_another_scheme_is_refused(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.redirect("/feed.xml", "file:///etc/passwd")
    message = _refused(fetcher, feed_server.url + "/feed.xml")
    assert message == "only http and https addresses are fetched, not file:"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/feed.xml",
        "http://localhost:{port}/feed.xml",
        "http://[::1]:{port}/feed.xml",
        "http://[::ffff:127.0.0.1]:{port}/feed.xml",
        "http://10.1.2.3:{port}/feed.xml",
        "http://192.168.0.10/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}/feed.xml",
    ],
)
def test_private_and_local_addresses_are_refused(feed_server: FeedServer, url: str) -> None:
    port = feed_server.url.rsplit(":", 1)[1]
    with Fetcher(allow_private=False, seconds=1.0) as public_only:
        message = _refused(public_only, url.format(port=port))
    assert "is a private or local address" in message and "FEEDS_ALLOW_PRIVATE" in message
    assert feed_server.requests == []  # refused before connecting


def test_a_malformed_address_is_refused_not_raised() -> None:
    for url in ("http://[::1", "http://127.0.0.1:99999/"):
        with pytest.raises(FetchError, match="not a valid URL"):
            check_destination(url, allow_private=True)


def _resolving_publicly(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make `name` a public address as the fetcher sees it: it resolves to the stand-in's
    loopback address, which the fetcher's own check takes as public (and only that address:
    ::1 and every other private one stay refused). The connection goes to the address the
    check found, so nothing is dialled out; any other name fails to resolve."""
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host == name:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        if host in ("127.0.0.1", "::1"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(f"{host} is not resolved in tests")

    fake = SimpleNamespace(
        getaddrinfo=getaddrinfo, gaierror=socket.gaierror, IPPROTO_TCP=socket.IPPROTO_TCP
    )
    monkeypatch.setattr(fetching, "socket", fake)
    monkeypatch.setattr(fetching, "_public", lambda address: address == "127.0.0.1")


def test_each_hop_is_checked_so_a_public_address_cannot_redirect_to_a_local_one(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _resolving_publicly(monkeypatch, "localhost")
    public = feed_server.url.replace("127.0.0.1", "localhost")
    loopback = feed_server.url.replace("127.0.0.1", "[::1]")
    feed_server.serve("/feed.xml", FEED)
    feed_server.redirect("/also-public", public + "/feed.xml")
    feed_server.redirect("/to-loopback", loopback + "/feed.xml")
    with Fetcher(allow_private=False) as public_only:
        # The stand-in public address is fetched, redirects included...
        assert public_only.get(public + "/also-public", limit=FEED_BYTES).body == FEED
        # ...but not a hop to loopback.
        message = _refused(public_only, public + "/to-loopback")
    assert message.startswith("::1 is a private or local address")
    assert [r.path for r in feed_server.requests] == ["/also-public", "/feed.xml", "/to-loopback"]


def test_the_connection_goes_to_the_address_checked_not_a_second_answer(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name's first answer is public, every later one private. The
    check and the connection use one answer each; the connection's is checked too."""
    answers = iter(["127.0.0.1", "10.0.0.7"])

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "10.0.0.7"), port))]

    fake = SimpleNamespace(
        getaddrinfo=getaddrinfo, gaierror=socket.gaierror, IPPROTO_TCP=socket.IPPROTO_TCP
    )
    monkeypatch.setattr(fetching, "socket", fake)
    monkeypatch.setattr(fetching, "_public", lambda address: address == "127.0.0.1")
    feed_server.serve("/feed.xml", FEED)
    rebinding = feed_server.url.replace("127.0.0.1", "rebinding.example") + "/feed.xml"
    with Fetcher(allow_private=False) as public_only:
        message = _refused(public_only, rebinding)
    assert message.startswith("rebinding.example is a private or local address")
    assert feed_server.requests == []


def test_a_name_that_does_not_resolve_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving_publicly(monkeypatch, "feeds.example.com")
    with Fetcher(allow_private=False) as public_only:
        message = _refused(public_only, "http://nowhere.invalid/feed.xml")
    assert message == "the host nowhere.invalid could not be found"


def test_an_address_resolving_to_public_and_private_alike_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    fake = SimpleNamespace(
        getaddrinfo=getaddrinfo, gaierror=socket.gaierror, IPPROTO_TCP=socket.IPPROTO_TCP
    )
    monkeypatch.setattr(fetching, "socket", fake)
    with pytest.raises(FetchError, match="private or local"):
        check_destination("https://mixed.example.com/feed.xml", allow_private=False)
    check_destination("https://mixed.example.com/feed.xml", allow_private=True)
