"""When a channel's takeaway is due: its local time, time zone and days, read and checked;
the APScheduler cron trigger for it; and whether a given moment is past today's post."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class ScheduleError(ValueError):
    """A time, zone or day list that cannot be used; the message is one plain sentence."""


def parse_time(text: str) -> time:
    """`09:30` -> 09:30. 24-hour clock."""
    match = CLOCK.fullmatch(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{text.strip()!r} is not a time: use HH:MM on a 24-hour clock.")
    return time(int(match[1]), int(match[2]))


def parse_zone(text: str) -> ZoneInfo:
    """An IANA time zone such as `Europe/Berlin` or `UTC`."""
    name = text.strip()
    if name.upper() in {"UTC", "GMT"}:
        name = name.upper()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{name!r} is not a time zone: use a name such as Europe/Berlin or America/New_York."
        ) from None


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `daily` -> weekday numbers (Monday is 0)."""
    spec = text.strip().lower()
    if spec in {"daily", "every day", "all"}:
        return frozenset(range(7))
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ScheduleError(
                f"{text.strip()!r} is not a list of days: use mon-fri, or mon,wed,fri, or daily."
            )
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    if not days:
        raise ScheduleError("No days given: use mon-fri, or mon,wed,fri, or daily.")
    return frozenset(days)


@dataclass(frozen=True)
class DigestSchedule:
    """One channel's daily post: local time, zone and days."""

    channel: str
    at: time
    zone: ZoneInfo
    days: frozenset[int]
    # When the setting was made: a post time before it is not caught up ("digest here 09:30"
    # typed at 15:00 starts tomorrow). None: catch up whatever today's time was.
    since: datetime | None = None

    @classmethod
    def parse(
        cls, channel: str, at: str, zone: str, days: str, since: datetime | None = None
    ) -> DigestSchedule:
        """From the stored or typed strings; raises ScheduleError with one sentence."""
        return cls(channel, parse_time(at), parse_zone(zone), parse_days(days), since)

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
