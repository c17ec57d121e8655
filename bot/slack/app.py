"""The Slack app: a Bolt app built from settings, a library and an answerer."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.exc import SQLAlchemyError

from bot.answering import Answerer
from bot.config import Settings, redacted_url, secret
from bot.services import workspaces
from bot.services.asks import AskBook, Recorder
from bot.services.library import Library
from bot.slack import listeners
from bot.slack.client import web_client
from bot.slack.in_flight import InFlight
from bot.slack.listeners.deps import Deps, answer_pool
from bot.slack.oauth import ROTATE_MINUTES_BEFORE, oauth_settings
from bot.slack.workspaces import WorkspaceClients, only_workspace, register_uninstalls

log = logging.getLogger(__name__)


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
    return assemble(settings, library, answerer, in_flight=in_flight, deps=deps)[0]


def assemble(
    settings: Settings,
    library: Library,
    answerer: Answerer,
    *,
    in_flight: InFlight | None = None,
    deps: Deps | None = None,
) -> tuple[App, Deps]:
    """The Bolt app and the deps its listeners were given: for the one workspace of
    SLACK_BOT_TOKEN, or, with the app's client id and secret instead, for every workspace
    that installs it through the OAuth flow. Raises SlackStartError (one sentence)."""
    bolt_logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _SameTokenWarning) for f in bolt_logger.filters):
        bolt_logger.addFilter(_SameTokenWarning())
    try:
        if settings.many_workspaces:
            app, clients, home, store = _many_workspaces(settings, library)
        else:
            app, clients, home, store = _one_workspace(settings, library)
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
    deps = replace(
        deps or build_deps(settings, library, answerer, in_flight=in_flight),
        library=library.of_workspace(home),
        clients=clients,
    )
    listeners.register(app, deps)
    register_uninstalls(app, library, store)
    return app, deps


def _one_workspace(settings: Settings, library: Library) -> tuple[App, WorkspaceClients, str, None]:
    """SLACK_BOT_TOKEN's workspace: requests from any other are refused; data from before
    workspaces is adopted into it."""
    client = web_client(settings)
    # Bolt checks the token now (auth.test) and keeps the answer for every request, so an
    # acknowledgement never waits on Slack; the second auth.test names the workspace.
    app = App(client=client, signing_secret=secret(settings.slack_signing_secret))
    try:
        identity = client.auth_test()
    except SlackApiError:
        raise BoltError("auth.test refused") from None
    team = str(identity.get("team_id") or "")
    enterprise = identity.get("enterprise_id") or None
    if team:
        app.use(only_workspace(team, enterprise))
        try:
            workspaces.adopt_earlier_data(library, team)
            workspaces.installed(
                library,
                team,
                enterprise_id=enterprise,
                name=identity.get("team"),
                with_sample=settings.load_sample_episode,
            )
        except SQLAlchemyError as exc:  # answers still work; the listing waits for next start
            log.warning("could not list workspace %s (%s)", team, type(exc).__name__)
    return app, WorkspaceClients(client, library), team, None


def _many_workspaces(
    settings: Settings, library: Library
) -> tuple[App, WorkspaceClients, str, InstallationStore]:
    """Every workspace that installs the app by OAuth, each request answered with its own
    workspace's installed token (Bolt refreshes a rotated token on the way in). Every Web
    API call, oauth.v2.access and token refreshes included, goes to SLACK_API_URL."""
    client = web_client(settings)
    client_id, client_secret = settings.slack_client_id or "", secret(settings.slack_client_secret)
    store = workspaces.installation_store(library, client_id)
    authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.App"),
        installation_store=store,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE,
        # Keyed by token: a rotated token is looked up anew, an uninstalled workspace is
        # not found at all. Saves an auth.test on every request.
        cache_enabled=True,
        client=client,
    )
    app = App(
        client=client,
        signing_secret=secret(settings.slack_signing_secret),
        oauth_settings=oauth_settings(settings, library, store),
        authorize=authorize,
    )
    rotator = TokenRotator(client_id=client_id, client_secret=client_secret, client=client)
    clients = WorkspaceClients(
        client, library, store=store, rotator=rotator, rotate_minutes_before=ROTATE_MINUTES_BEFORE
    )
    return app, clients, "", store
