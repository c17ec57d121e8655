"""The takeaway-of-the-day scheduler inside `serve` and `socket`: APScheduler 3.x, one cron
job per channel in the channel's own time zone, plus a sweep every minute.

The sweep is what makes the post dependable rather than merely punctual: it picks up
settings changed by another process, posts a day whose time passed while the bot was down
(it also runs at start-up), retries a post Slack refused, and retakes a claim whose process
died. The claim on (channel, local date) keeps all of these to one post a day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.daily_posts import DailyPoster
from bot.takeaways.schedule import DigestSchedule

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60
JOB_PREFIX = "digest:"


class DigestScheduler:
    """Keeps one cron job per digest channel and a sweep; runs in background threads."""

    def __init__(
        self,
        poster: DailyPoster,
        load_schedules: Callable[[], list[DigestSchedule]],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._poster = poster
        self._load = load_schedules
        self._clock = clock
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._installed: dict[str, DigestSchedule] = {}

    def start(self) -> None:
        """Install the jobs and start; the first sweep runs at once (catch-up)."""
        self._scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=SWEEP_SECONDS),
            id="digest-sweep",
            next_run_time=self._clock(),
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()

    def every(self, seconds: float, job: Callable[[], object], name: str) -> None:
        """Also run `job` every `seconds` (its failure logged, never the scheduler's)."""

        def guarded() -> None:
            try:
                job()
            except Exception:
                log.exception("%s failed", name)

        self._scheduler.add_job(
            guarded,
            IntervalTrigger(seconds=seconds),
            id=name,
            next_run_time=self._clock(),
            max_instances=1,
            coalesce=True,
        )

    def shutdown(self) -> None:
        """Stop without waiting for a post in progress (its claim makes it safe)."""
        self._scheduler.shutdown(wait=False)

    def sync(self) -> list[DigestSchedule]:
        """Make the cron jobs match the stored settings; returns the schedules."""
        wanted = {s.key: s for s in self._load()}
        for key in set(self._installed) - set(wanted):
            self._scheduler.remove_job(JOB_PREFIX + key)
            del self._installed[key]
        for key, schedule in wanted.items():
            if self._installed.get(key) == schedule:
                continue
            self._scheduler.add_job(
                self._post_one,
                schedule.trigger(),
                args=[schedule],
                id=JOB_PREFIX + key,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,  # late is better than never; the claim stops doubles
            )
            self._installed[key] = schedule
        return list(wanted.values())

    def sweep(self) -> None:
        """Sync the jobs, then post whatever is due and not yet posted."""
        try:
            for schedule in self.sync():
                self._post_one(schedule)
        except Exception:  # the next sweep tries again; the scheduler must keep running
            log.exception("takeaway-of-the-day sweep failed")

    def _post_one(self, schedule: DigestSchedule) -> None:
        try:
            result = self._poster.post_if_due(schedule, self._clock())
        except Exception:
            log.exception("takeaway of the day for %s failed", schedule.channel)
            return
        if result.pick is not None:
            log.info("takeaway of the day for %s: %s", schedule.channel, result.outcome.value)
