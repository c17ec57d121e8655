"""Workspace queries: the workspaces the bot is installed in, the rows from before
workspaces adopted into one, and everything of a workspace deleted when it is forgotten."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from db.dialect import insert
from db.models import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    AnswerTrace,
    Channel,
    Conversation,
    ConversationTurn,
    DailyPost,
    Feed,
    Feedback,
    PendingAsk,
    ProcessedEvent,
    Workspace,
)
from db.shelves import disown

# Every model whose rows belong to one workspace, by its team_id. Conversations go last:
# their turns (and the turns' feedback) would cascade, but are deleted by team id anyway.
OWNED_MODELS = (
    Feed,
    Feedback,
    AnswerTrace,
    ConversationTurn,
    Conversation,
    DailyPost,
    PendingAsk,
    ProcessedEvent,
)
# The team id of rows from before workspaces (and of the command line's traces).
UNOWNED = ""


@dataclass(frozen=True)
class WorkspaceRow:
    """One workspace as `doctor` and the scheduler see it."""

    team_id: str
    enterprise_id: str | None
    name: str | None
    installed_at: datetime
    uninstalled_at: datetime | None


def note_installed(
    session: Session, team_id: str, *, enterprise_id: str | None, name: str | None
) -> None:
    """The bot is installed in the workspace (again): it is listed, not uninstalled."""
    statement = insert(session, Workspace).values(
        team_id=team_id, enterprise_id=enterprise_id, name=name, uninstalled_at=None
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id"],
            set_={"enterprise_id": enterprise_id, "name": name, "uninstalled_at": None},
        )
    )


def note_uninstalled(session: Session, team_id: str, now: datetime) -> bool:
    """The workspace removed the bot (or revoked its token): its installation rows go at
    once, its data after the grace period. False when it was not installed."""
    session.execute(delete(SLACK_BOTS).where(SLACK_BOTS.c.team_id == team_id))
    session.execute(delete(SLACK_INSTALLATIONS).where(SLACK_INSTALLATIONS.c.team_id == team_id))
    changed = session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_(None))
        .values(uninstalled_at=now)
    )
    return changed.rowcount == 1


def workspaces(session: Session) -> list[WorkspaceRow]:
    """Every workspace listed, installed first, then by team id."""
    rows = session.scalars(
        select(Workspace).order_by(Workspace.uninstalled_at.is_not(None), Workspace.team_id)
    )
    return [
        WorkspaceRow(r.team_id, r.enterprise_id, r.name, r.installed_at, r.uninstalled_at)
        for r in rows
    ]


def uninstalled_before(session: Session, cutoff: datetime) -> list[str]:
    """The workspaces uninstalled before `cutoff`: their grace period is over."""
    return list(
        session.scalars(
            select(Workspace.team_id).where(
                Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at < cutoff
            )
        )
    )


def teams_with_data(session: Session) -> list[str]:
    """The team ids that own conversations or traces ('' for the command line's and for
    data from before workspaces), sorted."""
    found = set(session.scalars(select(ConversationTurn.team_id).distinct()))
    found |= set(session.scalars(select(AnswerTrace.team_id).distinct()))
    return sorted(found)


def adopt_unowned(session: Session, team_id: str) -> int:
    """Rows from before workspaces become `team_id`'s (a single-workspace install's own
    data); a channel the workspace has settings for already keeps them. How many rows."""
    moved = 0
    for model in OWNED_MODELS:
        unowned = model.team_id == UNOWNED
        if model is AnswerTrace:  # the command line's traces (no thread turn) stay its own
            unowned = unowned & AnswerTrace.turn_id.is_not(None)
        moved += session.execute(update(model).where(unowned).values(team_id=team_id)).rowcount
    theirs = aliased(Channel)
    taken = exists().where(theirs.team_id == team_id, theirs.id == Channel.id)
    moved += session.execute(
        update(Channel).where(Channel.team_id == UNOWNED, ~taken).values(team_id=team_id)
    ).rowcount
    return moved


def forget(session: Session, team_ids: Sequence[str], *, own_libraries: bool = False) -> int:
    """Delete everything of these workspaces: their data, installations and listing, and
    the episodes only they own (a library per workspace). How many rows of data went."""
    if not team_ids:
        return 0
    gone = disown(session, team_ids, delete_episodes=own_libraries)
    for model in (*OWNED_MODELS, Channel):
        gone += session.execute(delete(model).where(model.team_id.in_(team_ids))).rowcount
    session.execute(delete(SLACK_BOTS).where(SLACK_BOTS.c.team_id.in_(team_ids)))
    session.execute(delete(SLACK_INSTALLATIONS).where(SLACK_INSTALLATIONS.c.team_id.in_(team_ids)))
    session.execute(delete(Workspace).where(Workspace.team_id.in_(team_ids)))
    return gone
