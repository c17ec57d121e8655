"""The takeaway of the day into Slack: the post (with metadata naming its day's row, so a
retry can find a post whose reply was lost), and the look for an earlier attempt's post."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.daily_posts import PublishFailed
from bot.slack import blocks
from bot.slack.client import without_blind_resends
from bot.slack.workspaces import WorkspaceClients
from bot.takeaways.picking import Pick

METADATA_TYPE = "episode_bot_takeaway"
HISTORY_LOOKBACK = 200  # messages searched for an earlier attempt's post
# Slack errors a retry the same day would meet again: the day is skipped, logged once.
FINAL_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
    }
)


def _failure(exc: SlackApiError | OSError) -> PublishFailed:
    """Slack's error code (or the network error's name), final for FINAL_ERRORS."""
    error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
    reason = str(error or type(exc).__name__)
    return PublishFailed(reason, final=reason in FINAL_ERRORS)


class SlackPublisher:
    """Posts takeaways through each workspace's Web API client (its token, refreshed when
    rotated, and SLACK_API_URL)."""

    def __init__(self, clients: WorkspaceClients) -> None:
        self._clients = clients

    def _client(self, team: str) -> WebClient:
        client = self._clients.for_team(team)
        if client is None:  # uninstalled meanwhile, or its token could not be refreshed
            raise PublishFailed("not_installed", final=True)
        return without_blind_resends(client)

    def publish(self, team: str, channel: str, pick: Pick, *, post_id: int, turn_id: int) -> str:
        """Post the takeaway; its ts. Raises PublishFailed, final for FINAL_ERRORS."""
        message = blocks.takeaway_message(pick, turn_id=turn_id)
        try:
            posted = self._client(team).chat_postMessage(
                channel=channel,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"daily_post": post_id}},
                **message,
            )
        except (SlackApiError, OSError) as exc:
            raise _failure(exc) from None
        return str(posted["ts"])

    def find_posted(self, team: str, channel: str, post_id: int) -> str | None:
        """The ts of this day's post if an earlier attempt got it to Slack after all. Raises
        PublishFailed (final for FINAL_ERRORS) when Slack cannot be asked: not knowing is
        not the same as not posted."""
        try:
            history = self._client(team).conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except (SlackApiError, OSError) as exc:
            raise _failure(exc) from None  # the poster logs it, and holds the post back
        for message in history.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and payload.get("daily_post") == post_id:
                return str(message["ts"])
        return None
