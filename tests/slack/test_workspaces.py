"""Workspaces as their people notice them, through the real Bolt app (requests signed as Slack
signs them), the real slack_sdk clients against the Slack stand-in and the real database:
a single-token bot answers nobody outside its workspace, each OAuth-installed workspace is
answered with its own token and its own data only, an uninstalled workspace gets no more
posts or answers, and a rotating token is refreshed before a takeaway of the day goes out."""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import select

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings
from bot.services import channels, workspaces
from bot.services.daily_posts import DailyPoster, Outcome, schedules, set_schedule
from bot.services.library import Library
from bot.services.threads import is_bot_thread
from bot.slack import blocks
from bot.slack.app import assemble
from bot.slack.client import web_client
from bot.slack.listeners.deps import Deps
from bot.slack.takeaway_publisher import SlackPublisher
from bot.slack.workspaces import WorkspaceClients
from bot.takeaways.schedule import DigestSchedule
from db import models as m
from tests.conftest import SEED_SLUG
from tests.fakes.signed_requests import JSON, signed_bolt_request, wait_for
from tests.fakes.slack_api import TEAM_ID, SlackApiStandIn

SECRET = "workspacestestsecret0123456789ab"
HOME_TOKEN = "xoxb-workspaces-home-token"
INTRUDER = "T0INTRUDER"
SERIAL = itertools.count(1)
NINE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- requests as Slack sends them


def _command(slack: SlackApiStandIn, team: str, channel: str, text: str) -> str:
    form = {"command": "/episode", "text": text, "channel_id": channel, "user_id": "U0ASKER"}
    trigger = f"{next(SERIAL)}.1.2"
    return urlencode(
        {**form, "team_id": team, "trigger_id": trigger, "response_url": slack.response_url}
    )


def _event(team: str | None, event: dict[str, Any]) -> str:
    body = {"type": "event_callback", "event_id": f"Ev{next(SERIAL):08d}", "event": event}
    return json.dumps(
        {**body, "event_time": int(time.time()), **({"team_id": team} if team else {})}
    )


def _said(kind: str, channel: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    """An app_mention or a channel message event; `thread_ts` makes it a reply."""
    ts = f"1700001000.{next(SERIAL):06d}"
    said = {"type": kind, "user": "U0ASKER", "text": text, "channel": channel, "ts": ts}
    if kind == "message":
        said["channel_type"] = "channel"
    return {**said, "event_ts": ts, **({"thread_ts": thread_ts} if thread_ts else {})}


def _click(slack: SlackApiStandIn, team: str | None, channel: str, ts: str, turn: int) -> str:
    """A Helpful click on the feedback buttons of the message `ts`."""
    action = {"action_id": blocks.FEEDBACK_ACTION, "block_id": "b1", "type": "feedback_buttons"}
    action["value"] = f"{blocks.HELPFUL_VALUE}:{turn}"
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0CLICKER"},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "message": {"type": "message", "ts": ts},
        "response_url": slack.response_url,
        "trigger_id": f"{next(SERIAL)}.9.9",
        "actions": [action],
    }
    if team is not None:
        payload["team"] = {"id": team}
    return urlencode({"payload": json.dumps(payload)})


def _dispatch(app: App, body: str, *, json_body: bool = False) -> int:
    kind = {"content_type": JSON} if json_body else {}
    return app.dispatch(signed_bolt_request(body, SECRET, **kind)).status


# ---------------------------------------------------------------- what Slack and the store saw


def _posts(slack: SlackApiStandIn, channel: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


def _replies(slack: SlackApiStandIn) -> list[str]:
    return [str(c.params.get("text")) for c in slack.calls_to("response_url")]


def _answer_button(slack: SlackApiStandIn, channel: str) -> tuple[str, int]:
    """The ts of the channel's latest message, and the answer id its feedback button names."""
    message = slack.messages_in(channel)[-1]
    found = re.search(rf"{blocks.HELPFUL_VALUE}:(\d+)", json.dumps(message["blocks"]))
    assert found is not None, message
    return str(message["ts"]), int(found.group(1))


def _asks(library: Library) -> list[tuple[str, str]]:
    with library.sessions() as session:
        return [(a.team_id, a.channel) for a in session.scalars(select(m.PendingAsk))]


def _asked_and_answered(app: App, slack: SlackApiStandIn, team: str, channel: str) -> None:
    before = len(_posts(slack, channel))
    assert _dispatch(app, _command(slack, team, channel, "ask Who is Boris?")) == 200
    assert wait_for(lambda: len(_posts(slack, channel)) > before)


def _warned(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return [line for line in lines if all(word in line for word in words)]


def _stop(deps: Deps) -> None:
    if deps.recorder is not None:
        deps.recorder.close()
    deps.answer_pool.shutdown(wait=True)


def _feedback(library: Library) -> list[tuple[str, int]]:
    with library.sessions() as session:
        return [(f.team_id, f.turn_id) for f in session.scalars(select(m.Feedback))]


# ---------------------------------------------------------------- one workspace, by its token


@pytest.fixture
def single(library: Library, slack: SlackApiStandIn) -> Iterator[App]:
    """The bot of SLACK_BOT_TOKEN, whose auth.test answers workspace TEAM_ID."""
    settings = Settings(
        slack_bot_token=HOME_TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.url
    )
    app, deps = assemble(settings, library, OfflineAnswerer())
    yield app
    _stop(deps)


def test_a_single_token_bot_refuses_asks_mentions_and_clicks_from_another_workspace(
    single: App, slack: SlackApiStandIn, library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone of another workspace (an app-level token leak, a forged team) gets nothing:
    no answer from this workspace's library, no rating of its answers, nothing stored."""
    _asked_and_answered(single, slack, TEAM_ID, "C0HOME01")
    ts, turn = _answer_button(slack, "C0HOME01")
    replies = len(_replies(slack))
    ask = _command(slack, INTRUDER, "C0HOME01", "ask Who is Boris?")
    assert _dispatch(single, ask) == 401
    mention = _event(INTRUDER, _said("app_mention", "C0HOME01", "<@UBOT00001> Boris?"))
    assert _dispatch(single, mention, json_body=True) == 401
    assert _dispatch(single, _click(slack, INTRUDER, "C0HOME01", ts, turn)) == 401
    assert len(_warned(caplog, INTRUDER, TEAM_ID)) == 3

    # The home workspace is still served: a mention naming no team, then a click of its own.
    no_team = _said("app_mention", "C0HOME01", "<@UBOT00001> What is cursorbench?")
    assert _dispatch(single, _event(None, no_team), json_body=True) == 200
    assert wait_for(lambda: len(_posts(slack, "C0HOME01")) == 2)
    assert _posts(slack, "C0HOME01")[1].params.get("thread_ts") == no_team["ts"]
    assert _dispatch(single, _click(slack, TEAM_ID, "C0HOME01", ts, turn)) == 200
    assert wait_for(lambda: len(_replies(slack)) > replies)
    assert _replies(slack)[replies:] == [blocks.FEEDBACK_THANKS[True]]  # none to the intruder
    assert sorted(_asks(library)) == [(TEAM_ID, "C0HOME01")] * 2
    assert _feedback(library) == [(TEAM_ID, turn)]


def test_use_from_another_workspace_does_not_change_the_channel_s_focus(
    single: App, slack: SlackApiStandIn, library: Library
) -> None:
    """`/episode use` typed in another workspace changes no channel's focus, the home
    workspace's included; typed at home, it does."""
    home = library.of_workspace(TEAM_ID)
    assert _dispatch(single, _command(slack, TEAM_ID, "C0HOME02", f"use {SEED_SLUG}")) == 200
    assert wait_for(lambda: channels.focus_of(home, "C0HOME02") == SEED_SLUG)
    for text, channel in (("use all", "C0HOME02"), (f"use {SEED_SLUG}", "C0HOME03")):
        assert _dispatch(single, _command(slack, INTRUDER, channel, text)) == 401
    assert channels.focus_of(home, "C0HOME02") == SEED_SLUG
    with library.sessions() as session:
        stored = [(c.team_id, c.id) for c in session.scalars(select(m.Channel))]
    assert stored == [(TEAM_ID, "C0HOME02")]
    assert _dispatch(single, _command(slack, TEAM_ID, "C0HOME02", "use all")) == 200
    assert wait_for(lambda: channels.focus_of(home, "C0HOME02") is None)
    assert wait_for(lambda: len(_replies(slack)) == 2)  # the home user's two; none to the other


# ---------------------------------------------------------------- many workspaces, by OAuth


def _many_settings(slack: SlackApiStandIn) -> Settings:
    """The app's client id and secret, no bot token: every installed workspace its own."""
    return Settings(
        slack_client_id=slack.client_id,
        slack_client_secret=slack.client_secret,
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
    )


def _install(
    library: Library, slack: SlackApiStandIn, team: str, **options: Any
) -> tuple[Installation, SQLAlchemyInstallationStore]:
    """Install the app in `team` as Bolt does after the OAuth redirect: the code traded with
    oauth.v2.access, the installation saved, the workspace listed."""
    client = web_client(_many_settings(slack))
    code = slack.add_workspace(team, team_name=f"Team {team}", **options)
    got = client.oauth_v2_access(
        client_id=slack.client_id, client_secret=slack.client_secret, code=code
    )
    installation = Installation(
        app_id=got["app_id"],
        team_id=got["team"]["id"],
        team_name=got["team"]["name"],
        bot_token=got["access_token"],
        bot_id=client.auth_test(token=got["access_token"])["bot_id"],
        bot_user_id=got["bot_user_id"],
        bot_scopes=got["scope"],
        bot_refresh_token=got.get("refresh_token"),
        bot_token_expires_in=got.get("expires_in"),
        user_id=got["authed_user"]["id"],
        is_enterprise_install=False,
        token_type="bot",
    )
    store = workspaces.installation_store(library, slack.client_id)
    store.save(installation)
    workspaces.installed(library, team, name=installation.team_name)
    return installation, store


@pytest.fixture
def many(library: Library, slack: SlackApiStandIn) -> Iterator[App]:
    """The bot of the app's client id and secret: every installed workspace its own."""
    app, deps = assemble(_many_settings(slack), library, OfflineAnswerer())
    yield app
    _stop(deps)


def test_each_workspace_is_answered_with_its_own_token(
    many: App, slack: SlackApiStandIn, library: Library
) -> None:
    """Two workspaces asking: each answer is posted by that workspace's own bot token."""
    for team in ("T0OWNTOKA", "T0OWNTOKB"):
        _install(library, slack, team)
    for team in ("T0OWNTOKA", "T0OWNTOKB"):
        _asked_and_answered(many, slack, team, f"C{team}")
    for team in ("T0OWNTOKA", "T0OWNTOKB"):
        assert [slack.team_of_token(c.token or "") for c in _posts(slack, f"C{team}")] == [team]
    assert sorted(_asks(library)) == [("T0OWNTOKA", "CT0OWNTOKA"), ("T0OWNTOKB", "CT0OWNTOKB")]


def test_a_click_or_a_reply_from_another_workspace_on_an_answer_is_refused(
    many: App, slack: SlackApiStandIn, library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    """B can neither rate A's answer nor get a follow-up from A's thread; A can both."""
    a, b = "T0CROSSA1", "T0CROSSB1"
    for team in (a, b):
        _install(library, slack, team)
    _asked_and_answered(many, slack, a, "C0CROSSA")
    ts, turn = _answer_button(slack, "C0CROSSA")
    assert wait_for(lambda: is_bot_thread(library.of_workspace(a), "C0CROSSA", ts))
    assert _dispatch(many, _click(slack, b, "C0CROSSA", ts, turn)) == 200
    assert wait_for(lambda: _replies(slack) == [blocks.FEEDBACK_REFUSED])
    reply = _said("message", "C0CROSSA", "What did he build?", thread_ts=ts)
    assert _dispatch(many, _event(b, reply), json_body=True) == 200
    assert _warned(caplog, "feedback click", b)
    refused = f"refused a reply from workspace {b} in a thread of workspace {a}"
    assert wait_for(lambda: bool(_warned(caplog, refused)))  # the listener runs after the ack

    # A's own follow-up is answered in the thread, and A's own click is stored.
    reply = _said("message", "C0CROSSA", "What did he build?", thread_ts=ts)
    assert _dispatch(many, _event(a, reply), json_body=True) == 200
    assert wait_for(lambda: len(_posts(slack, "C0CROSSA")) == 2)
    follow_up = _posts(slack, "C0CROSSA")[1]
    assert follow_up.params.get("thread_ts") == ts and slack.team_of_token(follow_up.token) == a
    assert _asks(library) == [(a, "C0CROSSA")] * 2  # nothing of B's was taken
    assert _dispatch(many, _click(slack, a, "C0CROSSA", ts, turn)) == 200
    assert wait_for(lambda: len(_replies(slack)) == 2)
    assert _feedback(library) == [(a, turn)]


def test_stats_count_only_the_workspace_s_own_answers(
    many: App, slack: SlackApiStandIn, library: Library
) -> None:
    """`/episode stats` in B shows B's answers and ratings, not A's."""
    a, b = "T0STATSA1", "T0STATSB1"
    for team in (a, b):
        _install(library, slack, team)
    _asked_and_answered(many, slack, a, "C0STATSA")
    _asked_and_answered(many, slack, a, "C0STATSA")
    _asked_and_answered(many, slack, b, "C0STATSB")
    ts, turn = _answer_button(slack, "C0STATSA")
    assert _dispatch(many, _click(slack, a, "C0STATSA", ts, turn)) == 200
    assert wait_for(lambda: len(_replies(slack)) == 1)
    for team, channel in ((a, "C0STATSA"), (b, "C0STATSB")):
        assert _dispatch(many, _command(slack, team, channel, "stats")) == 200
    assert wait_for(lambda: len(_replies(slack)) == 3)
    by_a, by_b = sorted(_replies(slack)[1:], key=lambda text: "none rated" in text)
    assert "Last 7 days: 2 answers, helpful: 100% of 1 rated." in by_a
    assert "Last 7 days: 1 answers, helpful: none rated." in by_b


def _installed_rows(library: Library, team: str) -> int:
    with library.sessions() as session:
        return sum(
            len(session.execute(select(t).where(t.c.team_id == team)).all())
            for t in (m.SLACK_INSTALLATIONS, m.SLACK_BOTS)
        )


@pytest.mark.parametrize(
    "gone",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTGONEB"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
def test_an_uninstalled_workspace_gets_no_more_posts_or_answers(
    many: App, slack: SlackApiStandIn, library: Library, gone: dict[str, Any]
) -> None:
    """B removes the app (or revokes its bot token): B's installation goes, its takeaway of
    the day stops, its questions go unanswered; A is served as before."""
    a, b = "T0GONEA01", "T0GONEB01"
    for team in (a, b):
        _install(library, slack, team)
        set_schedule(library.of_workspace(team), f"C{team}", at="09:00", zone="UTC", days="daily")
    settings = _many_settings(slack)
    listed = {(s.team, s.channel) for s in schedules(library, settings, teams={a, b})}
    assert listed == {(a, f"C{a}"), (b, f"C{b}")}

    gone_event = _event(b, {**gone, "event_ts": "1700000000.000001"})
    assert _dispatch(many, gone_event, json_body=True) == 200
    # The listener runs after the ack; marking the workspace uninstalled is its last step.
    assert wait_for(lambda: workspaces.active_teams(library) == {a})
    assert (_installed_rows(library, a), _installed_rows(library, b)) == (2, 0)
    with library.sessions() as session:
        uninstalled = {w.team_id: w.uninstalled_at for w in session.scalars(select(m.Workspace))}
    assert uninstalled[a] is None and uninstalled[b] is not None
    active = workspaces.active_teams(library)
    assert [(s.team, s.channel) for s in schedules(library, settings, teams=active)] == [
        (a, f"C{a}")
    ]

    _dispatch(many, _command(slack, b, f"C{b}", "ask Who is Boris?"))
    _asked_and_answered(many, slack, a, f"C{a}")  # and by then B's would have been taken
    assert _posts(slack, f"C{b}") == []
    assert _asks(library) == [(a, f"C{a}")]
    [told] = _replies(slack)  # Bolt's own answer: the installation is gone
    assert "reinstall" in told


def test_a_revoked_user_token_alone_uninstalls_nothing(
    many: App, slack: SlackApiStandIn, library: Library
) -> None:
    """tokens_revoked naming only user tokens leaves the bot installed and answering."""
    _install(library, slack, "T0USERTOK")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE"], "bot": []}}
    assert _dispatch(many, _event("T0USERTOK", revoked), json_body=True) == 200
    _asked_and_answered(many, slack, "T0USERTOK", "C0USERTOK")
    assert workspaces.active_teams(library) == {"T0USERTOK"}


# ---------------------------------------------------------------- token rotation, outside requests


def _poster(
    library: Library, slack: SlackApiStandIn, store: SQLAlchemyInstallationStore
) -> DailyPoster:
    """The takeaway poster as the many-workspace bot builds it (see app._many_workspaces)."""
    settings = _many_settings(slack)
    base: WebClient = web_client(settings)
    rotator = TokenRotator(
        client_id=slack.client_id, client_secret=slack.client_secret, client=base
    )
    clients = WorkspaceClients(base, library, store=store, rotator=rotator)
    return DailyPoster(library, SlackPublisher(clients), settings, owner="rotation-test")


def _refreshes(slack: SlackApiStandIn) -> int:
    calls = slack.calls_to("oauth.v2.access")
    return len([c for c in calls if c.params.get("grant_type") == "refresh_token"])


def _day(library: Library, team: str) -> m.DailyPost:
    with library.sessions() as session:
        return session.scalars(select(m.DailyPost).where(m.DailyPost.team_id == team)).one()


def test_a_token_about_to_expire_is_refreshed_and_stored_before_the_takeaway_is_posted(
    library: Library, slack: SlackApiStandIn
) -> None:
    """The takeaway goes out with a fresh token, which the bot keeps for next time."""
    old, store = _install(library, slack, "T0ROTATE1", rotating=True, expires_in=60)
    schedule = DigestSchedule.parse("C0ROTATE1", "09:00", "UTC", "daily", team="T0ROTATE1")
    assert _poster(library, slack, store).post_if_due(schedule, NINE).outcome is Outcome.POSTED
    assert _refreshes(slack) == 1
    stored = store.find_installation(enterprise_id=None, team_id="T0ROTATE1")
    assert stored is not None and stored.bot_token not in (None, old.bot_token)
    assert slack.team_of_token(stored.bot_token) == "T0ROTATE1"
    assert slack.tokens_used("chat.postMessage") == [stored.bot_token]


def _revoked_post(library: Library, slack: SlackApiStandIn, team: str) -> Outcome:
    _, store = _install(library, slack, team, rotating=True, expires_in=60)
    slack.revoke_workspace(team)  # its refresh token is refused from now on
    schedule = DigestSchedule.parse(f"C{team}", "09:00", "UTC", "daily", team=team)
    return _poster(library, slack, store).post_if_due(schedule, NINE).outcome


def test_a_refused_refresh_posts_nothing_and_gives_the_day_up(
    library: Library, slack: SlackApiStandIn
) -> None:
    """The workspace revoked the app: nothing is posted (with the old token or any), nothing
    crashes, and since the refresh will be refused all day the day is given up at once (not
    retried every few minutes), keeping no thread of a post that never went out."""
    assert _revoked_post(library, slack, "T0ROTATE2") is Outcome.FAILED
    assert _refreshes(slack) == 1
    assert slack.calls_to("chat.postMessage") == []
    day = _day(library, "T0ROTATE2")
    assert (day.status, day.error) == ("skipped", "not_installed")
    with library.sessions() as session:
        kept = session.scalars(select(m.Conversation).where(m.Conversation.team_id == "T0ROTATE2"))
        assert kept.all() == []
