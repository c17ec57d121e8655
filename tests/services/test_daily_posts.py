"""The takeaway of the day with a controlled clock: on time in each zone and across DST,
exactly once through restarts, outages, crashes and Slack faults; 20 days without a repeat,
an ad or a misquote."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.services.daily_posts import DailyPoster, Outcome
from bot.services.library import Library
from bot.slack.client import web_client
from bot.slack.takeaway_publisher import SlackPublisher
from bot.slack.workspaces import WorkspaceClients
from bot.takeaways.schedule import DigestSchedule, ScheduleError
from db.models import DailyPost, Segment, Takeaway
from tests.conftest import REPO
from tests.fakes.slack_api import SlackApiStandIn

TOKEN = "xoxb-digest-test-token"
MINUTE = timedelta(minutes=1)


def _settings(slack: SlackApiStandIn) -> Settings:
    return Settings(slack_bot_token=TOKEN, slack_api_url=slack.url)


def _poster(seeded: sessionmaker[Session], slack: SlackApiStandIn, owner: str) -> DailyPoster:
    settings = _settings(slack)
    return DailyPoster(
        Library(seeded),
        SlackPublisher(WorkspaceClients(web_client(settings))),
        settings,
        owner=owner,
    )


def _posts(slack: SlackApiStandIn, channel: str | None = None) -> list[dict]:
    return [
        c.params
        for c in slack.calls_to("chat.postMessage")
        if channel is None or c.params.get("channel") == channel
    ]


def _run(poster: DailyPoster, schedules: list[DigestSchedule], start: datetime, end: datetime):
    """What the sweep does, minute by minute from `start` to `end`: post what is due."""
    posted: list[tuple[str, datetime]] = []
    now = start
    while now < end:
        for schedule in schedules:
            if poster.post_if_due(schedule, now).outcome is Outcome.POSTED:
                posted.append((schedule.channel, now))
        now += MINUTE
    return posted


def test_posts_at_nine_local_in_two_time_zones(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    berlin = DigestSchedule.parse("C0BERLIN", "09:00", "Europe/Berlin", "mon-fri")
    new_york = DigestSchedule.parse("C0NEWYORK", "09:00", "America/New_York", "mon-fri")
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    posted = _run(
        _poster(seeded, slack, "a"), [berlin, new_york], monday, monday + 24 * 60 * MINUTE
    )
    assert posted == [
        ("C0BERLIN", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        ("C0NEWYORK", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
    ]
    # The cron jobs APScheduler runs fire at those same moments.
    assert berlin.trigger().get_next_fire_time(None, monday) == posted[0][1]
    assert new_york.trigger().get_next_fire_time(None, monday) == posted[1][1]
    saturday = datetime(2026, 12, 5, tzinfo=UTC)
    assert _run(_poster(seeded, slack, "a"), [berlin], saturday, saturday + 24 * 60 * MINUTE) == []


# A clock test of some 1,400 sweeps (15 s on PostgreSQL); the claims on PostgreSQL are
# tested by the others here, and raced by two processes below.
@pytest.mark.sqlite_only
def test_daylight_saving_in_berlin_neither_skips_nor_doubles_a_day(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    morning = DigestSchedule.parse("C0MORNING", "09:00", "Europe/Berlin", "daily")
    night = DigestSchedule.parse("C0NIGHT", "02:30", "Europe/Berlin", "daily")
    poster = _poster(seeded, slack, "a")
    spring = _run(
        poster,
        [morning, night],
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )
    autumn = _run(
        poster,
        [morning, night],
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 27, tzinfo=UTC),
    )
    berlin = ZoneInfo("Europe/Berlin")
    local = [(channel, moment.astimezone(berlin)) for channel, moment in spring + autumn]
    mornings = [f"{t:%m-%d %H:%M}" for channel, t in local if channel == "C0MORNING"]
    assert mornings == [
        "03-28 09:00",
        "03-29 09:00",
        "03-30 09:00",
        "10-24 09:00",
        "10-25 09:00",
        "10-26 09:00",
    ]
    nights = [f"{t:%m-%d %H:%M}" for channel, t in local if channel == "C0NIGHT"]
    # 02:30 does not exist on 29 March: posted at 03:00, the first moment after it. It
    # happens twice on 25 October: posted once.
    assert nights == [
        "03-28 02:30",
        "03-29 03:00",
        "03-30 02:30",
        "10-24 02:30",
        "10-25 02:30",
        "10-26 02:30",
    ]
    fire = morning.trigger().get_next_fire_time(None, datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("restart", ["08:59", "09:00", "09:01"])
def test_a_restart_around_nine_gives_exactly_one_post(
    seeded: sessionmaker[Session], slack: SlackApiStandIn, restart: str
) -> None:
    schedule = DigestSchedule.parse("C0RESTART", "09:00", "UTC", "daily")
    day = datetime(2026, 12, 1, tzinfo=UTC)
    hour, minute = map(int, restart.split(":"))
    down_at = day + timedelta(hours=hour, minutes=minute)
    first = _run(_poster(seeded, slack, "before"), [schedule], day + 8 * 60 * MINUTE, down_at)
    # The new process sweeps at once on start (the catch-up), then every minute.
    second = _run(_poster(seeded, slack, "after"), [schedule], down_at, day + 12 * 60 * MINUTE)
    assert len(first + second) == 1 and len(_posts(slack)) == 1
    assert (
        (first + second)[0][1] == max(down_at, day + 9 * 60 * MINUTE)
        if restart != "09:01"
        else True
    )


def test_down_over_nine_and_back_at_eleven_gives_one_catch_up_post(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    schedule = DigestSchedule.parse("C0CATCHUP", "09:00", "UTC", "daily")
    day = datetime(2026, 12, 1, tzinfo=UTC)
    posted = _run(
        _poster(seeded, slack, "b"), [schedule], day + 11 * 60 * MINUTE, day + 23 * 60 * MINUTE
    )
    assert posted == [("C0CATCHUP", day + 11 * 60 * MINUTE)]


def test_a_claim_left_by_a_crash_is_retaken_after_the_lease(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    from db.digest import claim_day

    nine = datetime(2026, 12, 1, 9, 0)
    with seeded.begin() as session:  # a process claimed 09:00 and died before posting
        assert claim_day(session, "", "C0CRASH", nine.date(), owner="dead", now=nine) is not None
    schedule = DigestSchedule.parse("C0CRASH", "09:00", "UTC", "daily")
    start = nine.replace(tzinfo=UTC)
    posted = _run(_poster(seeded, slack, "alive"), [schedule], start, start + 30 * MINUTE)
    assert posted == [("C0CRASH", start + 10 * MINUTE)]


def test_a_429_on_post_still_gives_exactly_one_post(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    schedule = DigestSchedule.parse("C0LIMITED", "09:00", "UTC", "daily")
    nine = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    posted = _run(_poster(seeded, slack, "a"), [schedule], nine, nine + 5 * MINUTE)
    assert posted == [("C0LIMITED", nine)]
    assert len(slack.calls_to("chat.postMessage")) == 2  # the 429, then the post
    with seeded() as session:
        [row] = session.scalars(select(DailyPost)).all()
        assert row.status == "posted" and row.message_ts


def test_a_slack_error_then_success_gives_one_post_of_the_same_takeaway(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    slack.fail_next("chat.postMessage", error="internal_error")
    schedule = DigestSchedule.parse("C0FLAKY", "09:00", "UTC", "daily")
    nine = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    posted = _run(_poster(seeded, slack, "a"), [schedule], nine, nine + 10 * MINUTE)
    assert posted == [("C0FLAKY", nine + MINUTE)]  # retried on the next sweep
    failed, ok = slack.calls_to("chat.postMessage")
    assert failed.params["text"] == ok.params["text"]
    with seeded() as session:
        [row] = session.scalars(select(DailyPost)).all()
        assert row.status == "posted" and row.attempts == 2


def _turn_text(session: Session, segment_id: int) -> tuple[str, str]:
    segment = session.get(Segment, segment_id)
    assert segment is not None
    parts = session.scalars(
        select(Segment.text).where(
            Segment.episode_id == segment.episode_id, Segment.position == segment.position
        )
    )
    return " ".join(parts), segment.kind


def test_twenty_days_bring_twenty_takeaways_none_an_ad_each_quote_verbatim(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    schedule = DigestSchedule.parse("C0TWENTY", "09:00", "UTC", "daily")
    poster = _poster(seeded, slack, "a")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for day in range(20):
        assert poster.post_if_due(schedule, start + timedelta(days=day)).outcome is Outcome.POSTED
    with seeded() as session:
        rows = session.scalars(select(DailyPost).order_by(DailyPost.local_date)).all()
        takeaways = [session.get(Takeaway, row.takeaway_id) for row in rows]
        assert len({t.id for t in takeaways if t}) == 20
        for takeaway in takeaways:
            assert takeaway is not None and takeaway.segment_id and takeaway.quote
            text, kind = _turn_text(session, takeaway.segment_id)
            assert kind == "content"
            assert takeaway.quote in text
        assert len({t.quote for t in takeaways if t}) == 20
    rendered = [json.dumps(post["blocks"], ensure_ascii=False) for post in _posts(slack)]
    assert all("Takeaway of the day" in r and "turn " in r and "Not for us" in r for r in rendered)


def test_bad_time_zone_and_days_get_one_sentence() -> None:
    for at, zone, days in [
        ("25:00", "UTC", "daily"),
        ("09:00", "Mars/Olympus", "daily"),
        ("09:00", "UTC", "someday"),
    ]:
        with pytest.raises(ScheduleError) as caught:
            DigestSchedule.parse("C1", at, zone, days)
        message = str(caught.value)
        assert message.count(".") <= 2 and "\n" not in message


def test_two_bot_processes_due_at_once_post_once_per_channel_per_day(
    seeded: sessionmaker[Session], slack: SlackApiStandIn, database_url: str
) -> None:
    channels, days = ["C0ONE", "C0TWO"], 5
    start = time.time() + 3.0  # both processes have started by then
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.services.daily_post_worker",
                database_url,
                slack.url,
                str(start),
                str(days),
                *channels,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    reports = [worker.communicate(timeout=60) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in reports]
    attempts = [json.loads(line) for out, _ in reports for line in out.splitlines()]
    assert len(attempts) == 2 * len(channels) * days
    for day in range(days):
        for channel in channels:
            outcomes = sorted(
                a["outcome"] for a in attempts if a["day"] == day and a["channel"] == channel
            )
            assert outcomes == sorted([Outcome.POSTED.value, Outcome.ALREADY.value])
    posted = Counter(p["channel"] for p in _posts(slack))
    assert posted == {channel: days for channel in channels}
    with seeded() as session:
        rows = session.scalars(select(DailyPost)).all()
        assert len(rows) == len(channels) * days and {r.status for r in rows} == {"posted"}


def test_with_a_key_claude_writes_the_takeaways_once_and_bad_ones_are_dropped(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    from bot.answering.claude.client import build_client
    from bot.takeaways.picking import next_takeaway
    from bot.takeaways.written import TakeawayWriter
    from tests.fakes.anthropic_api import AnthropicStandIn

    claude = AnthropicStandIn(api_key="sk-ant-api03-takeaway-key").start()
    try:
        writer = TakeawayWriter(
            build_client("sk-ant-api03-takeaway-key", claude.url), "claude-sonnet-5-5"
        )
        first = next_takeaway(seeded, "", "C0WRITTEN", writer=writer)
        next_takeaway(seeded, "", "C0OTHER", writer=writer)
        assert len(claude.requests_to("/v1/messages")) == 1  # once per episode, then stored
    finally:
        claude.stop()
    assert first is not None
    with seeded() as session:
        written = session.scalars(select(Takeaway).where(Takeaway.origin == "generated")).all()
        assert len(written) >= 20
        for takeaway in written:
            assert takeaway.segment_id is not None and takeaway.quote
            text, kind = _turn_text(session, takeaway.segment_id)
            assert kind == "content" and takeaway.quote in text
        assert "A sentence that appears nowhere" not in {t.quote for t in written}


def test_when_claude_cannot_write_takeaways_the_heuristic_does(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    from bot.answering.claude.client import build_client
    from bot.takeaways.picking import next_takeaway
    from bot.takeaways.written import TakeawayWriter
    from tests.fakes.anthropic_api import AnthropicStandIn

    claude = AnthropicStandIn(api_key="sk-ant-api03-takeaway-key").start()
    claude.fail_next("500", times=5)
    try:
        writer = TakeawayWriter(
            build_client("sk-ant-api03-takeaway-key", claude.url), "claude-sonnet-5-5"
        )
        assert next_takeaway(seeded, "", "C0FALLBACK", writer=writer) is not None
    finally:
        claude.stop()
    with seeded() as session:
        origins = {t.origin for t in session.scalars(select(Takeaway))}
        assert origins == {"summary", "extracted"}


def _post_days(
    sessions: sessionmaker[Session], poster: DailyPoster, channel: str, days: int
) -> list[int]:
    schedule = DigestSchedule.parse(channel, "09:00", "UTC", "daily")
    start = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    for day in range(days):
        assert poster.post_if_due(schedule, start + timedelta(days=day)).outcome is Outcome.POSTED
    with sessions() as session:
        rows = session.scalars(
            select(DailyPost).where(DailyPost.channel == channel).order_by(DailyPost.local_date)
        )
        return [row.takeaway_id for row in rows if row.takeaway_id is not None]


def test_when_an_episode_is_used_up_the_next_one_follows_or_it_starts_over(
    seeded: sessionmaker[Session], slack: SlackApiStandIn, tmp_path: Path
) -> None:
    from bot.ingest.pipeline import ingest_file
    from bot.takeaways.picking import ensure_takeaways

    lines = []
    for n in range(8):
        lines.append(f"Host Person: What did you learn about topic number {n} this year?")
        lines.append(
            f"Guest Expert: I think the biggest lesson about topic {n} is that small teams "
            f"should ship every week and measure what people actually do with the product."
        )
    second = tmp_path / "second-episode.txt"
    second.write_text("\n".join(lines) + "\n")
    assert ingest_file(seeded, second, fmt="plain").status == "ingested"
    with seeded() as session:
        first_id = session.scalars(select(Takeaway.episode_id)).first()
    assert first_id is not None
    ensure_takeaways(seeded, first_id)
    with seeded() as session:
        seed_count = len(
            session.scalars(select(Takeaway).where(Takeaway.episode_id == first_id)).all()
        )
    from db.channels import set_focus_episode
    from db.models import Episode

    for channel in ("C0NEXT", "C0RESTART"):
        with seeded.begin() as session:
            episode = session.get(Episode, first_id)
            assert episode is not None
            set_focus_episode(session, "", channel, episode)
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url, digest_when_done="next")
    poster = DailyPoster(
        Library(seeded), SlackPublisher(WorkspaceClients(web_client(settings))), settings
    )
    nexts = _post_days(seeded, poster, "C0NEXT", seed_count + 1)
    restart = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url, digest_when_done="restart")
    poster = DailyPoster(
        Library(seeded), SlackPublisher(WorkspaceClients(web_client(restart))), restart
    )
    again = _post_days(seeded, poster, "C0RESTART", seed_count + 1)
    with seeded() as session:
        episode_of = {t.id: t.episode_id for t in session.scalars(select(Takeaway))}
    assert len(set(nexts[:seed_count])) == seed_count
    assert {episode_of[t] for t in nexts[:seed_count]} == {first_id}
    assert episode_of[nexts[-1]] != first_id  # the next episode
    assert again[-1] == again[0]  # started over, from the top


def test_a_post_whose_reply_was_lost_is_found_not_posted_again(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    slack.lose_reply_next("chat.postMessage")
    schedule = DigestSchedule.parse("C0LOST", "09:00", "UTC", "daily")
    nine = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    _run(_poster(seeded, slack, "a"), [schedule], nine, nine + 10 * MINUTE)
    assert len(slack.channel_messages["C0LOST"]) == 1  # Slack has it once
    assert len(slack.calls_to("chat.postMessage")) == 1  # never resent
    with seeded() as session:
        [row] = session.scalars(select(DailyPost)).all()
        assert (
            row.status == "posted" and row.message_ts == slack.channel_messages["C0LOST"][0]["ts"]
        )


def test_a_channel_the_bot_is_not_in_is_skipped_for_the_day_not_retried_all_day(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel", times=100)
    schedule = DigestSchedule.parse("C0NOTIN", "09:00", "UTC", "daily")
    nine = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert _run(_poster(seeded, slack, "a"), [schedule], nine, nine + 15 * 60 * MINUTE) == []
    assert len(slack.calls_to("chat.postMessage")) == 1
    with seeded() as session:
        [row] = session.scalars(select(DailyPost)).all()
        assert row.status == "skipped" and row.error == "not_in_channel"


def test_a_setting_made_after_todays_time_starts_tomorrow(
    seeded: sessionmaker[Session], slack: SlackApiStandIn
) -> None:
    made = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    schedule = DigestSchedule.parse("C0LATE", "09:30", "UTC", "daily", since=made)
    posted = _run(_poster(seeded, slack, "a"), [schedule], made, made + 24 * 60 * MINUTE)
    assert posted == [("C0LATE", datetime(2026, 12, 2, 9, 30, tzinfo=UTC))]
