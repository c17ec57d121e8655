"""When a channel's takeaway is due: its local time, time zone and days (read and checked by
the parsers settings use too); the APScheduler cron trigger for it; and whether a given moment
is past today's post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.config import DAY_NAMES, ScheduleError, parse_days, parse_time, parse_zone

__all__ = ["DigestSchedule", "ScheduleError", "parse_days", "parse_time", "parse_zone"]


@dataclass(frozen=True)
class DigestSchedule:
    """One channel's daily post: local time, zone and days, and the workspace (team id) the
    channel is in."""

    channel: str
    at: time
    zone: ZoneInfo
    days: frozenset[int]
    # When the setting was made: a post time before it is not caught up ("digest here 09:30"
    # typed at 15:00 starts tomorrow). None: catch up whatever today's time was.
    since: datetime | None = None
    team: str = ""

    @classmethod
    def parse(
        cls,
        channel: str,
        at: str,
        zone: str,
        days: str,
        since: datetime | None = None,
        *,
        team: str = "",
    ) -> DigestSchedule:
        """From the stored or typed strings; raises ScheduleError with one sentence."""
        return cls(channel, parse_time(at), parse_zone(zone), parse_days(days), since, team)

    @property
    def key(self) -> str:
        """What tells this channel's schedule from every other: workspace and channel."""
        return f"{self.team}/{self.channel}"

    @property
    def day_spec(self) -> str:
        """APScheduler's `day_of_week`: `mon,tue,wed`."""
        return ",".join(DAY_NAMES[d] for d in sorted(self.days))

    def trigger(self) -> CronTrigger:
        """A cron trigger at the local time on the chosen days, in the channel's zone.
        APScheduler works in that zone, so the post stays at 09:00 local across DST."""
        return CronTrigger(
            day_of_week=self.day_spec, hour=self.at.hour, minute=self.at.minute, timezone=self.zone
        )

    def due_date(self, now: datetime) -> date | None:
        """Today's local date if today is a posting day and its time has come, else None.
        On the day clocks go forward past the post time, the post is due from the first
        moment after it; on the day they go back, it is due once (the date is the key)."""
        local = now.astimezone(self.zone)
        if local.weekday() not in self.days or local.time() < self.at:
            return None
        if (
            self.since is not None
            and datetime.combine(local.date(), self.at, self.zone) < self.since
        ):
            return None
        return local.date()

    def next_post_at(self, now: datetime) -> datetime:
        """The next scheduled post after `now`, in the channel's zone."""
        fire = self.trigger().get_next_fire_time(None, now)
        assert fire is not None, "a weekly trigger always fires again"
        return fire

    def describe(self) -> str:
        """`09:30 Europe/Berlin, mon-fri`."""
        return f"{self.at:%H:%M} {self.zone.key}, {self.day_spec}"
