"""Posting the takeaway of the day exactly once per channel per local day, and the channels'
settings for it.

The day's row is claimed before anything is posted (UNIQUE workspace + channel + local date), so of
several processes due at the same moment one posts. A claim left by a crash is retaken after
a lease; a failed post releases it for a retry with back-off. The post is also the root of a
conversation, so replies in its thread are follow-ups about the takeaway. Where the post goes
(Slack) is a Publisher handed in by the surface that runs the bot.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.services.library import Library
from bot.services.threads import forget, start_takeaway_thread
from bot.takeaways.picking import Pick, next_takeaway, pick_by_id
from bot.takeaways.schedule import DigestSchedule, ScheduleError, parse_zone
from db.conversations import set_thread
from db.digest import (
    claim_day,
    digest_channels,
    get_channel,
    mark_failed,
    mark_posted,
    may_retake,
    post_for_day,
    set_digest,
    set_takeaway,
)

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter
    from db.models import Channel

log = logging.getLogger(__name__)
RECORD_ATTEMPTS, RECORD_PAUSE_SECONDS = 5, 2.0


class PublishFailed(Exception):
    """The post did not go out: `reason` in a word or code; `final` when a retry the same
    day would meet the same refusal (not in the channel, a revoked token...)."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


class Publisher(Protocol):
    """Where takeaways are posted (Slack's Web API, in the running bot)."""

    def publish(self, team: str, channel: str, pick: Pick, *, post_id: int, turn_id: int) -> str:
        """Post the takeaway in workspace `team`'s channel; the posted message's id (ts).
        Raises PublishFailed."""
        ...

    def find_posted(self, team: str, channel: str, post_id: int) -> str | None:
        """The ts of this day's post if an earlier attempt got it out after all. Raises
        PublishFailed when Slack cannot be asked (then nobody knows, so nothing is posted)."""
        ...


class Outcome(StrEnum):
    """What one attempt to post a channel's takeaway did."""

    POSTED = "posted"
    NOT_DUE = "not due yet"
    ALREADY = "already posted or being posted"
    NOTHING = "no takeaway to post"
    FAILED = "Slack refused the post; it will be retried"
    HELD = "held back: Slack could not be checked for an earlier post; it will be retried"


@dataclass(frozen=True)
class Result:
    """An attempt's outcome, with the takeaway when one was posted."""

    outcome: Outcome
    pick: Pick | None = None
    error: str | None = None


def _schedule_of(
    settings: Settings, team: str, channel: str, row: Channel | None
) -> DigestSchedule:
    """A channel's schedule: its own stored time, zone and days where set, else the
    settings' defaults. Raises ScheduleError for a stored value that cannot be used."""
    if row is None:
        return DigestSchedule.parse(
            channel,
            settings.digest_time,
            settings.digest_timezone,
            settings.digest_days,
            team=team,
        )
    return DigestSchedule.parse(
        channel,
        row.digest_time or settings.digest_time,
        row.digest_timezone or settings.digest_timezone,
        row.digest_days or settings.digest_days,
        row.digest_since.replace(tzinfo=UTC) if row.digest_since else None,
        team=team,
    )


def _default_channel(settings: Settings, channel: str) -> bool:
    """Whether DIGEST_CHANNEL names this channel: a single-workspace install's setting (with
    many workspaces a channel id names no one workspace's channel)."""
    return (
        bool(settings.digest_channel)
        and not settings.many_workspaces
        and (channel == settings.digest_channel)
    )


def schedules(
    library: Library, settings: Settings, *, teams: Collection[str] | None = None
) -> list[DigestSchedule]:
    """Every channel that gets a takeaway of the day: those set with `/episode digest here`
    in the workspaces `teams` (None: in any), and DIGEST_CHANNEL (in the library's
    workspace) unless it was turned off there."""
    found: dict[str, DigestSchedule] = {}
    with library.sessions() as session:
        rows = [r for r in digest_channels(session) if teams is None or r.team_id in teams]
    home = library.workspace
    switched_off = {row.id for row in rows if not row.digest_enabled and row.team_id == home}
    channel = settings.digest_channel or ""
    default_on = _default_channel(settings, channel) and channel not in switched_off
    if default_on and (teams is None or home in teams):
        default = _schedule_of(settings, home, channel, None)
        found[default.key] = default
    for row in rows:
        if not row.digest_enabled:
            continue
        try:
            schedule = _schedule_of(settings, row.team_id, row.id, row)
        except ScheduleError as exc:  # stored by an older version, or edited by hand
            log.warning("channel %s has an unusable digest setting: %s", row.id, exc)
            continue
        found[schedule.key] = schedule
    return list(found.values())


def channel_schedule(library: Library, settings: Settings, channel: str) -> DigestSchedule | None:
    """The channel's takeaway-of-the-day schedule, or None when it gets none. Raises
    ScheduleError for a stored setting that cannot be used."""
    with library.sessions() as session:
        row = get_channel(session, library.workspace, channel)
        enabled = row.digest_enabled if row is not None else None
        if enabled is False or (enabled is None and not _default_channel(settings, channel)):
            return None
        return _schedule_of(settings, library.workspace, channel, row)


def set_schedule(library: Library, channel: str, *, at: str, zone: str, days: str) -> None:
    """Post a takeaway of the day in `channel` at this local time, zone and days."""
    with library.sessions.begin() as session:
        set_digest(session, library.workspace, channel, enabled=True, at=at, zone=zone, days=days)


def stop_schedule(library: Library, channel: str) -> None:
    """No more takeaways of the day in `channel` (DIGEST_CHANNEL included)."""
    with library.sessions.begin() as session:
        set_digest(session, library.workspace, channel, enabled=False)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # stored times are naive UTC


class DailyPoster:
    """Posts channels' takeaways of the day through one Publisher."""

    def __init__(
        self,
        library: Library,
        publisher: Publisher,
        settings: Settings,
        *,
        owner: str | None = None,
        writer: TakeawayWriter | None = None,
    ) -> None:
        self._library = library
        self._publisher = publisher
        self._writer = writer
        self._settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"

    def post_if_due(self, schedule: DigestSchedule, now: datetime) -> Result:
        """Post the channel's takeaway for today if its time has come and nobody has."""
        local_date = schedule.due_date(now)
        if local_date is None:
            return Result(Outcome.NOT_DUE)
        return self._post_for(
            self._library.of_workspace(schedule.team), schedule.channel, local_date, now
        )

    def post_now(self, channel: str, now: datetime) -> Result:
        """Today's post for `channel` (today in the channel's zone), unless it went out."""
        try:
            schedule = channel_schedule(self._library, self._settings, channel)
        except ScheduleError:  # a stored zone that cannot be used: the default one then
            schedule = None
        zone = schedule.zone if schedule else parse_zone(self._settings.digest_timezone)
        return self.post_for(channel, now.astimezone(zone).date(), now)

    def post_for(self, channel: str, local_date: date, now: datetime) -> Result:
        """Claim the channel's post for `local_date` and post it, once (in the library's
        workspace)."""
        return self._post_for(self._library, channel, local_date, now)

    def _post_for(self, library: Library, channel: str, local_date: date, now: datetime) -> Result:
        team = library.workspace
        stamp = _naive_utc(now)
        with self._library.sessions() as session:  # the sweep's usual case, without a write
            row = post_for_day(session, team, channel, local_date)
            if row is not None and not may_retake(row, stamp):
                return Result(Outcome.ALREADY)
        # Each claim has its own token: the cron job and the sweep of one process must not
        # mistake each other's claims for their own.
        owner = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        with self._library.sessions.begin() as session:
            claim = claim_day(session, team, channel, local_date, owner=owner, now=stamp)
            claimed = (claim.id, claim.takeaway_id, claim.attempts) if claim else None
        if claimed is None:
            return Result(Outcome.ALREADY)
        post_id, takeaway_id, attempts = claimed
        try:
            if attempts > 1:  # an earlier attempt may have got the post out after all
                try:
                    ts = self._publisher.find_posted(team, channel, post_id)
                except PublishFailed as exc:
                    return self._hold(channel, post_id, owner, exc, stamp)
                if ts:
                    self._record_posted(library, channel, post_id, owner, ts, takeaway_id, stamp)
                    return Result(Outcome.POSTED)
            pick = self._pick(library, channel, post_id, takeaway_id)
            if pick is None:
                self._fail(post_id, owner, "no takeaway", stamp, final=True)
                return Result(Outcome.NOTHING)
            return self._post(library, channel, post_id, owner, pick, stamp)
        except Exception as exc:  # the claim must not be left hanging until its lease ends
            log.exception("takeaway of the day for %s failed", channel)
            self._fail(post_id, owner, type(exc).__name__, stamp)
            return Result(Outcome.FAILED, error=type(exc).__name__)

    def _hold(
        self, channel: str, post_id: int, owner: str, exc: PublishFailed, stamp: datetime
    ) -> Result:
        """Slack could not say whether an earlier attempt posted: posting now could post
        twice, so the claim is released for a later look (or the day given up, when Slack
        would refuse the same way all day)."""
        log.log(
            logging.ERROR if exc.final else logging.WARNING,
            "takeaway of the day for %s held back: could not check Slack for an earlier post "
            "(%s)%s",
            channel,
            exc.reason,
            "; skipped for today" if exc.final else "; it will be checked again later",
        )
        self._fail(post_id, owner, f"history: {exc.reason}", stamp, final=exc.final)
        return Result(Outcome.HELD, error=exc.reason)

    def _pick(
        self, library: Library, channel: str, post_id: int, takeaway_id: int | None
    ) -> Pick | None:
        if takeaway_id is not None:  # a retry posts what the first attempt chose
            with self._library.sessions() as session:
                if (pick := pick_by_id(session, takeaway_id)) is not None:
                    return pick
        pick = next_takeaway(
            self._library.sessions,
            library.workspace,
            channel,
            when_done=self._settings.digest_when_done,
            writer=self._writer,
        )
        if pick is not None:
            with self._library.sessions.begin() as session:
                set_takeaway(session, post_id, pick.takeaway_id)
        return pick

    def _post(
        self, library: Library, channel: str, post_id: int, owner: str, pick: Pick, stamp: datetime
    ) -> Result:
        conversation_id, turn_id = start_takeaway_thread(library, channel, pick)
        try:
            ts = self._publisher.publish(
                library.workspace, channel, pick, post_id=post_id, turn_id=turn_id
            )
        except PublishFailed as exc:
            log.log(
                logging.ERROR if exc.final else logging.WARNING,
                "takeaway of the day for %s not posted: %s%s",
                channel,
                exc.reason,
                " (skipped for today)" if exc.final else "",
            )
            forget(library, conversation_id)
            self._fail(post_id, owner, exc.reason, stamp, final=exc.final)
            return Result(Outcome.FAILED, pick, exc.reason)
        self._record_posted(library, channel, post_id, owner, ts, None, stamp, conversation_id)
        return Result(Outcome.POSTED, pick)

    def _record_posted(
        self,
        library: Library,
        channel: str,
        post_id: int,
        owner: str,
        ts: str,
        takeaway_id: int | None,
        stamp: datetime,
        conversation_id: int | None = None,
    ) -> None:
        """Mark the day posted. Retried: once the post is out, losing this write would post
        it again when the claim lapses."""
        if conversation_id is None and takeaway_id is not None:
            with self._library.sessions() as session:
                pick = pick_by_id(session, takeaway_id)
            if pick is not None:
                conversation_id = start_takeaway_thread(library, channel, pick)[0]
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with self._library.sessions.begin() as session:
                    if conversation_id is not None:
                        set_thread(session, conversation_id, ts)
                    if not mark_posted(session, post_id, owner=owner, message_ts=ts, now=stamp):
                        log.warning("takeaway for %s posted after its claim was retaken", channel)
                return
            except SQLAlchemyError:
                log.warning("could not record the post for %s (try %d)", channel, attempt + 1)
                time.sleep(RECORD_PAUSE_SECONDS)
        log.error("the takeaway for %s was posted (ts %s) but could not be recorded", channel, ts)

    def _fail(
        self, post_id: int, owner: str, error: str, stamp: datetime, *, final: bool = False
    ) -> None:
        try:
            with self._library.sessions.begin() as session:
                mark_failed(session, post_id, owner=owner, error=error, now=stamp, final=final)
        except SQLAlchemyError:  # the lease still ends the claim
            log.warning("could not release the claim on post %s", post_id)
