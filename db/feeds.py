"""Feed queries: subscriptions, the items each poll saw and what became of them, the claim
on an item's announcement, episode chapters, and leases (one holder of a job at a time
across processes)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from db.dialect import insert
from db.models import Episode, EpisodeChapter, Feed, FeedItemRow, Lease
from db.shelves import on_shelf


@dataclass(frozen=True)
class NewItem:
    """An item a poll saw for the first time, as it is stored."""

    guid: str
    title: str
    published_at: datetime | None
    link: str | None
    audio_url: str | None
    guest: str | None
    transcript_url: str | None
    transcript_type: str | None
    chapters_url: str | None
    summary: str | None
    state: str


def feeds_of(session: Session, team: str) -> list[Feed]:
    """A workspace's subscriptions, oldest first."""
    return list(session.scalars(select(Feed).where(Feed.team_id == team).order_by(Feed.id)))


def find_feed(session: Session, team: str, url_or_id: str) -> Feed | None:
    """A workspace's subscription by its URL or its number."""
    key = url_or_id.strip()
    if key.isdigit():
        return session.scalar(select(Feed).where(Feed.team_id == team, Feed.id == int(key)))
    return session.scalar(select(Feed).where(Feed.team_id == team, Feed.url == key))


def add_feed(session: Session, team: str, url: str, title: str, channel: str | None) -> Feed:
    """A new subscription (in the caller's transaction)."""
    feed = Feed(team_id=team, url=url, title=title, channel=channel, failures=0)
    session.add(feed)
    session.flush()
    return feed


def all_feeds(session: Session) -> list[Feed]:
    """Every workspace's feeds."""
    return list(session.scalars(select(Feed).order_by(Feed.id)))


def due_feeds(session: Session, now: datetime) -> list[Feed]:
    """Every workspace's feeds whose next poll is due."""
    due = or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= now)
    return list(session.scalars(select(Feed).where(due).order_by(Feed.id)))


def known_guids(session: Session, feed_id: int) -> set[str]:
    """The guids of every item of the feed seen before."""
    return set(session.scalars(select(FeedItemRow.guid).where(FeedItemRow.feed_id == feed_id)))


def add_items(session: Session, feed_id: int, items: Iterable[NewItem]) -> int:
    """Store items seen for the first time; one another process stored meanwhile is left
    as it is. How many were new."""
    added = 0
    for item in items:
        values = {"feed_id": feed_id, **item.__dict__, "tries": 0}
        statement = insert(session, FeedItemRow).values(**values).on_conflict_do_nothing()
        # RETURNING, not rowcount: the PostgreSQL driver's count of an ORM insert is not one.
        added += session.execute(statement.returning(FeedItemRow.id)).first() is not None
    return added


def refresh_waiting(session: Session, feed_id: int, items: Iterable[NewItem]) -> None:
    """Items seen before and still waiting take what the feed offers now: hosts often add
    the transcript (or the chapters) hours after the episode."""
    for item in items:
        session.execute(
            update(FeedItemRow)
            .where(
                FeedItemRow.feed_id == feed_id,
                FeedItemRow.guid == item.guid,
                FeedItemRow.state == "waiting",
            )
            .values(
                transcript_url=item.transcript_url,
                transcript_type=item.transcript_type,
                chapters_url=item.chapters_url,
            )
        )


def waiting_items(session: Session, feed_id: int) -> list[FeedItemRow]:
    """The feed's items still to load, oldest first (episodes arrive in order)."""
    return list(
        session.scalars(
            select(FeedItemRow)
            .where(FeedItemRow.feed_id == feed_id, FeedItemRow.state == "waiting")
            .order_by(FeedItemRow.published_at.is_(None), FeedItemRow.published_at, FeedItemRow.id)
        )
    )


def items_of(session: Session, feed_id: int) -> list[FeedItemRow]:
    """Every item of the feed seen so far, newest first."""
    return list(
        session.scalars(
            select(FeedItemRow)
            .where(FeedItemRow.feed_id == feed_id)
            .order_by(FeedItemRow.published_at.desc(), FeedItemRow.id.desc())
        )
    )


def set_skipped(session: Session, feed: Feed, lines: Sequence[str]) -> None:
    """The items the last poll could not read."""
    feed.skipped = json.dumps(list(lines)) if lines else None


def skipped_of(feed: Feed) -> list[str]:
    """The lines `set_skipped` stored."""
    return list(json.loads(feed.skipped)) if feed.skipped else []


def claim_announcement(session: Session, item_id: int, now: datetime, lease: timedelta) -> bool:
    """Take the item's announcement for this process: False when it was posted, or another
    process claimed it less than `lease` ago."""
    free = FeedItemRow.announce_claimed_at.is_(None) | (
        FeedItemRow.announce_claimed_at < now - lease
    )
    claimed = session.execute(
        update(FeedItemRow)
        .where(FeedItemRow.id == item_id, FeedItemRow.announced_ts.is_(None), free)
        .values(announce_claimed_at=now)
    )
    return bool(claimed.rowcount)


def mark_announced(session: Session, item_id: int, ts: str, *, note: str | None = None) -> None:
    """The item's announcement is out (or, "-", will never be: `note` says why)."""
    values: dict[str, object] = {"announced_ts": ts}
    if note is not None:
        values["note"] = note
    session.execute(update(FeedItemRow).where(FeedItemRow.id == item_id).values(**values))


def already_linked(session: Session, feed_id: int, episode_id: int, *, besides: int) -> bool:
    """Whether another item of the feed was loaded as this episode already."""
    other = select(FeedItemRow.id).where(
        FeedItemRow.feed_id == feed_id,
        FeedItemRow.episode_id == episode_id,
        FeedItemRow.id != besides,
    )
    return session.scalar(other.limit(1)) is not None


def release_announcement(session: Session, item_id: int) -> None:
    """A failed announcement may be tried again at the next poll."""
    session.execute(
        update(FeedItemRow).where(FeedItemRow.id == item_id).values(announce_claimed_at=None)
    )


def unannounced_items(session: Session, feed_id: int) -> list[FeedItemRow]:
    """The feed's loaded items whose announcement is not out yet."""
    return list(
        session.scalars(
            select(FeedItemRow)
            .where(
                FeedItemRow.feed_id == feed_id,
                FeedItemRow.state == "ingested",
                FeedItemRow.announced_ts.is_(None),
            )
            .order_by(FeedItemRow.id)
        )
    )


def set_chapters(session: Session, episode_id: int, chapters: Sequence[tuple[float, str]]) -> None:
    """The episode's chapters, replacing any stored (in the caller's transaction)."""
    session.execute(delete(EpisodeChapter).where(EpisodeChapter.episode_id == episode_id))
    session.add_all(
        EpisodeChapter(episode_id=episode_id, position=n, start_seconds=start, title=title)
        for n, (start, title) in enumerate(chapters, start=1)
    )


def chapters_by_slug(
    session: Session, slugs: Collection[str] | None = None
) -> dict[str, list[tuple[float, str]]]:
    """Each episode's chapters (start seconds, title) in order, by slug, in one query: of
    `slugs`, or of every episode on the session's shelf; episodes without any left out."""
    query = (
        select(Episode.slug, EpisodeChapter.start_seconds, EpisodeChapter.title)
        .join(EpisodeChapter, EpisodeChapter.episode_id == Episode.id)
        .where(on_shelf(session))
        .order_by(Episode.slug, EpisodeChapter.position)
    )
    if slugs is not None:
        query = query.where(Episode.slug.in_(set(slugs)))
    found: dict[str, list[tuple[float, str]]] = {}
    for slug, start, title in session.execute(query):
        found.setdefault(slug, []).append((start, title))
    return found


def take_lease(session: Session, name: str, holder: str, now: datetime, hold: timedelta) -> bool:
    """Hold the job `name` until now + `hold`: True when this holder has it (it was free,
    expired, or already this holder's)."""
    until = now + hold
    renewed = session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.expires_at < now) | (Lease.holder == holder))
        .values(holder=holder, expires_at=until)
    )
    if renewed.rowcount:
        return True
    statement = insert(session, Lease).values(name=name, holder=holder, expires_at=until)
    taken = session.execute(statement.on_conflict_do_nothing().returning(Lease.name))
    return taken.first() is not None


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the job up, if this holder still has it."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
