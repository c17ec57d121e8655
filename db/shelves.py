"""Which episodes a session sees: its shelf. A session opened for one workspace's own
library (LIBRARY_PER_WORKSPACE=true; `Library.of_workspace`) names the workspace in
`session.info`, and every episode lookup, listing and search keeps to the episodes that
workspace owns. Any other session sees the whole library. Kept in the session rather than
passed along, so that no query of an episode can forget it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, exists, func, select, true
from sqlalchemy.orm import Session

from db.dialect import insert
from db.models import Episode, EpisodeOwner

# The session.info key naming the workspace whose library a session reads.
LIBRARY_OF = "library_of"


def library_of(session: Session) -> str | None:
    """The workspace whose own library the session reads; None for the whole library."""
    team = session.info.get(LIBRARY_OF)
    return team if isinstance(team, str) else None


def on_shelf(session: Session) -> ColumnElement[bool]:
    """A condition on `Episode` that keeps to the session's shelf."""
    team = library_of(session)
    if team is None:
        return true()
    owned = select(EpisodeOwner.episode_id).where(EpisodeOwner.team_id == team)
    return Episode.id.in_(owned)


def shelf(session: Session) -> frozenset[int] | None:
    """The ids of the episodes the session sees; None when it sees the whole library."""
    team = library_of(session)
    if team is None:
        return None
    owned = select(EpisodeOwner.episode_id).where(EpisodeOwner.team_id == team)
    return frozenset(session.scalars(owned))


def is_on_shelf(session: Session, episode_id: int) -> bool:
    """Whether the session sees this episode."""
    team = library_of(session)
    if team is None:
        return True
    return session.get(EpisodeOwner, (team, episode_id)) is not None


def owned_counts(session: Session) -> dict[str, int]:
    """How many episodes each workspace owns (those that own any)."""
    rows = session.execute(
        select(EpisodeOwner.team_id, func.count()).group_by(EpisodeOwner.team_id)
    )
    return {team: count for team, count in rows}


def own(session: Session, team: str, episode_id: int) -> None:
    """`team` owns the episode from now on (in the caller's transaction)."""
    statement = insert(session, EpisodeOwner).values(team_id=team, episode_id=episode_id)
    session.execute(statement.on_conflict_do_nothing())


def owned_by_another(session: Session, team: str, episode_id: int) -> bool:
    """Whether a workspace other than `team` owns the episode."""
    others = select(EpisodeOwner).where(
        EpisodeOwner.episode_id == episode_id, EpisodeOwner.team_id != team
    )
    return bool(session.scalar(select(exists(others))))


def adopt_unowned_episodes(session: Session, team: str) -> int:
    """Episodes no workspace owns become `team`'s (a single workspace's library from before
    it had one of its own). How many."""
    ids = list(
        session.scalars(
            select(Episode.id).where(~exists().where(EpisodeOwner.episode_id == Episode.id))
        )
    )
    session.add_all(EpisodeOwner(team_id=team, episode_id=i) for i in ids)
    return len(ids)


def disown(session: Session, team_ids: Sequence[str], *, delete_episodes: bool) -> int:
    """These workspaces own nothing any more; with `delete_episodes` (a library per
    workspace), the episodes only they owned are deleted too, a forgotten workspace's own
    library. (Without it, the library is everyone's: owner rows left from when the setting
    was on must not take episodes every workspace reads.) How many episodes went."""
    if not team_ids:
        return 0
    if not delete_episodes:
        session.execute(delete(EpisodeOwner).where(EpisodeOwner.team_id.in_(team_ids)))
        return 0
    theirs = select(EpisodeOwner.episode_id).where(EpisodeOwner.team_id.in_(team_ids))
    others = exists().where(
        EpisodeOwner.episode_id == Episode.id, EpisodeOwner.team_id.not_in(team_ids)
    )
    only_theirs = list(session.scalars(select(Episode.id).where(Episode.id.in_(theirs), ~others)))
    session.execute(delete(EpisodeOwner).where(EpisodeOwner.team_id.in_(team_ids)))
    if only_theirs:
        session.execute(delete(Episode).where(Episode.id.in_(only_theirs)))
    return len(only_theirs)
