"""One bot process's daily-post job, run by tests as a real separate process:

    python -m tests.services.daily_post_worker DATABASE_URL SLACK_API_URL START DAYS CHANNEL...

From wall-clock time START (epoch seconds) it simulates DAYS days, one every 0.4 s: at each
day's tick it runs the job the scheduler runs at 09:00 UTC for every CHANNEL, and prints one
JSON line per attempt. Several of these started together race for the same posts."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.services.daily_posts import DailyPoster
from bot.services.library import Library
from bot.slack.client import web_client
from bot.slack.takeaway_publisher import SlackPublisher
from bot.slack.workspaces import WorkspaceClients
from bot.takeaways.schedule import DigestSchedule
from db.engine import open_database

TICK_SECONDS = 0.4
FIRST_DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def main() -> None:
    """Race for the posts of DAYS simulated days."""
    url, slack_url, start, days, *channels = sys.argv[1:]
    settings = Settings(slack_bot_token="xoxb-worker-token", slack_api_url=slack_url)
    poster = DailyPoster(
        Library(open_database(url)),
        SlackPublisher(WorkspaceClients(web_client(settings))),
        settings,
    )
    schedules = [DigestSchedule.parse(c, "09:00", "UTC", "daily") for c in channels]
    for day in range(int(days)):
        time.sleep(max(0.0, float(start) + day * TICK_SECONDS - time.time()))
        now = FIRST_DAY + timedelta(days=day)
        for schedule in schedules:
            result = poster.post_if_due(schedule, now)
            print(json.dumps({"day": day, "channel": schedule.channel, "outcome": result.outcome}))


if __name__ == "__main__":
    main()
