"""Channel queries: the episode a channel's questions are about. A channel's settings are
its workspace's: each is found by (team id, channel id)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import Channel, Episode
from db.shelves import is_on_shelf


def focus_episode(session: Session, team: str, channel_id: str) -> Episode | None:
    """The channel's focus episode, if one was chosen and still exists on the session's
    shelf."""
    channel = session.get(Channel, (team, channel_id))
    if channel is None or channel.focus_episode_id is None:
        return None
    if not is_on_shelf(session, channel.focus_episode_id):
        return None
    return session.get(Episode, channel.focus_episode_id)


def set_focus_episode(session: Session, team: str, channel_id: str, episode: Episode) -> None:
    """Make `episode` the channel's focus (in the caller's transaction)."""
    channel = session.get(Channel, (team, channel_id)) or Channel(team_id=team, id=channel_id)
    channel.focus_episode_id = episode.id
    session.add(channel)


def clear_focus(session: Session, team: str, channel_id: str) -> None:
    """The channel's questions go across the library again (in the caller's transaction)."""
    channel = session.get(Channel, (team, channel_id))
    if channel is not None:
        channel.focus_episode_id = None
