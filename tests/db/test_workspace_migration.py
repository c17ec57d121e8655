"""Upgrading to workspaces (0015) loses nothing a bot stored before: a library at 0014 with a
channel's settings, an answered and rated thread, a takeaway of the day and a question still
owed comes out with all of it, as the workspace from before installations (team id ''),
the owed question's asker's team kept as its recipient; and the way back down and up again
keeps it all too. On SQLite and on PostgreSQL, through the real migrations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import sessionmaker

from bot.config import Settings
from bot.ingest.pipeline import ingest_file
from bot.services import channels
from bot.services.asks import AskBook
from bot.services.daily_posts import DailyPoster, Outcome, schedules
from bot.services.feedback import recent_stats
from bot.services.library import Library
from bot.services.threads import is_bot_thread
from bot.takeaways.picking import Pick
from bot.takeaways.schedule import DigestSchedule
from db.engine import alembic_config, create_engine_for, include_object, migrate
from db.models import Base
from tests.conftest import SEED, SEED_SLUG

BEFORE = "0014"
ROOT_TS = "1700000000.000100"
ASKER_TEAM = "T0ASKERS1"
DAY, DAY_NINE = date(2026, 12, 1), datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class _NoPosting:
    """A Publisher no post may reach."""

    def publish(self, team: str, channel: str, pick: Pick, *, post_id: int, turn_id: int) -> str:
        raise AssertionError(f"posted again in {channel}")

    def find_posted(self, team: str, channel: str, post_id: int) -> str | None:
        raise AssertionError(f"looked for a post in {channel}")


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database with nothing in it yet, on this test's backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'before-workspaces.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _alembic(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def _insert(engine: Engine, sql: str, **values: object) -> int:
    with engine.begin() as connection:
        return int(connection.execute(text(f"{sql} RETURNING id"), values).scalar_one())


def _store_a_0014_library(engine: Engine) -> None:
    """What a bot at 0014 had stored: the seed episode, C0OLD's focus and takeaway-of-the-day
    setting, a thread answered and rated, today's takeaway posted, an ask still owed."""
    assert ingest_file(sessionmaker(engine), SEED).status == "ingested"
    with engine.begin() as connection:
        episode = connection.execute(text("SELECT id FROM episodes")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO channels (id, focus_episode_id, digest_enabled, digest_time, "
                "digest_timezone, digest_days) VALUES ('C0OLD', :e, :on, '09:30', "
                "'Europe/Berlin', 'mon-fri')"
            ),
            {"e": episode, "on": True},
        )
    thread = _insert(
        engine,
        "INSERT INTO conversations (channel, thread_ts, episode_id) VALUES ('C0OLD', :ts, :e)",
        ts=ROOT_TS,
        e=episode,
    )
    turn = "INSERT INTO conversation_turns (conversation_id, role, user_id, text, cited_positions)"
    _insert(engine, f"{turn} VALUES (:c, 'user', 'U0ASKER', 'Who is Boris?', '[]')", c=thread)
    answer = _insert(engine, f"{turn} VALUES (:c, 'assistant', NULL, 'Boris...', '[23]')", c=thread)
    _insert(
        engine,
        "INSERT INTO feedback (turn_id, user_id, helpful) VALUES (:t, 'U0RATER', :yes)",
        t=answer,
        yes=True,
    )
    _insert(
        engine,
        "INSERT INTO daily_posts (channel, local_date, status, claimed_by, claimed_at, attempts, "
        "message_ts) VALUES ('C0OLD', '2026-12-01', 'posted', 'old-bot', '2026-12-01 08:30:00', "
        "1, '1700000000.000200')",
    )
    _insert(
        engine,
        "INSERT INTO pending_asks (dedup_key, kind, channel, user_id, question, response_url, "
        "team_id) VALUES ('event:Ev0OLD', 'event', 'C0OLD', 'U0ASKER', 'And then?', NULL, :team)",
        team=ASKER_TEAM,
    )


def _settings_days_and_asks(engine: Engine, *, at_head: bool) -> None:
    """C0OLD's settings, its posted day and the owed ask are there; at head as the ''
    workspace's, as the bot's services read them."""
    with engine.connect() as connection:
        posted = connection.execute(text("SELECT status, message_ts FROM daily_posts")).one()
        assert tuple(posted) == ("posted", "1700000000.000200")
        if not at_head:  # 0014's shape: the asker's team in team_id, a channel by its id
            asked = connection.execute(text("SELECT team_id, question FROM pending_asks")).one()
            assert tuple(asked) == (ASKER_TEAM, "And then?")
            focus = connection.execute(text("SELECT id, digest_time FROM channels")).one()
            assert tuple(focus) == ("C0OLD", "09:30")
            return
        for table in ("channels", "daily_posts", "pending_asks"):
            teams = connection.execute(text(f"SELECT team_id FROM {table}")).scalars().all()
            assert teams == [""], (table, teams)
    library = Library(sessionmaker(engine, expire_on_commit=False))
    assert channels.focus_of(library, "C0OLD") == SEED_SLUG
    [digest] = schedules(library, Settings())
    weekdays = DigestSchedule.parse("C0OLD", "09:30", "Europe/Berlin", "mon-fri")
    assert (digest.team, digest.channel, digest.describe()) == ("", "C0OLD", weekdays.describe())
    [owed] = AskBook(library).left_over(older_than=timedelta(0))
    assert (owed.team_id, owed.recipient_team_id, owed.question) == ("", ASKER_TEAM, "And then?")
    again = DailyPoster(library, _NoPosting(), Settings()).post_for("C0OLD", DAY, DAY_NINE)
    assert again.outcome is Outcome.ALREADY  # posted before the upgrade: not posted twice


def _threads(engine: Engine, *, at_head: bool) -> None:
    """The answered thread (its question and answer) and the answer's rating are there; at
    head as the '' workspace's: its replies are follow-ups, its rating counts."""
    with engine.connect() as connection:
        for table, rows in (("conversations", 1), ("conversation_turns", 2), ("feedback", 1)):
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            assert count == rows, (table, count)
            if at_head:
                teams = connection.execute(text(f"SELECT DISTINCT team_id FROM {table}"))
                assert teams.scalars().all() == [""], table
    if at_head:
        library = Library(sessionmaker(engine, expire_on_commit=False))
        assert is_bot_thread(library, "C0OLD", ROOT_TS)
        [(_, stats)] = recent_stats(library, (7,))
        assert (stats.answers, stats.rated, stats.helpful) == (1, 1, 1)


def _no_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def _round_trip(empty_url: str, check: Callable[..., None]) -> Engine:
    """0014 with its data -> head (as the bot migrates at start) -> 0014 -> head, `check`ed
    at each step."""
    engine = create_engine_for(empty_url)
    _alembic(engine, command.upgrade, BEFORE)
    _store_a_0014_library(engine)
    check(engine, at_head=False)
    assert migrate(engine) is True
    check(engine, at_head=True)
    _alembic(engine, command.downgrade, BEFORE)
    with engine.connect() as connection:
        schema = inspect(connection)
        assert "recipient_team_id" not in {c["name"] for c in schema.get_columns("pending_asks")}
        assert not schema.has_table("workspaces")
    check(engine, at_head=False)
    assert migrate(engine) is True
    check(engine, at_head=True)
    return engine


def test_channel_settings_takeaway_days_and_owed_questions_survive_the_upgrade_and_back(
    empty_url: str,
) -> None:
    """After the upgrade a channel still asks about its episode and gets its takeaway at
    09:30 Berlin time, today's is not posted again, and the owed answer still comes (naming
    its asker's team); downgrading and upgrading again keeps all that, at the models'
    schema."""
    engine = _round_trip(empty_url, _settings_days_and_asks)
    _no_drift(engine)
    engine.dispose()


def test_answered_threads_and_their_ratings_survive_the_upgrade_and_back(
    empty_url: str,
) -> None:
    """After the upgrade a reply in an old answer's thread is still a follow-up, and
    `/episode stats` still counts the old rating (SQLite's table copies once cascaded the
    turns and their ratings away)."""
    _round_trip(empty_url, _threads).dispose()
