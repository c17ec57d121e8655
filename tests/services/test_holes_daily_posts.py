"""The takeaway of the day is never posted twice because the look for an earlier attempt's
post failed: while Slack cannot say, nothing is posted and the day is looked at again later.
The real Slack SDK against the loopback stand-in, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.services.daily_posts import DailyPoster, Outcome
from bot.services.library import Library
from bot.slack.client import web_client
from bot.slack.takeaway_publisher import SlackPublisher
from bot.slack.workspaces import WorkspaceClients
from bot.takeaways.schedule import DigestSchedule
from db.models import DailyPost
from tests.fakes.slack_api import SlackApiStandIn

TOKEN = "xoxb-holes-digest-token"
MINUTE = timedelta(minutes=1)
NINE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _poster(seeded: sessionmaker[Session], slack: SlackApiStandIn) -> DailyPoster:
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url)
    return DailyPoster(
        Library(seeded), SlackPublisher(WorkspaceClients(web_client(settings))), settings, owner="a"
    )


def _row(seeded: sessionmaker[Session]) -> DailyPost:
    with seeded() as session:
        [row] = session.scalars(select(DailyPost)).all()
        return row


def _sweep(poster: DailyPoster, schedule: DigestSchedule, minutes: int) -> list[Outcome]:
    """What the sweep does each minute from 09:00: post what is due."""
    return [poster.post_if_due(schedule, NINE + n * MINUTE).outcome for n in range(minutes)]


@pytest.mark.parametrize(
    "history_fault",
    [{"error": "internal_error"}, {"status": 503}],
    ids=["slack-error", "slack-unreachable"],
)
def test_a_failed_look_for_an_earlier_post_holds_the_post_back_until_slack_can_say(
    seeded: sessionmaker[Session], slack: SlackApiStandIn, history_fault: dict[str, Any]
) -> None:
    # 09:00: Slack takes the post but its reply is lost, as when the process dies then.
    slack.lose_reply_next("chat.postMessage")
    # The retries' looks for that post fail, twice.
    slack.fail_next("conversations.history", times=2, **history_fault)
    schedule = DigestSchedule.parse("C0ONCE", "09:00", "UTC", "daily")
    poster = _poster(seeded, slack)

    outcomes = _sweep(poster, schedule, 30)

    assert len(slack.channel_messages["C0ONCE"]) == 1  # Slack has it once
    assert len(slack.calls_to("chat.postMessage")) == 1  # never posted again
    held = [n for n, outcome in enumerate(outcomes) if outcome is Outcome.HELD]
    assert held == [1, 3]  # retried at 09:01, then (backing off) at 09:03
    assert outcomes.count(Outcome.POSTED) == 1 and outcomes.index(Outcome.POSTED) == 7
    row = _row(seeded)
    assert row.status == "posted"
    assert row.message_ts == slack.channel_messages["C0ONCE"][0]["ts"]


def test_while_the_look_fails_the_day_stays_claimable_for_later(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    slack.lose_reply_next("chat.postMessage")
    slack.fail_next("conversations.history", error="internal_error", times=100)
    schedule = DigestSchedule.parse("C0WAIT", "09:00", "UTC", "daily")

    outcomes = _sweep(_poster(seeded, slack), schedule, 60)

    assert Outcome.POSTED not in outcomes
    assert len(slack.calls_to("chat.postMessage")) == 1
    row = _row(seeded)
    assert (row.status, row.error) == ("failed", "history: internal_error")  # retried later
