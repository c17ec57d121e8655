"""The Slack app: a Bolt app built from settings, a library and an answerer."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError

from bot.answering import Answerer
from bot.config import Settings, redacted_url, secret
from bot.services.asks import AskBook, Recorder
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


# How long writing a question down may wait for the acknowledgements under way: the
# moment it is acknowledged, give or take this.
SETTLE_SECONDS = 0.2


def build_deps(
    settings: Settings,
    library: Library,
    answerer: Answerer,
    *,
    in_flight: InFlight | None = None,
) -> Deps:
    """What the listeners share: the library, the answerer and its pool, the book of asks.
    Answers wait for the requests counted by `in_flight` (the HTTP server's) to be acked."""
    book, in_flight = AskBook(library), in_flight or InFlight()
    return Deps(
        library,
        answerer,
        answer_pool(answerer),
        in_flight=in_flight,
        settings=settings,
        asks=book,
        recorder=Recorder(book, settle=lambda: in_flight.wait_until_quiet(SETTLE_SECONDS)),
    )


def create_app(
    settings: Settings,
    library: Library,
    answerer: Answerer,
    *,
    in_flight: InFlight | None = None,
    deps: Deps | None = None,
) -> App:
    """A Bolt app whose Web API client honours SLACK_API_URL and waits out rate limits,
    its listeners given `deps` (built from the rest when not given)."""
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
            f"Cannot reach Slack at {redacted_url(settings.slack_api_url)}: check the network "
            "or SLACK_API_URL."
        ) from None
    deps = deps or build_deps(settings, library, answerer, in_flight=in_flight)
    listeners.register(app, deps)
    return app
