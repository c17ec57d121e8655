"""Which workspace a request is from, and what the bot does for each: requests from a
workspace it does not serve are refused; work done outside any request (an answer taken
over after a restart, a daily post) gets that workspace's own client, its rotated token
refreshed and stored first; an uninstall or a revoked token stops the workspace's posts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.exc import SQLAlchemyError

from bot.services import workspaces
from bot.services.library import Library
from bot.slack.client import with_token

log = logging.getLogger(__name__)

REFUSED = "This request is from a workspace this bot does not serve."


def team_of(context: BoltContext) -> str:
    """The workspace a request is from: its team, or its Enterprise Grid org when it names
    no team; '' when it names neither."""
    return context.team_id or context.enterprise_id or ""


def only_workspace(team_id: str, enterprise_id: str | None) -> Callable[..., Any]:
    """Middleware for a single-workspace install: requests from any team but the token's
    own (or its Enterprise Grid org's) are refused and logged, never answered with this
    workspace's data or allowed to change its settings."""

    def guard(context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
        team, org = context.team_id, context.enterprise_id
        if team in (None, team_id) or (enterprise_id is not None and org == enterprise_id):
            next()
            return None
        log.warning(
            "refused a request from workspace %s (org %s): this bot serves workspace %s only",
            team,
            org or "-",
            team_id,
        )
        return BoltResponse(status=401, body=REFUSED)

    return guard


class WorkspaceClients:
    """A Web API client for one workspace's work outside a request: the single token's
    client, or one with the workspace's installed bot token (refreshed first when it is
    rotated and about to expire, and the refreshed installation stored)."""

    def __init__(
        self,
        base: WebClient,
        library: Library | None = None,
        *,
        store: InstallationStore | None = None,
        rotator: TokenRotator | None = None,
        rotate_minutes_before: int = 120,
    ) -> None:
        self._base = base
        self._library = library
        self._store = store
        self._rotator = rotator
        self._minutes = rotate_minutes_before
        # One refresh at a time: a refresh token works once.
        self._rotating = threading.Lock()

    def for_team(self, team_id: str) -> WebClient | None:
        """The client for `team_id`'s work, or None when the bot is not installed there (or
        its token could not be refreshed: logged)."""
        if self._store is None:  # a single workspace's token, whichever team was asked for
            return self._base
        try:
            token = self._token_of(team_id)
        except (SlackClientError, OSError, SQLAlchemyError) as exc:  # a refresh refused, too
            log.error("no token for workspace %s: %s", team_id, _why(exc))
            return None
        return with_token(self._base, token) if token else None

    def _token_of(self, team_id: str) -> str | None:
        assert self._store is not None and self._library is not None
        enterprise = workspaces.enterprise_of(self._library, team_id)
        with self._rotating:
            installation = self._store.find_installation(enterprise_id=enterprise, team_id=team_id)
            if installation is None:
                return None
            if self._rotator is not None and installation.bot_refresh_token:
                refreshed = self._rotator.perform_token_rotation(
                    installation=installation, minutes_before_expiration=self._minutes
                )
                if refreshed is not None:
                    self._store.save(refreshed)
                    log.info("refreshed the bot token of workspace %s", team_id)
                    installation = refreshed
            return installation.bot_token


def _why(exc: Exception) -> str:
    """Slack's error code for a refused call or refresh, else the exception's name."""
    if isinstance(exc, SlackTokenRotationError):
        exc = exc.api_error
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "refused")
    return type(exc).__name__


def register_uninstalls(app: App, library: Library, store: InstallationStore | None) -> None:
    """`app_uninstalled` and `tokens_revoked` (of the bot's token): the workspace's
    installation is removed and its daily posts stop; its data is deleted after the grace
    period (or by `episode-bot workspace forget`)."""

    def gone(context: BoltContext, why: str) -> None:
        team = team_of(context)
        try:
            if store is not None:
                store.delete_all(enterprise_id=context.enterprise_id, team_id=context.team_id)
            workspaces.uninstalled(library, team)
        except SQLAlchemyError as exc:
            log.error("could not note workspace %s gone (%s)", team, type(exc).__name__)
            return
        log.warning("workspace %s %s: its daily posts stop", team, why)

    def on_uninstalled(context: BoltContext) -> None:
        gone(context, "uninstalled the bot")

    def on_revoked(event: dict[str, Any], context: BoltContext) -> None:
        tokens = event.get("tokens")
        bots = tokens.get("bot") if isinstance(tokens, dict) else None
        if bots:  # the bot's own token: the workspace is as good as uninstalled
            gone(context, "revoked the bot's token")

    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_revoked)
