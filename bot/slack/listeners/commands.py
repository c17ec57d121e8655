"""`/episode`: acknowledged at once, then the work goes to the bot's answer pool, so Slack's
three seconds are never spent on the database or the answerer.

Not a Bolt lazy listener: those exist for function-as-a-service hosts, and Bolt deep-copies
each request to start one before the acknowledgement goes out (measured with
benchmarks/ack_latency.py: ack p99 1.4-1.6x a bare Bolt app's with it, 1.0x without).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.retrieval import EmptyQuery, OnlyCommonWords, UnknownEpisode
from bot.retrieval.scope import means_library
from bot.services import channels, feedback
from bot.services.asks import NewAsk
from bot.slack import blocks
from bot.slack.listeners.asks import ahead, busy_text, take
from bot.slack.listeners.deps import Deps
from bot.slack.listeners.digest import run_digest
from bot.slack.listeners.feeds import run_feed

log = logging.getLogger(__name__)

SUBCOMMANDS = ("ask", "search", "episodes", "use", "stats", "digest", "feed", "help")
NEEDS_TEXT = frozenset({"ask", "search", "use"})  # without it, these get the help instead


def parse_command(text: str) -> tuple[str, str]:
    """(subcommand, the rest). Bare text is a question; a lone unknown word gets help."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    first, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if first in SUBCOMMANDS:
        return first, rest.strip()
    return ("help", "") if len(words) == 1 and "?" not in first else ("ask", text.strip())


def _take_ask(
    deps: Deps, command: dict[str, Any], question: str, ack: Ack, client: WebClient
) -> None:
    """Acknowledge and, in the same moment, write the ask down: a question acknowledged is
    never lost. A replay of the same command (its trigger_id) is not answered again. One
    whose answer will be late is told how many questions wait before it."""
    ack()
    trigger = command.get("trigger_id")
    response_url = command.get("response_url")
    url = response_url if isinstance(response_url, str) else None
    waiting = ahead(deps)
    take(
        deps,
        client,
        NewAsk(
            dedup_key=f"command:{trigger}" if isinstance(trigger, str) and trigger else None,
            kind="command",
            channel=command["channel_id"],
            user_id=command.get("user_id"),
            thread_ts=None,
            question=question,
            response_url=url,
            team_id=deps.library.workspace,
            recipient_team_id=_text(command, "team_id"),
        ),
    )
    if waiting is not None:
        respond = Respond(response_url=url)
        _run(lambda: respond(**blocks.ephemeral(busy_text(waiting))), "ask", respond)


def _text(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return value if isinstance(value, str) and value else None


def _search(deps: Deps, command: dict[str, Any], terms: str, respond: Respond) -> None:
    hits = channels.search_here(deps.library, command["channel_id"], terms, limit=5)
    respond(**blocks.search_message(terms, hits))


def page_of(text: str) -> tuple[str, int]:
    """`episodes [words] [page]`: the words to filter by and the page asked for (a last word
    that is a number of at most six digits; 1 without one)."""
    words = text.split()
    if words and words[-1].isdecimal() and len(words[-1]) <= 6:
        return " ".join(words[:-1]), int(words[-1])
    return " ".join(words), 1


def _episodes(deps: Deps, command: dict[str, Any], rest: str, respond: Respond) -> None:
    words, number = page_of(rest)
    page, focus = channels.episode_page_here(deps.library, command["channel_id"], words, number)
    respond(**blocks.episodes_message(page, focus))


def on_more_episodes(ack: Ack, body: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """The list's next-page button: the page it names, in place of the one shown."""
    ack()
    actions, channel = body.get("actions"), body.get("channel")
    action = actions[0] if isinstance(actions, list) and actions else {}
    wanted = blocks.more_value(action.get("value") if isinstance(action, dict) else None)
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if wanted is None or not isinstance(channel_id, str):
        return  # not a button of ours: nothing to show
    words, number = wanted

    def show() -> None:
        page, focus = channels.episode_page_here(deps.library, channel_id, words, number)
        respond(**blocks.episodes_message(page, focus), replace_original=True)

    deps.in_background(lambda: _run(show, "episodes", respond))


def _use(deps: Deps, command: dict[str, Any], slug: str, respond: Respond) -> None:
    if means_library(slug):
        episodes = channels.use_whole_library(deps.library, command["channel_id"])
        respond(**blocks.focus_cleared(episodes))
        return
    title = channels.use_episode(deps.library, command["channel_id"], slug)
    if title is None:
        closest = [(e.slug, e.title) for e in channels.did_you_mean(deps.library, slug)]
        respond(**blocks.unknown_slug(slug, closest))
        return
    respond(**blocks.focus_set(title))


def _stats(deps: Deps, respond: Respond) -> None:
    respond(**blocks.stats_message(feedback.recent_stats(deps.library, (7, 30))))


def on_episode(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, deps: Deps
) -> None:
    """`/episode ...`: acknowledged at once (help right in the acknowledgement), the work
    handed to the answer pool."""
    if not isinstance(command.get("channel_id"), str):
        ack(**blocks.ephemeral(blocks.NO_CHANNEL))
        return
    text = command.get("text")
    subcommand, rest = parse_command(text if isinstance(text, str) else "")
    if subcommand == "ask" and rest:
        _take_ask(deps, command, rest, ack, client)
        return
    handlers: dict[str, Callable[[], None]] = {
        "search": lambda: _search(deps, command, rest, respond),
        "episodes": lambda: _episodes(deps, command, rest, respond),
        "use": lambda: _use(deps, command, rest, respond),
        "stats": lambda: _stats(deps, respond),
        "digest": lambda: run_digest(deps, command["channel_id"], rest, respond),
        "feed": lambda: run_feed(deps, command["channel_id"], rest, respond),
    }
    if subcommand not in handlers or (subcommand in NEEDS_TEXT and not rest):  # "ask" too
        ack(**blocks.help_message())
        return
    ack()
    deps.in_background(lambda: _run(handlers[subcommand], subcommand, respond))


def register(app: App) -> None:
    """Wire `/episode` (and the episode list's next-page button) into the app."""
    app.command("/episode")(on_episode)
    app.action(blocks.MORE_EPISODES_ACTION)(on_more_episodes)


def _run(handler: Callable[[], None], subcommand: str, respond: Respond) -> None:
    try:
        _run_and_tell(handler, subcommand, respond)
    except (SlackApiError, OSError, ValueError) as exc:  # Slack down, or no response_url
        log.warning("could not reply to /episode %s: %s", subcommand, type(exc).__name__)


def _run_and_tell(handler: Callable[[], None], subcommand: str, respond: Respond) -> None:
    try:
        handler()
    except OnlyCommonWords:
        respond(**blocks.ephemeral(blocks.ONLY_COMMON_WORDS))
    except EmptyQuery:
        respond(**blocks.ephemeral(blocks.NO_WORDS))
    except UnknownEpisode:
        respond(**blocks.ephemeral(blocks.FOCUS_GONE))
    except SQLAlchemyError:
        log.exception("library error while answering /episode %s", subcommand)
        respond(**blocks.ephemeral(blocks.LIBRARY_TROUBLE))
