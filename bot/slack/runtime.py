"""The running Slack bot, put together: the app with its answerer, the daily-post scheduler
with its Slack publisher, and the transport (HTTP on waitress, or Socket Mode)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from slack_bolt import App

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings, secret
from bot.services import feeds, workspaces
from bot.services.answerers import answerer_from_settings, takeaway_writer_from_settings
from bot.services.daily_posts import DailyPoster, Result, schedules
from bot.services.library import Library, warm_up
from bot.services.scheduler import DigestScheduler
from bot.slack.announcer import SlackAnnouncer
from bot.slack.app import assemble
from bot.slack.in_flight import InFlight
from bot.slack.listeners.asks import keep_recovering, recover
from bot.slack.listeners.deps import Deps
from bot.slack.server import serve
from bot.slack.takeaway_publisher import SlackPublisher

FORGET_EVERY_SECONDS = 3600  # how often uninstalled workspaces' grace periods are checked


def build_app(
    settings: Settings, library: Library, in_flight: InFlight | None = None
) -> tuple[App, Deps]:
    """The Bolt app with the answerer the settings call for, its listeners' deps, and the
    library index built. Raises SlackStartError (one sentence) when Slack refuses the
    token or is unreachable."""
    app, deps = assemble(settings, library, answerer_from_settings(settings), in_flight=in_flight)
    warm_up(library)
    return app, deps


def _daily_poster(settings: Settings, deps: Deps) -> DailyPoster:
    writer = takeaway_writer_from_settings(settings)
    assert deps.clients is not None
    return DailyPoster(deps.library, SlackPublisher(deps.clients), settings, writer=writer)


def start_daily_posts(settings: Settings, deps: Deps) -> DigestScheduler:
    """The takeaway-of-the-day scheduler, started (its first sweep catches up at once):
    the channels of the workspaces the bot is installed in, each posted with its own
    workspace's token; once an hour, the data of workspaces uninstalled longer ago than
    WORKSPACE_GRACE_DAYS deleted; and every FEED_POLL_MINUTES, the subscribed feeds polled
    (by one process at a time), their new episodes announced."""
    library = deps.library
    poster = _daily_poster(settings, deps)
    scheduler = DigestScheduler(
        poster, lambda: schedules(library, settings, teams=workspaces.active_teams(library))
    )
    scheduler.every(
        FORGET_EVERY_SECONDS,
        lambda: workspaces.forget_expired(library, settings.workspace_grace_days),
        "forget-uninstalled",
    )
    assert deps.clients is not None
    announcer = SlackAnnouncer(deps.clients)
    scheduler.every(
        settings.feed_poll_minutes * 60,
        lambda: feeds.poll(library, settings, announcer),
        "poll-feeds",
    )
    scheduler.start()
    return scheduler


def run_http(
    settings: Settings,
    library: Library,
    *,
    host: str,
    port: int,
    on_ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve Slack's requests over HTTP until SIGINT or SIGTERM, posting takeaways
    meanwhile; `on_ready` runs once the app is built, before the server starts."""
    in_flight = InFlight()
    app, deps = build_app(settings, library, in_flight)
    on_ready()
    with _answering(settings, library, app, deps):
        serve(
            app,
            host=host,
            port=port,
            in_flight=in_flight,
            signing_secret=secret(settings.slack_signing_secret),
        )


def run_socket(
    settings: Settings, library: Library, *, on_ready: Callable[[], None] = lambda: None
) -> None:
    """Take Slack's requests over Socket Mode until SIGINT or SIGTERM (no public URL
    needed); `on_ready` runs once the app is built, before connecting."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app, deps = build_app(settings, library)
    on_ready()
    gc.collect()
    gc.freeze()  # as `serve` does: start-up objects out of the collector's way
    # The app's own client, so SLACK_API_URL and the rate-limit retries apply here too.
    handler = SocketModeHandler(
        app, app_token=secret(settings.slack_app_token), web_client=app.client
    )
    with _answering(settings, library, app, deps):
        try:
            handler.start()
        finally:
            handler.close()


@contextmanager
def _answering(settings: Settings, library: Library, app: App, deps: Deps) -> Iterator[None]:
    """Around the transport: SIGTERM stops it as SIGINT does; questions left unanswered by
    an earlier process are answered; takeaways are posted. On the way out no new work is
    taken, answers under way get SHUTDOWN_GRACE_SECONDS to finish, and the rest are left
    in the book for the next process."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    stop = threading.Event()
    recover(deps)  # each ask with its own workspace's client
    keep_recovering(deps, None, stop)
    daily = start_daily_posts(settings, deps)
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        # A second SIGTERM (some supervisors repeat it) must not cut the drain short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        daily.shutdown()
        unfinished = deps.drain(settings.shutdown_grace_seconds)
        signal.signal(signal.SIGTERM, previous)
        if unfinished:
            # Their questions are back in the book: their threads must not post after it.
            logging.shutdown()
            os._exit(0)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a deploy, `docker stop`, systemd) ends the server as Ctrl-C does."""
    raise KeyboardInterrupt


def post_takeaway_now(
    settings: Settings, library: Library, channel: str, *, team: str | None = None
) -> Result:
    """Post the channel's takeaway of the day (in workspace `team`, or the token's) now,
    unless today's went out already. The app only lends its checked client: no question is
    answered, so no Claude answerer and no library index are built for it."""
    _, deps = assemble(settings, library, OfflineAnswerer())
    if team:  # the workspace named (with many workspaces), else the token's own
        deps = deps.for_workspace(team)
    return _daily_poster(settings, deps).post_now(channel, datetime.now(UTC))
