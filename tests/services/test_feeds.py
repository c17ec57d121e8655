"""Subscribing to podcast feeds and polling them, on the real database against a loopback
feed server: the newest episode loaded at once, later ones loaded and announced exactly
once, an item without a transcript waiting until it has one, a feed that fails backed off,
one poller at a time, chapters stored, and a workspace's feeds its own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.ingest import fetching
from bot.services import feeds
from bot.services import library as library_service
from bot.services.channels import focus_of
from bot.services.feeds import Announcement, FeedProblem
from bot.services.library import Library
from db.feeds import take_lease
from db.models import EpisodeChapter, Feed
from tests.fakes.feed_server import BILLION_LAUGHS, FeedServer, Item, Transcript, rss

SETTINGS = Settings(feeds_allow_private=True)
VTT = """WEBVTT

00:00:01.000 --> 00:00:06.000
<v Ann>Welcome to episode {n} of the pricing show. Today: value based pricing.

00:01:00.000 --> 00:01:09.000
<v Bo>Price on the value you create, not on your costs. That is lesson {n}.
"""
CHAPTERS = (
    b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, '
    b'{"startTime": 50, "title": "Value pricing"}]}'
)


class Channel:
    """The Slack end of announcements: what was posted where."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, Announcement]] = []

    def announce(self, team: str, channel: str, announcement: Announcement) -> str:
        self.posts.append((team, channel, announcement))
        return f"1700000000.{len(self.posts):06d}"


def _episode(feed_server: FeedServer, n: int, *, transcript: bool = True) -> Item:
    if transcript:
        feed_server.serve(f"/t{n}.vtt", VTT.format(n=n).encode(), "text/vtt")
        feed_server.serve(f"/c{n}.json", CHAPTERS, "application/json+chapters")
    return Item(
        guid=f"pricing-{n}",
        title=f"Episode {n}: value pricing",
        published=f"Mon, 0{n} Nov 2026 10:00:00 GMT",
        link=f"https://example.com/episodes/{n}",
        audio=f"https://example.com/audio/{n}.mp3",
        transcripts=(Transcript(feed_server.url + f"/t{n}.vtt", "text/vtt"),) if transcript else (),
        chapters=feed_server.url + f"/c{n}.json" if transcript else None,
        guest="Bo Example",
        description=f"<p>Bo on <b>value pricing</b>, part {n}. Price what it is worth &amp; "
        "nothing less.</p>",
    )


def _publish(feed_server: FeedServer, *items: Item, etag: str | None = None) -> str:
    feed_server.serve("/feed.xml", rss("The Pricing Show", items), "application/rss+xml", etag=etag)
    return feed_server.url + "/feed.xml"


def test_subscribing_loads_the_newest_episode_and_each_new_one_is_announced_once(
    library: Library, feed_server: FeedServer
) -> None:
    url = _publish(feed_server, _episode(feed_server, 2), _episode(feed_server, 1))
    added = feeds.subscribe(library, SETTINGS, url, channel="C0PRICE")
    assert added.title == "The Pricing Show"
    assert [(i.title, i.state) for i in added.items] == [
        ("Episode 2: value pricing", "ingested"),
        ("Episode 1: value pricing", "earlier"),
    ]
    assert "episode-2-value-pricing" in {e.slug for e in library_service.episodes(library)}
    channel = Channel()
    assert feeds.poll(library, SETTINGS, channel).loaded == []  # nothing new: nothing said
    assert channel.posts == []

    _publish(
        feed_server, _episode(feed_server, 3), _episode(feed_server, 2), _episode(feed_server, 1)
    )
    report = feeds.poll(library, SETTINGS, channel)
    assert report.loaded == ["episode-3-value-pricing"] and report.announced == 1
    [(team, where, news)] = channel.posts
    assert (team, where) == (library.workspace, "C0PRICE")
    assert news.title == "Episode 3: value pricing" and news.guest == "Bo Example"
    assert news.link == "https://example.com/episodes/3" and news.feed_title == "The Pricing Show"
    assert news.summary == "Bo on value pricing, part 3. Price what it is worth & nothing less."
    assert focus_of(library, "C0PRICE") == "episode-3-value-pricing"
    # Polled again, and again: still one announcement.
    feeds.poll(library, SETTINGS, channel)
    feeds.poll(library, SETTINGS, channel, every_feed=True)
    assert len(channel.posts) == 1
    with library.sessions() as session:
        chapters = session.scalars(select(EpisodeChapter.title)).all()
    assert chapters.count("Value pricing") == 2  # episodes 2 and 3


def test_an_item_without_a_transcript_waits_until_it_has_one(
    library: Library, feed_server: FeedServer
) -> None:
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, url, channel="C0PRICE")
    _publish(feed_server, _episode(feed_server, 2, transcript=False), _episode(feed_server, 1))
    channel = Channel()
    feeds.poll(library, SETTINGS, channel)
    [listed] = feeds.subscriptions(library)
    waiting = [i for i in listed.items if i.state == "waiting"]
    assert [i.title for i in waiting] == ["Episode 2: value pricing"]
    assert "no transcript" in (waiting[0].note or "") and channel.posts == []

    _publish(
        feed_server, _episode(feed_server, 2), _episode(feed_server, 1)
    )  # the host added it later
    report = feeds.poll(library, SETTINGS, channel)
    assert report.loaded == ["episode-2-value-pricing"] and len(channel.posts) == 1


def test_an_unchanged_feed_is_asked_with_its_validators_and_costs_a_304(
    library: Library, feed_server: FeedServer
) -> None:
    url = _publish(feed_server, _episode(feed_server, 1), etag='"v1"')
    feeds.subscribe(library, SETTINGS, url, channel=None)
    feeds.poll(library, SETTINGS, Channel())
    asked = [r for r in feed_server.requests if r.path == "/feed.xml"]
    assert asked[-1].headers.get("If-None-Match") == '"v1"'
    assert asked[-1].status == 304


def test_a_failing_feed_is_backed_off_and_said_in_one_sentence(
    library: Library, feed_server: FeedServer
) -> None:
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, url, channel="C0PRICE")
    feed_server.serve("/feed.xml", b"<rss><channel><title>cut off", "application/rss+xml")
    now = datetime(2026, 12, 2, 12, 0)
    report = feeds.poll(library, SETTINGS, Channel(), now=now)
    assert report.failed and "not well-formed" in report.failed[0]
    [listed] = feeds.subscriptions(library)
    assert listed.failures == 1 and listed.error and "not well-formed" in listed.error
    # Not due again before its back-off is over; then twice as long after the next failure.
    assert feeds.poll(library, SETTINGS, Channel(), now=now + timedelta(minutes=10)).polled == 0
    feeds.poll(library, SETTINGS, Channel(), now=now + timedelta(minutes=31))
    with library.sessions() as session:
        feed = session.scalars(select(Feed)).one()
        assert feed.failures == 2
        assert feed.next_poll_at == now + timedelta(minutes=31) + timedelta(hours=1)


def test_one_poller_at_a_time(library: Library, feed_server: FeedServer) -> None:
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, url, channel="C0PRICE")
    now = datetime.now()
    with library.sessions.begin() as session:
        assert take_lease(session, feeds.POLL_LEASE, "another-process", now, timedelta(minutes=5))
    assert feeds.poll(library, SETTINGS, Channel(), now=now).skipped_poll
    # Its lease lapsed (the process died): the next poll takes over.
    assert not feeds.poll(library, SETTINGS, Channel(), now=now + timedelta(minutes=6)).skipped_poll


def test_feeds_refused_in_one_sentence_and_kept_per_workspace(
    library: Library, feed_server: FeedServer
) -> None:
    with pytest.raises(FeedProblem, match="private or local address"):
        feeds.subscribe(library, Settings(), feed_server.url + "/feed.xml", channel=None)
    with pytest.raises(FeedProblem, match="could not be read"):
        feeds.subscribe(library, SETTINGS, feed_server.url + "/missing.xml", channel=None)
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library.of_workspace("T0ONE"), SETTINGS, url, channel="C1")
    with pytest.raises(FeedProblem, match="already subscribed"):
        feeds.subscribe(library.of_workspace("T0ONE"), SETTINGS, url, channel="C1")
    assert feeds.subscriptions(library.of_workspace("T0TWO")) == []
    with pytest.raises(FeedProblem, match="No feed"):
        feeds.unsubscribe(library.of_workspace("T0TWO"), url)
    gone = feeds.unsubscribe(library.of_workspace("T0ONE"), "1")
    assert gone.url == url and feeds.subscriptions(library.of_workspace("T0ONE")) == []


def test_hostile_feeds_cost_only_themselves(
    library: Library, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed that times out, one that redirects in a loop, a billion-laughs feed and an
    episode whose transcript is 50 MB: each is said in one sentence where it belongs, and
    the good feed polled alongside them still gets its new episode announced."""
    monkeypatch.setattr(fetching, "FETCH_SECONDS", 1.0)
    good = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, good, channel="C0GOOD")
    for path, refusal in (("/slow.xml", "gave up after 1 second"), ("/loop.xml", "in a loop")):
        with pytest.raises(FeedProblem, match=refusal):
            if path == "/slow.xml":
                feed_server.serve(path, rss("Slow", []), delay=3.0)
            else:
                feed_server.redirect(path, "/loop.xml")
            feeds.subscribe(library, SETTINGS, feed_server.url + path, channel="C0BAD")
    feed_server.serve("/laughs.xml", BILLION_LAUGHS)
    with pytest.raises(FeedProblem, match="entities"):
        feeds.subscribe(library, SETTINGS, feed_server.url + "/laughs.xml", channel="C0BAD")

    # A subscribed feed turning hostile later: polled, failed, backed off; the good one goes on.
    _publish(feed_server, _episode(feed_server, 1))
    feed_server.serve("/other.xml", rss("Other", [_episode(feed_server, 1)]))
    feeds.subscribe(library, SETTINGS, feed_server.url + "/other.xml", channel="C0OTHER")
    feed_server.serve("/other.xml", BILLION_LAUGHS)
    huge = _episode(feed_server, 2)
    feed_server.serve_large("/t2.vtt", content_type="text/vtt")
    _publish(feed_server, huge, _episode(feed_server, 1))
    channel = Channel()
    report = feeds.poll(library, SETTINGS, channel)
    assert report.polled == 2 and report.failed == [
        "Other: the feed declares XML entities or a DTD, which are refused"
    ]
    [listed] = [v for v in feeds.subscriptions(library) if v.url == good]
    [waiting] = [i for i in listed.items if i.state == "waiting"]
    assert "larger than the 10 MB allowed" in (waiting.note or "")
    assert channel.posts == []
    feed_server.serve("/t2.vtt", VTT.format(n=2).encode(), "text/vtt")
    feeds.poll(library, SETTINGS, channel)
    assert [news.title for _, _, news in channel.posts] == ["Episode 2: value pricing"]


def test_what_a_feed_holds_never_stops_the_poll(
    library: Library, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values that overflow, a non-ASCII ETag, an episode known by an audio URL whose query
    changes every poll, and an unexpected error while loading: the poll goes on, the other
    feed's episode is announced, nothing is announced twice."""
    good = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, good, channel="C0GOOD")
    odd = [
        Item(
            title="Old times",
            published="Fri, 31 Dec 9999 23:00:00 -0500",
            audio=feed_server.url + "/a.mp3?sig=1",
            transcripts=(Transcript(feed_server.url + "/t9.vtt", "text/vtt"),),
        ),
    ]
    feed_server.serve("/t9.vtt", VTT.format(n=9).encode(), "text/vtt")
    feed_server.serve("/odd.xml", rss("Odd", odd), etag='W/"café"')
    feeds.subscribe(library, SETTINGS, feed_server.url + "/odd.xml", channel="C0ODD")
    # The host signs its audio URLs anew: the same item, not a new one.
    odd[0] = Item(
        title="Old times",
        published="Fri, 31 Dec 9999 23:00:00 -0500",
        audio=feed_server.url + "/a.mp3?sig=2",
        transcripts=(Transcript(feed_server.url + "/t9.vtt", "text/vtt"),),
    )
    feed_server.serve("/odd.xml", rss("Odd", odd), etag='W/"café"')
    _publish(feed_server, _episode(feed_server, 2), _episode(feed_server, 1))
    channel = Channel()
    first = feeds.poll(library, SETTINGS, channel)
    assert first.failed == [] and [n.title for _, _, n in channel.posts] == [
        "Episode 2: value pricing"
    ]
    # No validator that cannot be sent back was kept: the odd feed was asked plainly.
    assert "If-None-Match" not in feed_server.requests_to("/odd.xml")[-1].headers

    def broken(*_: object) -> object:
        raise RuntimeError("a parser bug")

    monkeypatch.setattr(feeds, "load_item", broken)
    _publish(
        feed_server, _episode(feed_server, 3), _episode(feed_server, 2), _episode(feed_server, 1)
    )
    second = feeds.poll(library, SETTINGS, channel)
    assert second.failed == [] and len(channel.posts) == 1
    [listed] = [v for v in feeds.subscriptions(library) if v.url == good]
    [item] = [i for i in listed.items if i.title == "Episode 3: value pricing"]
    assert item.state == "broken" and "unexpected error" in (item.note or "")


def test_an_announcement_slack_will_never_take_is_given_up_and_said(
    library: Library, feed_server: FeedServer
) -> None:
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(library, SETTINGS, url, channel="C0NOTIN")

    class NotInChannel:
        calls = 0

        def announce(self, team: str, channel: str, announcement: Announcement) -> str:
            NotInChannel.calls += 1
            raise feeds.AnnouncementRefused("the bot is not in the channel")

    _publish(feed_server, _episode(feed_server, 2), _episode(feed_server, 1))
    feeds.poll(library, SETTINGS, NotInChannel())
    feeds.poll(library, SETTINGS, NotInChannel())
    assert NotInChannel.calls == 1
    [listed] = feeds.subscriptions(library)
    [item] = [i for i in listed.items if i.title == "Episode 2: value pricing"]
    assert item.note == "not announced: the bot is not in the channel"


def test_with_a_library_per_workspace_a_feeds_episodes_are_its_workspaces(
    session_factory: sessionmaker[Session], feed_server: FeedServer
) -> None:
    shared = Library(session_factory, per_workspace=True)
    url = _publish(feed_server, _episode(feed_server, 1))
    feeds.subscribe(shared.of_workspace("T0FEED"), SETTINGS, url, channel="C1")
    _publish(feed_server, _episode(feed_server, 2), _episode(feed_server, 1))
    feeds.poll(shared, SETTINGS, Channel())  # the poller's own library names no workspace
    theirs = {e.slug for e in library_service.episodes(shared.of_workspace("T0FEED"))}
    assert theirs == {"episode-1-value-pricing", "episode-2-value-pricing"}
    assert library_service.episodes(shared.of_workspace("T0OTHER")) == []
