"""Slack's OAuth install flow, by Bolt: `GET /slack/install` (the Add to Slack page, which
sets the state cookie) and `GET /slack/oauth_redirect` (the code traded for tokens with
`oauth.v2.access`, the installation stored through slack_sdk's SQLAlchemy store in the bot's
own database). Whatever goes wrong, the installer gets one plain page saying what to do, and
nothing is stored."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, secret
from bot.services import workspaces
from bot.services.library import Library

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# What the bot asks each workspace for: the scopes of manifest.yml.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "assistant:write",
)
STATE_SECONDS = 600  # an install page's state is good for ten minutes, once
# A rotated token is refreshed when it has less than this long to live.
ROTATE_MINUTES_BEFORE = 120

AGAIN = f'<a href="{INSTALL_PATH}">Start the installation again</a>.'
# Why an installation failed, by Bolt's reason (or Slack's `error`), as the installer reads it.
FAILURES = {
    "invalid_browser": "This page was opened in another browser than the one that began the "
    "installation, or its cookie has expired.",
    "invalid_state": "This installation link has expired or was used already.",
    "missing_code": "Slack sent no authorization code.",
    "invalid_code": "Slack did not accept the authorization code (it expires after ten "
    "minutes and works once).",
    "storage_error": "The installation could not be saved: the bot's database is unavailable. "
    "Try again in a minute.",
    "access_denied": "The installation was cancelled in Slack.",
}


def page(status: int, title: str, sentence: str) -> BoltResponse:
    """A plain HTML page: a title and one or two sentences."""
    body = (
        "<!DOCTYPE html><html><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{sentence}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html"})


def _succeeded(library: Library, *, with_sample: bool) -> Callable[[SuccessArgs], BoltResponse]:
    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team = installation.team_id or installation.enterprise_id or ""
        try:
            workspaces.installed(
                library,
                team,
                enterprise_id=installation.enterprise_id,
                name=installation.team_name or installation.enterprise_name,
                with_sample=with_sample,
            )
        except SQLAlchemyError as exc:
            log.error("installed in %s, but could not list it (%s)", team, type(exc).__name__)
        log.warning("installed in workspace %s", team)
        name = html.escape(installation.team_name or team)
        return page(
            200,
            "episode-bot is installed",
            f"episode-bot is installed in {name}. Invite it to a channel with "
            "<code>/invite @episode-bot</code> and ask <code>/episode ask …</code>.",
        )

    return success


def _failed(args: FailureArgs) -> BoltResponse:
    reason = args.reason or "error"
    log.warning("an installation failed: %s", reason)
    said = FAILURES.get(reason) or f"Slack stopped the installation ({html.escape(reason)})."
    status = 200 if reason == "access_denied" else args.suggested_status_code
    return page(
        status, "episode-bot was not installed", f"{html.escape(said)} Nothing was stored. {AGAIN}"
    )


def oauth_settings(settings: Settings, library: Library, store: InstallationStore) -> OAuthSettings:
    """Bolt's OAuth settings: the app's credentials, the scopes, the stores on the bot's
    database, token rotation, and this module's pages."""
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret(settings.slack_client_secret),
        scopes=list(BOT_SCOPES),
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=settings.slack_authorize_url,
        installation_store=store,
        state_store=workspaces.oauth_state_store(library, STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE,
        callback_options=CallbackOptions(
            success=_succeeded(library, with_sample=settings.load_sample_episode), failure=_failed
        ),
    )
