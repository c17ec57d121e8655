"""`/episode feed`: subscribe the channel to a podcast's feed, list the workspace's feeds,
unsubscribe one."""

from __future__ import annotations

from slack_bolt import Respond

from bot.services import feeds
from bot.services.feeds import FeedProblem
from bot.slack import blocks
from bot.slack.listeners.deps import Deps


def _url(word: str) -> str:
    """A URL as Slack may send it: `<https://…>` or `<https://…|label>`."""
    return word.strip().removeprefix("<").removesuffix(">").split("|", 1)[0]


def run_feed(deps: Deps, channel_id: str, rest: str, respond: Respond) -> None:
    """`feed` (list), `feed add URL`, `feed remove URL|ID`."""
    words = rest.split()
    action = words[0].lower() if words else "list"
    try:
        if action == "list" and len(words) <= 1:
            respond(**blocks.feed_list(feeds.subscriptions(deps.library)))
        elif action == "add" and len(words) == 2:
            added = feeds.subscribe(deps.library, deps.settings, _url(words[1]), channel=channel_id)
            respond(**blocks.feed_subscribed(added))
        elif action == "remove" and len(words) == 2:
            respond(**blocks.feed_removed(feeds.unsubscribe(deps.library, _url(words[1]))))
        else:
            respond(**blocks.ephemeral(blocks.FEED_USAGE))
    except FeedProblem as exc:
        respond(**blocks.feed_problem(str(exc)))
