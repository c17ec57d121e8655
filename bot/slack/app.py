"""The Slack app: a Bolt app built from settings, a library and an answerer."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError

from bot.answering import Answerer
from bot.config import Settings, secret
from bot.services.library import Library
from bot.slack import listeners
from bot.slack.client import web_client
from bot.slack.in_flight import InFlight
from bot.slack.listeners.deps import Deps, answer_pool


class _SameTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that it goes unused
    when a client is given too; here the client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class SlackStartError(Exception):
    """The app cannot start (Slack refused the token, or cannot be reached): one sentence."""


def create_app(
    settings: Settings,
    library: Library,
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
        library,
        answerer,
        answer_pool(answerer),
        in_flight=in_flight or InFlight(),
        settings=settings,
    )
    listeners.register(app, deps)
    return app
