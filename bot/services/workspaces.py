"""The workspaces the bot serves: installed (by OAuth, or the one of SLACK_BOT_TOKEN),
uninstalled (their daily posts stop at once, their data goes after the grace period), and
forgotten (every row of theirs deleted)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.ingest.pipeline import ingest_file
from bot.services.library import Library, episode_count, sample_episode_path
from db.shelves import adopt_unowned_episodes
from db.slack_stores import installation_store as db_installation_store
from db.slack_stores import oauth_state_store as db_oauth_state_store
from db.workspaces import (
    WorkspaceRow,
    adopt_unowned,
    forget,
    note_installed,
    note_uninstalled,
    teams_with_data,
    uninstalled_before,
    workspaces,
)

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored times are naive UTC


def installed(
    library: Library,
    team_id: str,
    *,
    enterprise_id: str | None = None,
    name: str | None = None,
    with_sample: bool = False,
) -> None:
    """The bot is installed in the workspace (or reinstalled, within the grace period).
    With a library per workspace and `with_sample`, a workspace whose library is empty is
    given the sample episode, as an empty shared library is."""
    with library.sessions.begin() as session:
        note_installed(session, team_id, enterprise_id=enterprise_id, name=name)
    if library.per_workspace and with_sample:
        own_library = library.of_workspace(team_id)
        if not episode_count(own_library):
            result = ingest_file(own_library.sessions, sample_episode_path())
            if result.failed:
                log.warning("could not give workspace %s the sample: %s", team_id, result.message)


def adopt_earlier_data(library: Library, team_id: str) -> int:
    """A single-workspace install's data from before workspaces becomes its token's
    workspace's (with a library per workspace, the episodes no workspace owns too); how many
    rows (logged when any)."""
    with library.sessions.begin() as session:
        moved = adopt_unowned(session, team_id)
        if library.per_workspace:
            moved += adopt_unowned_episodes(session, team_id)
    if moved:
        log.warning("%d rows from before workspaces are now workspace %s's", moved, team_id)
    return moved


def uninstalled(library: Library, team_id: str) -> bool:
    """The workspace removed the bot or revoked its token: its installation goes now, its
    daily posts stop, its data waits out the grace period. False when it was not installed."""
    with library.sessions.begin() as session:
        return note_uninstalled(session, team_id, _now())


def listed(library: Library) -> list[WorkspaceRow]:
    """Every workspace the bot knows, installed ones first."""
    with library.sessions() as session:
        return workspaces(session)


def active_teams(library: Library) -> set[str]:
    """The team ids of the workspaces the bot is installed in now."""
    return {row.team_id for row in listed(library) if row.uninstalled_at is None}


def teams_with_data_in(library: Library) -> list[str]:
    """The team ids that own answers or traces ('' for the command line's)."""
    with library.sessions() as session:
        return teams_with_data(session)


@dataclass(frozen=True)
class Forgotten:
    """What `forget_workspace` deleted."""

    team_id: str
    rows: int
    was_listed: bool


def forget_workspace(library: Library, team_id: str) -> Forgotten:
    """Delete everything of one workspace at once: data, installation, listing."""
    with library.sessions.begin() as session:
        was_listed = any(row.team_id == team_id for row in workspaces(session))
        rows = forget(session, [team_id], own_libraries=library.per_workspace)
    return Forgotten(team_id, rows, was_listed)


def forget_expired(library: Library, grace_days: int, now: datetime | None = None) -> list[str]:
    """Delete the data of workspaces uninstalled more than `grace_days` ago; their ids."""
    cutoff = (now or _now()) - timedelta(days=grace_days)
    with library.sessions.begin() as session:
        teams = uninstalled_before(session, cutoff)
        rows = forget(session, teams, own_libraries=library.per_workspace)
    if teams:
        log.warning(
            "deleted the data of %d workspaces uninstalled over %d days ago (%s): %d rows",
            len(teams),
            grace_days,
            ", ".join(teams),
            rows,
        )
    return teams


def installation_store(library: Library, client_id: str) -> SQLAlchemyInstallationStore:
    """slack_sdk's installation store on the library's database."""
    return db_installation_store(library.sessions, client_id)


def oauth_state_store(library: Library, expiration_seconds: int) -> SQLAlchemyOAuthStateStore:
    """slack_sdk's OAuth state store on the library's database."""
    return db_oauth_state_store(library.sessions, expiration_seconds)


def enterprise_of(library: Library, team_id: str) -> str | None:
    """The Enterprise Grid org a listed workspace belongs to, if any."""
    return next((r.enterprise_id for r in listed(library) if r.team_id == team_id), None)
