"""New episodes of subscribed feeds announced in Slack, through each workspace's own client
(its token, refreshed when rotated, and SLACK_API_URL)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.answering.offline import OfflineAnswerer
from bot.config import Settings, slack_problem
from bot.services.feeds import Announcement, AnnouncementRefused
from bot.services.library import Library
from bot.slack import blocks
from bot.slack.client import without_blind_resends
from bot.slack.takeaway_publisher import FINAL_ERRORS
from bot.slack.workspaces import WorkspaceClients

# What `feed list` says of an announcement Slack will never take.
REFUSALS = {
    "not_in_channel": "the bot is not in the channel (invite it with /invite @episode-bot)",
    "channel_not_found": "the channel is gone, or private without the bot in it",
    "is_archived": "the channel is archived",
}


class AnnounceFailed(Exception):
    """The announcement did not go out; Slack's error code or the network error's name."""


class SlackAnnouncer:
    """Posts announcements (an Announcer, for the feed poller)."""

    def __init__(self, clients: WorkspaceClients) -> None:
        self._clients = clients

    def announce(self, team: str, channel: str, announcement: Announcement) -> str:
        """Post it in `channel` of `team`; the message's ts. Raises AnnounceFailed."""
        client = self._clients.for_team(team)
        if client is None:
            raise AnnouncementRefused("the bot is not installed in that workspace any more")
        try:
            posted = without_blind_resends(client).chat_postMessage(
                channel=channel, **blocks.announcement_message(announcement)
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "slack_error")
            if error in FINAL_ERRORS:
                raise AnnouncementRefused(REFUSALS.get(error, error)) from None
            raise AnnounceFailed(error) from None
        except OSError as exc:
            raise AnnounceFailed(type(exc).__name__) from None
        return str(posted["ts"])


def announcer_from_settings(settings: Settings, library: Library) -> SlackAnnouncer | None:
    """The announcer of the Slack app these settings describe; None when Slack is not set
    up (the episodes are loaded, and announced by `serve` once it is)."""
    if slack_problem(settings, socket_mode=False) is not None:
        return None
    from bot.slack.app import assemble  # the Bolt app only when Slack is set up

    _, deps = assemble(settings, library, OfflineAnswerer())
    return SlackAnnouncer(deps.clients)
