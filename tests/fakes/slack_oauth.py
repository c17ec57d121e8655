"""Slack's side of one app's OAuth v2, for the Web API stand-in (tests/fakes/slack_api.py):
the workspaces that can install the app, the one-time codes, and the bot tokens and refresh
tokens it issued, answered in oauth.v2.access's wire format.

`OAuthApp` keeps no lock of its own: `SlackApiStandIn` calls it under its lock."""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

# The installing user, as oauth.v2.access's authed_user names them.
INSTALLER_USER_ID = "U0INSTALL1"
# The bot scopes an install grants, comma-separated as Slack answers them.
BOT_SCOPES = "app_mentions:read,assistant:write,channels:history,chat:write,commands,im:history"

Answer = dict[str, Any]


def _error(error: str) -> Answer:
    return {"ok": False, "error": error}


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The (client_id, client_secret) of an `Authorization: Basic ...` header, or None when
    the header is absent, of another scheme, or malformed."""
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic "), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, client_secret = decoded.partition(":")
    return (client_id, client_secret) if colon else None


@dataclass
class _Workspace:
    """A workspace that can install the app; its bot user stays the same across reinstalls."""

    team_id: str
    team_name: str
    enterprise_id: str | None
    enterprise_name: str | None
    rotating: bool
    expires_in: int
    bot_user_id: str
    bot_id: str

    def team(self) -> dict[str, str]:
        return {"id": self.team_id, "name": self.team_name}

    def enterprise(self) -> dict[str, str] | None:
        if self.enterprise_id is None:
            return None
        return {"id": self.enterprise_id, "name": self.enterprise_name or self.enterprise_id}


@dataclass(frozen=True)
class _Token:
    team_id: str
    expires_at: float | None  # wall-clock seconds, as TokenRotator counts; None never expires


@dataclass
class OAuthApp:
    """The codes and tokens one app issued, by workspace. Tokens are never forgotten, so a
    test can still ask which workspace a revoked or expired token belonged to."""

    _workspaces: dict[str, _Workspace] = field(default_factory=dict)
    _codes: dict[str, str] = field(default_factory=dict)  # unused code -> team_id
    _refresh_tokens: dict[str, str] = field(default_factory=dict)  # unused -> team_id
    _tokens: dict[str, _Token] = field(default_factory=dict)  # every access token issued
    _expired: set[str] = field(default_factory=set)
    _revoked: set[str] = field(default_factory=set)
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_workspace(
        self,
        team_id: str,
        *,
        team_name: str | None,
        enterprise_id: str | None,
        enterprise_name: str | None,
        rotating: bool,
        expires_in: int,
        bot_user_id: str | None,
    ) -> str:
        """Register (or, again, re-register) a workspace and return a fresh code for it."""
        known = self._workspaces.get(team_id)
        bare = team_id.removeprefix("T")
        self._workspaces[team_id] = _Workspace(
            team_id=team_id,
            team_name=team_name or f"Workspace {team_id}",
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
            rotating=rotating,
            expires_in=expires_in,
            # A reinstall keeps the bot user Slack created at the first install.
            bot_user_id=bot_user_id or (known.bot_user_id if known else f"UBOT{bare}"),
            bot_id=known.bot_id if known else f"BBOT{bare}",
        )
        return self.new_code(team_id)

    def new_code(self, team_id: str) -> str:
        """A new one-time code for a registered workspace; earlier unused codes stay valid,
        as each visit to Slack's install page gives its own."""
        assert team_id in self._workspaces, f"add_workspace({team_id!r}) first"
        code = f"{next(self._serial):06d}.{secrets.token_hex(10)}"
        self._codes[code] = team_id
        return code

    def access(
        self,
        params: dict[str, Any],
        basic: tuple[str, str] | None,
        *,
        client_id: str,
        client_secret: str,
        app_id: str,
    ) -> Answer:
        """Slack's answer to oauth.v2.access: the credentials come from HTTP Basic auth
        (what slack_sdk sends) or else from the client_id / client_secret form fields."""
        given_id, given_secret = basic or (params.get("client_id"), params.get("client_secret"))
        if given_id != client_id:
            return _error("invalid_client_id")
        if given_secret != client_secret:
            return _error("bad_client_secret")
        grant = params.get("grant_type") or "authorization_code"
        if grant == "refresh_token":
            return self._refresh(params.get("refresh_token"), app_id)
        if grant != "authorization_code":
            return _error("invalid_grant_type")
        # A code works once: popped now, a second exchange of it is refused.
        team_id = self._codes.pop(str(params.get("code")), None)
        if team_id is None:
            return _error("invalid_code")
        workspace = self._workspaces[team_id]
        granted = self._granted(workspace, app_id, rotating=workspace.rotating)
        return {**granted, "authed_user": {"id": INSTALLER_USER_ID}}

    def _refresh(self, refresh_token: Any, app_id: str) -> Answer:
        # A refresh token works once too; the access token it replaces is left to expire.
        team_id = self._refresh_tokens.pop(str(refresh_token), None)
        if team_id is None:
            return _error("invalid_refresh_token")
        return self._granted(self._workspaces[team_id], app_id, rotating=True)

    def _granted(self, workspace: _Workspace, app_id: str, *, rotating: bool) -> Answer:
        """oauth.v2.access's answer: a new bot token for the workspace, and who it is."""
        return {
            "ok": True,
            "app_id": app_id,
            "scope": BOT_SCOPES,
            "token_type": "bot",
            **self._issue(workspace, rotating=rotating),
            "bot_user_id": workspace.bot_user_id,
            "team": workspace.team(),
            "enterprise": workspace.enterprise(),
            "is_enterprise_install": False,
        }

    def _issue(self, workspace: _Workspace, *, rotating: bool) -> Answer:
        """A new access token (with a refresh token and its lifetime when it rotates)."""
        serial, team_id = next(self._serial), workspace.team_id
        access_token = f"xoxb-{team_id}-{serial}-{secrets.token_hex(12)}"
        if not rotating:
            self._tokens[access_token] = _Token(team_id, None)
            return {"access_token": access_token}
        self._tokens[access_token] = _Token(team_id, time.time() + workspace.expires_in)
        refresh_token = f"xoxe-1-{team_id}-{serial}-{secrets.token_hex(12)}"
        self._refresh_tokens[refresh_token] = team_id
        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": workspace.expires_in,
        }

    def refusal(self, token: str) -> str | None:
        """The error a call with `token` gets instead of its answer, or None if it works."""
        if token in self._revoked:
            return "invalid_auth"
        issued = self._tokens.get(token)
        lapsed = (
            issued is not None
            and issued.expires_at is not None
            and time.time() >= issued.expires_at
        )
        return "token_expired" if lapsed or token in self._expired else None

    def auth_test(self, token: str) -> Answer | None:
        """auth.test's answer for a token this app issued, or None for any other token."""
        issued = self._tokens.get(token)
        if issued is None:
            return None
        workspace = self._workspaces[issued.team_id]
        return {
            "ok": True,
            "url": f"https://{workspace.team_id.lower()}.slack.com/",
            "team": workspace.team_name,
            "user": "episode-bot",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "enterprise_id": workspace.enterprise_id,
            "is_enterprise_install": False,
        }

    def expire(self, token: str) -> None:
        """Expire `token` now, whether this app issued it or not."""
        self._expired.add(token)

    def revoke(self, team_id: str) -> None:
        """Uninstall from `team_id`: its tokens are refused, its refresh tokens and unused
        codes stop working. A new code (a reinstall) issues tokens that work again."""
        assert team_id in self._workspaces, f"no workspace {team_id!r}"
        self._revoked.update(t for t, issued in self._tokens.items() if issued.team_id == team_id)
        for issued_to in (self._refresh_tokens, self._codes):
            for key in [k for k, team in issued_to.items() if team == team_id]:
                del issued_to[key]

    def team_of(self, token: str) -> str | None:
        """The workspace a token was issued to, or None if this app never issued it."""
        issued = self._tokens.get(token)
        return issued.team_id if issued is not None else None
