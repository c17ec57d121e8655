"""Daily-post queries: channels' digest settings, takeaways to post, and the exactly-once
claim on (workspace, channel, local date)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from db.dialect import insert
from db.models import Channel, DailyPost, Episode, Takeaway
from db.shelves import on_shelf

# A claim older than this, never marked posted, was left by a process that died: retake it.
CLAIM_LEASE = timedelta(minutes=10)
# After a failed post: wait this long times 2 ** (attempts - 1), at most an hour.
RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=1)


def digest_channels(session: Session) -> list[Channel]:
    """Channels with their own digest setting (on or off), of every workspace."""
    return list(session.scalars(select(Channel).where(Channel.digest_enabled.is_not(None))))


def set_digest(
    session: Session,
    team: str,
    channel_id: str,
    *,
    enabled: bool,
    at: str | None = None,
    zone: str | None = None,
    days: str | None = None,
) -> Channel:
    """Turn a channel's takeaway of the day on (with its time, zone, days) or off."""
    channel = session.get(Channel, (team, channel_id)) or Channel(team_id=team, id=channel_id)
    channel.digest_enabled = enabled
    channel.digest_since = datetime.now(UTC).replace(tzinfo=None)
    if enabled:
        channel.digest_time, channel.digest_timezone, channel.digest_days = at, zone, days
    session.add(channel)
    session.flush()
    return channel


def get_channel(session: Session, team: str, channel_id: str) -> Channel | None:
    """A channel's stored settings, if it has any."""
    return session.get(Channel, (team, channel_id))


def takeaways_of(session: Session, episode_id: int) -> list[Takeaway]:
    """An episode's takeaways in posting order."""
    return list(
        session.scalars(
            select(Takeaway).where(Takeaway.episode_id == episode_id).order_by(Takeaway.rank)
        )
    )


def episodes_in_order(session: Session) -> list[Episode]:
    """Every episode on the session's shelf, oldest stored first (the order a channel
    moves through them)."""
    return list(session.scalars(select(Episode).where(on_shelf(session)).order_by(Episode.id)))


def times_posted(
    session: Session, team: str, channel: str, takeaway_ids: Sequence[int]
) -> dict[int, int]:
    """How often each takeaway was posted (or is being posted) in a channel."""
    rows = session.execute(
        select(DailyPost.takeaway_id, func.count())
        .where(
            DailyPost.team_id == team,
            DailyPost.channel == channel,
            DailyPost.takeaway_id.in_(takeaway_ids),
            DailyPost.status != "failed",
        )
        .group_by(DailyPost.takeaway_id)
    )
    return {takeaway_id: count for takeaway_id, count in rows}


def claim_day(
    session: Session, team: str, channel: str, local_date: date, *, owner: str, now: datetime
) -> DailyPost | None:
    """Claim the channel's post for `local_date`, or None when another process holds it or it
    went out already. A claim is retaken when its lease ran out (its process died) or when a
    failed post's retry time has come."""
    # RETURNING, not rowcount: PostgreSQL's driver counts no rows for ON CONFLICT DO NOTHING.
    inserted = session.execute(
        insert(session, DailyPost)
        .values(
            team_id=team,
            channel=channel,
            local_date=local_date,
            status="claimed",
            claimed_by=owner,
            claimed_at=now,
            attempts=1,
        )
        .on_conflict_do_nothing()
        .returning(DailyPost.id)
    ).scalar_one_or_none()
    if inserted is None:
        post = session.scalars(_day_of(team, channel, local_date)).one()
        if not may_retake(post, now):
            return None
        retaken = session.execute(
            update(DailyPost)
            .where(
                DailyPost.id == post.id,
                DailyPost.status == post.status,
                DailyPost.claimed_at == post.claimed_at,
            )
            .values(
                status="claimed",
                claimed_by=owner,
                claimed_at=now,
                attempts=DailyPost.attempts + 1,
            )
        )
        if retaken.rowcount != 1:
            return None
    post = session.scalars(
        _day_of(team, channel, local_date).execution_options(populate_existing=True)
    ).one()
    return post if post.claimed_by == owner else None


def may_retake(post: DailyPost, now: datetime) -> bool:
    """Whether a day's row may be claimed again: a lapsed claim, or a failure due a retry."""
    if post.status == "claimed":
        return post.claimed_at <= now - CLAIM_LEASE
    if post.status == "failed":
        delay = min(RETRY_DELAY * 2 ** (post.attempts - 1), MAX_RETRY_DELAY)
        return post.claimed_at <= now - delay
    return False


def set_takeaway(session: Session, post_id: int, takeaway_id: int) -> None:
    """Remember which takeaway a claimed post carries, so a retry posts the same one."""
    session.execute(
        update(DailyPost).where(DailyPost.id == post_id).values(takeaway_id=takeaway_id)
    )


def mark_posted(
    session: Session, post_id: int, *, owner: str, message_ts: str, now: datetime
) -> bool:
    """The post went out; False if the claim was no longer ours."""
    result = session.execute(
        update(DailyPost)
        .where(DailyPost.id == post_id, DailyPost.claimed_by == owner)
        .values(status="posted", message_ts=message_ts, posted_at=now, error=None)
    )
    return result.rowcount == 1


def mark_failed(
    session: Session,
    post_id: int,
    *,
    owner: str,
    error: str,
    now: datetime,
    final: bool = False,
) -> None:
    """Slack refused or failed: release the claim for a retry after a delay, or, `final`,
    give the day up (a retry would fail the same way)."""
    session.execute(
        update(DailyPost)
        .where(DailyPost.id == post_id, DailyPost.claimed_by == owner)
        .values(status="skipped" if final else "failed", error=error[:100], claimed_at=now)
    )


def post_for_day(session: Session, team: str, channel: str, local_date: date) -> DailyPost | None:
    """A channel's post row for one local date, whatever its state."""
    return session.scalars(_day_of(team, channel, local_date)).one_or_none()


def _day_of(team: str, channel: str, local_date: date) -> Select[tuple[DailyPost]]:
    return select(DailyPost).where(
        DailyPost.team_id == team, DailyPost.channel == channel, DailyPost.local_date == local_date
    )
