"""Podcast feeds a workspace subscribes to: subscribe (the feed is fetched once to check it
and learn its title; its newest episode is loaded at once, the older ones are left out),
list, unsubscribe, and poll.

A poll is one process's at a time across every process (a lease in the database). It asks
each due feed for changes only (ETag / Last-Modified), stores the items it has not seen,
loads each waiting one (feed_items.py), then announces each episode loaded to the feed's
channel, once: the announcement is claimed in the database before it is posted, and the
episode becomes the channel's focus. A feed that fails is backed off, doubling its wait up
to a day; nothing a feed holds stops the others or the process."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.ingest import fetching
from bot.ingest.feed import FeedError, FeedItem, ParsedFeed, parse_feed
from bot.ingest.fetching import FEED_BYTES, Fetcher, FetchError, check_destination
from bot.services import takeaways
from bot.services.asks import process_owner
from bot.services.channels import use_episode
from bot.services.feed_items import Loaded, load_item
from bot.services.library import EpisodeInfo, Library, UnknownEpisode, find_episode
from bot.services.retrying import retried
from db.feeds import (
    NewItem,
    add_feed,
    add_items,
    all_feeds,
    already_linked,
    claim_announcement,
    due_feeds,
    feeds_of,
    find_feed,
    items_of,
    known_guids,
    mark_announced,
    refresh_waiting,
    release_announcement,
    release_lease,
    set_skipped,
    skipped_of,
    take_lease,
    unannounced_items,
    waiting_items,
)
from db.models import Feed, FeedItemRow

log = logging.getLogger(__name__)

POLL_LEASE = "feed-poller"
LEASE_HOLD = timedelta(minutes=10)
ANNOUNCE_LEASE = timedelta(minutes=10)
BACKOFF_START = timedelta(minutes=30)
BACKOFF_MAX = timedelta(days=1)
NOT_ANNOUNCED = "-"  # loaded at subscription, or for a feed without a channel


class FeedProblem(Exception):
    """A feed that cannot be subscribed to, or is not there; one plain sentence."""


@dataclass(frozen=True)
class Announcement:
    """A new episode, as its channel is told of it."""

    slug: str
    title: str
    guest: str | None
    summary: str | None
    feed_title: str
    link: str | None


class AnnouncementRefused(Exception):
    """Slack will never take the announcement there (the bot is not in the channel, it is
    archived or gone): the reason, in Slack's words or one sentence."""


class Announcer(Protocol):
    """Where announcements go (Slack)."""

    def announce(self, team: str, channel: str, announcement: Announcement) -> str:
        """Post it; the message's ts. Raises AnnouncementRefused when it never can be, any
        other exception when it may work later."""
        ...


@dataclass(frozen=True)
class ItemView:
    """One item as `feed list` shows it."""

    title: str
    state: str
    note: str | None
    slug: str | None


@dataclass(frozen=True)
class FeedView:
    """One subscription as `feed list` shows it."""

    id: int
    url: str
    title: str
    channel: str | None
    polled_at: datetime | None
    error: str | None
    failures: int
    items: list[ItemView]
    skipped: list[str]

    def count(self, state: str) -> int:
        """How many of its items are in `state`."""
        return sum(item.state == state for item in self.items)


@dataclass
class PollReport:
    """What a poll did: feeds polled, episodes loaded and announced, feeds that failed."""

    polled: int = 0
    loaded: list[str] = field(default_factory=list)
    announced: int = 0
    failed: list[str] = field(default_factory=list)
    skipped_poll: bool = False  # another process holds the poller


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _new_item(item: FeedItem, language: str | None, state: str) -> NewItem:
    best = item.best_transcript(language)
    return NewItem(
        guid=item.guid[:500],
        title=item.title,
        published_at=item.published,
        link=item.link,
        audio_url=item.audio_url,
        guest=item.guest,
        transcript_url=best.url if best else None,
        transcript_type=best.type if best else None,
        chapters_url=item.chapters_url,
        summary=item.description,
        state=state,
    )


def _fetch_feed(fetcher: Fetcher, feed: Feed) -> ParsedFeed | None:
    """The feed parsed, or None when it did not change since the validators it keeps
    (which it then takes from this answer). Raises FetchError or FeedError."""
    fetched = fetcher.get(
        feed.url, limit=FEED_BYTES, etag=feed.etag, last_modified=feed.last_modified
    )
    if fetched.not_modified:
        return None
    parsed = parse_feed(fetched.body)
    feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
    return parsed


def _fetcher(settings: Settings) -> Fetcher:
    # The module's limit read now, not when this module was imported, so tests can lower it.
    return Fetcher(allow_private=settings.feeds_allow_private, seconds=fetching.FETCH_SECONDS)


def subscribe(
    library: Library,
    settings: Settings,
    url: str,
    *,
    channel: str | None,
) -> FeedView:
    """Subscribe the workspace to the feed at `url`, announcing new episodes in `channel`.
    Its items now are seen; the newest is loaded now (not announced). FeedProblem."""
    url = url.strip()
    with library.sessions() as session:
        if find_feed(session, library.workspace, url) is not None:
            raise FeedProblem("this workspace is already subscribed to that feed")
    fetched_as = Feed(url=url)
    try:
        check_destination(url, allow_private=settings.feeds_allow_private)
        with _fetcher(settings) as fetcher:
            parsed = _fetch_feed(fetcher, fetched_as)
    except (FetchError, FeedError) as exc:
        raise FeedProblem(f"The feed could not be read: {exc}.") from None
    assert parsed is not None  # asked without validators: never "not modified"
    newest = max(parsed.items, key=lambda i: i.published or datetime.min, default=None)
    with library.sessions.begin() as session:
        feed = add_feed(session, library.workspace, url, parsed.title, channel)
        feed.etag, feed.last_modified = fetched_as.etag, fetched_as.last_modified
        add_items(
            session,
            feed.id,
            (
                _new_item(i, parsed.language, "waiting" if i is newest else "earlier")
                for i in parsed.items
            ),
        )
        set_skipped(session, feed, parsed.skipped)
        feed_id = feed.id
    with _fetcher(settings) as fetcher:
        _load_waiting(library, fetcher, feed_id, PollReport(), announce_now=False)
    return view(library, feed_id)


def view(library: Library, feed_id: int) -> FeedView:
    """One subscription as listed."""
    with library.sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or feed.team_id != library.workspace:
            raise FeedProblem("no such feed")
        return _view(session, feed)


def _view(session: Session, feed: Feed) -> FeedView:
    items = [
        ItemView(
            i.title,
            "removed" if i.state == "ingested" and i.episode is None else i.state,
            i.note,
            i.episode.slug if i.episode is not None else None,
        )
        for i in items_of(session, feed.id)
    ]
    return FeedView(
        feed.id,
        feed.url,
        feed.title,
        feed.channel,
        feed.polled_at,
        feed.error,
        feed.failures,
        items,
        skipped_of(feed),
    )


def subscriptions(library: Library) -> list[FeedView]:
    """The workspace's feeds, oldest subscription first."""
    with library.sessions() as session:
        return [_view(session, feed) for feed in feeds_of(session, library.workspace)]


def unsubscribe(library: Library, url_or_id: str) -> FeedView:
    """Stop polling a feed (by URL or number); its episodes stay. FeedProblem."""
    with library.sessions.begin() as session:
        feed = find_feed(session, library.workspace, url_or_id)
        if feed is None:
            raise FeedProblem(
                f"No feed {url_or_id.strip()!r} is subscribed: `feed list` shows them."
            )
        gone = _view(session, feed)
        session.delete(feed)
    return gone


def poll(
    library: Library,
    settings: Settings,
    announcer: Announcer | None,
    *,
    holder: str | None = None,
    now: datetime | None = None,
    every_feed: bool = False,
) -> PollReport:
    """Poll every due feed of every workspace (every feed with `every_feed`), unless
    another process is polling. Never raises for what a feed holds."""
    holder = holder or process_owner()
    now = now or _now()
    report = PollReport()
    with library.sessions.begin() as session:
        if not take_lease(session, POLL_LEASE, holder, now, LEASE_HOLD):
            report.skipped_poll = True
            return report
    try:
        with library.sessions() as session:
            due = [f.id for f in (all_feeds(session) if every_feed else due_feeds(session, now))]
        with _fetcher(settings) as fetcher:
            for feed_id in due:
                _poll_feed(library, fetcher, announcer, feed_id, report, now)
                with library.sessions.begin() as session:  # still ours for the next feed?
                    if not take_lease(session, POLL_LEASE, holder, _now(), LEASE_HOLD):
                        log.warning("the feed poller's lease went to another process")
                        break
    finally:
        with library.sessions.begin() as session:
            release_lease(session, POLL_LEASE, holder)
    return report


def _poll_feed(
    library: Library,
    fetcher: Fetcher,
    announcer: Announcer | None,
    feed_id: int,
    report: PollReport,
    now: datetime,
) -> None:
    report.polled += 1
    try:
        with library.sessions.begin() as session:
            feed = session.get(Feed, feed_id)
            if feed is None:
                return
            team = feed.team_id
            try:
                parsed = _fetch_feed(fetcher, feed)
            except (FetchError, FeedError) as exc:
                _failed(feed, str(exc), now)
                report.failed.append(f"{feed.title}: {exc}")
                return
            feed.polled_at, feed.failures, feed.error, feed.next_poll_at = now, 0, None, None
            if parsed is not None:
                feed.title = parsed.title
                seen = known_guids(session, feed.id)
                listed = [_new_item(i, parsed.language, "waiting") for i in parsed.items]
                add_items(session, feed.id, (i for i in listed if i.guid not in seen))
                refresh_waiting(session, feed.id, (i for i in listed if i.guid in seen))
                set_skipped(session, feed, parsed.skipped)
        own = library.of_workspace(team)
        _load_waiting(own, fetcher, feed_id, report, announce_now=True)
        if announcer is not None:
            _announce(own, announcer, feed_id, report)
    except SQLAlchemyError as exc:
        log.warning("feed %d not polled: database error (%s)", feed_id, type(exc).__name__)
        report.failed.append(f"feed {feed_id}: database error")
    except Exception:  # a feed must never stop the others: backed off like any failure
        log.exception("feed %d: unexpected error while polling it", feed_id)
        report.failed.append(f"feed {feed_id}: unexpected error (see the log)")
        try:
            with library.sessions.begin() as session:
                if (feed := session.get(Feed, feed_id)) is not None:
                    _failed(feed, "an unexpected error while polling it (see the log)", now)
        except SQLAlchemyError:
            log.warning("feed %d: its failure could not be recorded either", feed_id)


def _failed(feed: Feed, error: str, now: datetime) -> None:
    """A failed poll: the feed waits twice as long as after the last failure, up to a day."""
    feed.failures += 1
    feed.error = error
    feed.polled_at = now
    wait = min(BACKOFF_START * 2 ** (feed.failures - 1), BACKOFF_MAX)
    feed.next_poll_at = now + wait
    # By number and title: a private feed's URL may carry its subscriber's token.
    log.warning(
        "feed %d (%s) failed (%d in a row), next try in %s: %s",
        feed.id,
        feed.title,
        feed.failures,
        wait,
        error,
    )


def _load_waiting(
    library: Library, fetcher: Fetcher, feed_id: int, report: PollReport, *, announce_now: bool
) -> None:
    with library.sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            return
        session.expunge(feed)
        items = waiting_items(session, feed_id)
        for item in items:
            session.expunge(item)
    for item in items:
        try:
            loaded = load_item(library, fetcher, feed, item)
        except Exception:  # an item must never stop the feed: skipped, said in one line
            log.exception("feed %d: unexpected error while loading %r", feed_id, item.title)
            loaded = Loaded("broken", note="an unexpected error while loading it (see the log)")
        with library.sessions.begin() as session:
            row = session.get(FeedItemRow, item.id)
            if row is None:
                continue
            row.state, row.note = loaded.state, loaded.note
            row.tries += loaded.failed_try
            if loaded.slug is not None:
                episode_id = find_episode(session, loaded.slug).id
                # The same episode under another guid of this feed (a host that rewrote its
                # guids): loaded already, so not announced again.
                again = already_linked(session, feed_id, episode_id, besides=row.id)
                row.episode_id = episode_id
                report.loaded.append(loaded.slug)
                if not announce_now or feed.channel is None or again:
                    row.announced_ts = NOT_ANNOUNCED


def _mark(library: Library, item_id: int, ts: str) -> None:
    with library.sessions.begin() as session:
        mark_announced(session, item_id, ts)


def _gist(library: Library, episode: EpisodeInfo) -> str | None:
    """What the announcement says the episode is about: its summary, else its first
    takeaway (found in the transcript the first time it is asked for)."""
    if episode.summary:
        return episode.summary
    try:
        _, points = takeaways.of_episode(library, episode.slug)
    except (UnknownEpisode, SQLAlchemyError):
        return None
    return points[0].text if points else None


def _announce(library: Library, announcer: Announcer, feed_id: int, report: PollReport) -> None:
    with library.sessions() as session:
        feed = session.get(Feed, feed_id)
        if feed is None or feed.channel is None:
            return
        team, channel, feed_title = feed.team_id, feed.channel, feed.title
        pending = [
            (i.id, EpisodeInfo.of(i.episode), i.link)
            for i in unannounced_items(session, feed_id)
            if i.episode is not None
        ]
    for item_id, episode, link in pending:
        with library.sessions.begin() as session:
            # Claimed as of now, not as of the poll's start: a long poll's claims must not
            # look expired to another process the moment they are made.
            if not claim_announcement(session, item_id, _now(), ANNOUNCE_LEASE):
                continue
        news = Announcement(
            episode.slug, episode.title, episode.guest, _gist(library, episode), feed_title, link
        )
        try:
            ts = announcer.announce(team, channel, news)
        except AnnouncementRefused as exc:  # never postable there: given up, said in the list
            log.warning("announcement of %s in %s refused: %s", episode.slug, channel, exc)
            with library.sessions.begin() as session:
                mark_announced(session, item_id, NOT_ANNOUNCED, note=f"not announced: {exc}")
            continue
        except Exception as exc:  # Slack's failure must not stop the other announcements
            log.warning("announcement of %s in %s failed: %s", episode.slug, channel, exc)
            with library.sessions.begin() as session:
                release_announcement(session, item_id)
            continue
        retried(partial(_mark, library, item_id, ts), "record an announcement")
        use_episode(library, channel, episode.slug)
        report.announced += 1
