"""The workspaces service on the real database: forgetting a workspace deletes everything its
people left (answers, ratings, settings, takeaways of the day, questions owed, the
installation) and nothing of anyone else's; the grace period after an uninstall is kept;
and a single-workspace install's data from before workspaces becomes its workspace's."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services import channels, workspaces
from bot.services.asking import ask
from bot.services.asks import AskBook, NewAsk
from bot.services.daily_posts import DailyPoster, Outcome, set_schedule
from bot.services.feedback import Clicked, ClickPlace, recent_stats, record_click
from bot.services.library import Library
from bot.services.threads import answer_in_thread, is_bot_thread, thread_posted
from bot.takeaways.picking import Pick
from db import models as m
from db.workspaces import note_uninstalled
from tests.conftest import SEED_SLUG

CLIENT_ID = "1111.2222"
ROOT_TS = "1700000000.000001"
DAY = date(2026, 12, 1)
NINE = datetime(2026, 12, 1, 9, 0)
# Every table whose rows belong to a workspace, the listing and slack_sdk's two included.
MODELS = (
    m.Conversation,
    m.ConversationTurn,
    m.Feedback,
    m.AnswerTrace,
    m.DailyPost,
    m.PendingAsk,
    m.ProcessedEvent,
    m.Channel,
)
STORES = (m.Workspace.__table__, m.SLACK_INSTALLATIONS, m.SLACK_BOTS)


class _Slack:
    """The takeaway's Slack end (a Publisher): every post goes out."""

    def publish(self, team: str, channel: str, pick: Pick, *, post_id: int, turn_id: int) -> str:
        return f"1700000001.{post_id:06d}"

    def find_posted(self, team: str, channel: str, post_id: int) -> str | None:
        return None


def _leave_data(library: Library, team: str) -> None:
    """What a workspace's people leave: an answered thread, rated; a channel's focus; a
    takeaway of the day posted; a question owed; an event handled."""
    theirs = library.of_workspace(team)
    reply = answer_in_thread(
        theirs,
        OfflineAnswerer(),
        channel="C1",
        question="Who is Boris?",
        user_id="U1",
        thread_ts=None,
    )
    thread_posted(theirs, reply.conversation_id, ROOT_TS)
    clicked = record_click(
        theirs, reply.reply_id, "U2", helpful=True, where=ClickPlace("C1", ROOT_TS)
    )
    assert clicked is Clicked.STORED
    assert channels.use_episode(theirs, "C1", SEED_SLUG) is not None
    set_schedule(theirs, "C2", at="09:00", zone="UTC", days="daily")
    assert DailyPoster(theirs, _Slack(), Settings()).post_for("C2", DAY, NINE).outcome is (
        Outcome.POSTED
    )
    owed = NewAsk(
        "command:" + (team or "-"), "command", "C1", "U1", None, "What next?", team_id=team
    )
    assert AskBook(library).record([owed])[0] is not None
    with library.sessions.begin() as session:
        session.add(m.ProcessedEvent(event_id=f"Ev{team or '-'}", team_id=team))


def _install(library: Library, team: str) -> None:
    installation = Installation(
        app_id="A0STANDIN",
        team_id=team,
        bot_token=f"xoxb-{team}-stored-token",
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        user_id="U0INSTALL1",
    )
    workspaces.installation_store(library, CLIENT_ID).save(installation)
    workspaces.installed(library, team, name=f"Team {team}")


def _rows(library: Library, team: str) -> dict[str, int]:
    """How many rows of each table belong to `team`."""
    tables = (*(model.__table__ for model in MODELS), *STORES)
    with library.sessions() as session:
        return {
            table.name: session.scalar(
                select(func.count()).select_from(table).where(table.c.team_id == team)
            )
            or 0
            for table in tables
        }


def test_forgetting_a_workspace_deletes_all_of_its_rows_and_nothing_else(library: Library) -> None:
    """`workspace forget A`: nothing of A's is left anywhere; B and the command line keep
    every row; the episodes themselves stay."""
    a, b = "T0FORGETA", "T0FORGETB"
    for team in (a, b):
        _leave_data(library, team)
        _install(library, team)
    ask(library, "What is cursorbench?", OfflineAnswerer())  # the command line's trace
    theirs, others, cli = _rows(library, a), _rows(library, b), _rows(library, "")
    assert all(theirs.values()), theirs  # A has a row in every table

    forgotten = workspaces.forget_workspace(library, a)

    assert forgotten.was_listed and forgotten.team_id == a
    assert forgotten.rows == sum(theirs[model.__tablename__] for model in MODELS)
    assert set(_rows(library, a).values()) == {0}
    assert _rows(library, b) == others and _rows(library, "") == cli
    assert [w.team_id for w in workspaces.listed(library)] == [b]
    assert channels.focus_of(library.of_workspace(b), "C1") == SEED_SLUG
    with library.sessions() as session:
        assert session.scalar(select(func.count()).select_from(m.Episode)) == 1


def test_only_workspaces_uninstalled_before_the_grace_period_are_forgotten(
    library: Library,
) -> None:
    """Thirty days' grace: a workspace uninstalled 31 days ago loses its data, one
    uninstalled 29 days ago (it may reinstall) and one still installed keep theirs."""
    now = datetime(2026, 12, 31, 12, 0)
    old, recent, live = "T0EXPIRED", "T0GRACING", "T0INSTALL"
    for team in (old, recent, live):
        _leave_data(library, team)
        _install(library, team)
    with library.sessions.begin() as session:
        assert note_uninstalled(session, old, now - timedelta(days=31))
        assert note_uninstalled(session, recent, now - timedelta(days=29))
    kept = {team: _rows(library, team) for team in (recent, live)}

    assert workspaces.forget_expired(library, 30, now=now) == [old]

    assert set(_rows(library, old).values()) == {0}
    assert {team: _rows(library, team) for team in (recent, live)} == kept
    listed = {w.team_id: w.uninstalled_at for w in workspaces.listed(library)}
    assert listed == {recent: now - timedelta(days=29), live: None}
    assert workspaces.active_teams(library) == {live}
    assert workspaces.forget_expired(library, 30, now=now) == []  # nothing more to do


def test_data_from_before_workspaces_becomes_the_single_workspace_s(library: Library) -> None:
    """After the upgrade, a single-token install finds its own threads, ratings, takeaway
    days and owed questions again; the command line's traces stay its own, and a channel
    the workspace has set up since keeps its new settings."""
    home = "T0ADOPTER"
    _leave_data(library, "")
    ask(library, "What is cursorbench?", OfflineAnswerer())  # the command line's trace
    mine = library.of_workspace(home)
    set_schedule(mine, "C1", at="10:00", zone="Europe/Berlin", days="mon-fri")
    before = _rows(library, "")

    moved = workspaces.adopt_earlier_data(library, home)

    assert moved == sum(before[model.__tablename__] for model in MODELS) - 2
    left = {name: count for name, count in _rows(library, "").items() if count}
    assert left == {"answer_traces": 1, "channels": 1}  # the CLI's trace, the older C1
    with library.sessions() as session:
        cli_trace = session.scalars(select(m.AnswerTrace).where(m.AnswerTrace.team_id == "")).one()
        assert cli_trace.turn_id is None
    assert is_bot_thread(mine, "C1", ROOT_TS)
    assert channels.focus_of(mine, "C1") is None  # its own settings, not the old focus
    with library.sessions() as session:
        c1 = session.get(m.Channel, (home, "C1"))
        assert c1 is not None and (c1.digest_time, c1.digest_timezone) == ("10:00", "Europe/Berlin")
        assert session.get(m.Channel, (home, "C2")) is not None  # C2 came along
    [(_, stats)] = recent_stats(mine, (7,))
    assert (stats.rated, stats.helpful) == (1, 1)
    # The day's takeaway, posted before the upgrade, is not posted a second time.
    assert DailyPoster(mine, _Slack(), Settings()).post_for("C2", DAY, NINE).outcome is (
        Outcome.ALREADY
    )
    assert [a.team_id for a in AskBook(library).left_over(older_than=timedelta(0))] == [home]
    assert workspaces.adopt_earlier_data(library, home) == 0  # once is all
