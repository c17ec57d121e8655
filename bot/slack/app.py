"""The Slack app: a Bolt app built from settings, a library and an answerer."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from sqlalchemy.orm import Session, sessionmaker

from bot.answering import Answerer
from bot.config import Settings, secret
from bot.slack.in_flight import InFlight
from bot.slack.listeners import Deps, actions, answer_pool, commands, threads

log = logging.getLogger(__name__)
RATE_LIMIT_RETRIES = 3
# 0.5 s, 1 s, 2 s ... 32 s: about a minute of Slack outage before the asker is told.
OUTAGE_RETRIES, OUTAGE_BACKOFF_SECONDS = 7, 0.5


class _SameTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that it goes unused
    when a client is given too; here the client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class SlackStartError(Exception):
    """The app cannot start (Slack refused the token, or cannot be reached): one sentence."""


def web_client(settings: Settings) -> WebClient:
    """The Slack Web API client: SLACK_API_URL, the bot token, 429s waited out, and an
    outage (no connection, 5xx) ridden out for about a minute with slack_sdk's handlers."""
    outage = BackoffRetryIntervalCalculator(backoff_factor=OUTAGE_BACKOFF_SECONDS)
    return WebClient(
        token=secret(settings.slack_bot_token),
        base_url=settings.slack_api_url,
        retry_handlers=[
            # On a 429 it sleeps for Retry-After, then sends again.
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ConnectionErrorRetryHandler(max_retry_count=OUTAGE_RETRIES, interval_calculator=outage),
            ServerErrorRetryHandler(max_retry_count=OUTAGE_RETRIES, interval_calculator=outage),
        ],
    )


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    answerer: Answerer,
    *,
    in_flight: InFlight | None = None,
) -> App:
    """A Bolt app whose Web API client honours SLACK_API_URL and waits out rate limits.
    Answers wait for the requests counted by `in_flight` (the HTTP server's) to be acked."""
    client = web_client(settings)
    bolt_logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _SameTokenWarning) for f in bolt_logger.filters):
        bolt_logger.addFilter(_SameTokenWarning())
    try:
        app = App(client=client, signing_secret=secret(settings.slack_signing_secret))
    except BoltError:
        raise SlackStartError(
            "Slack refused SLACK_BOT_TOKEN: copy the Bot User OAuth Token again from the app's "
            "OAuth & Permissions page."
        ) from None
    except OSError:
        raise SlackStartError(
            f"Cannot reach Slack at {settings.slack_api_url}: check the network or SLACK_API_URL."
        ) from None
    deps = Deps(
        session_factory,
        answerer,
        answer_pool(answerer),
        in_flight=in_flight or InFlight(),
        settings=settings,
    )
    for listeners in (commands, threads, actions):
        listeners.register(app, deps)
    return app
