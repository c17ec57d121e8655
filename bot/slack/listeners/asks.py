"""Questions the bot acknowledged: written down in the moment of the acknowledgement,
answered once (claimed first), crossed off when posted; after a restart, answered if still
fresh, or the asker told in one sentence to ask again.

Two kinds: a slash command (`/episode ask`: the answer is a new message in the channel,
errors go to its response_url) and an event (a mention, a reply in the bot's thread, a
direct message: the answer goes in the thread)."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.retrieval import EmptyQuery, UnknownEpisode
from bot.services.asks import ORPHANED_AFTER, Ask, NewAsk, too_old
from bot.slack import blocks
from bot.slack.listeners.deps import Deps
from bot.slack.listeners.replies import answer_and_post

log = logging.getLogger(__name__)

# How often a running process looks for asks a dead process left.
RECOVERY_SECONDS = 60.0


def take(deps: Deps, client: WebClient, ask: NewAsk) -> None:
    """Write the ask down (in the moment it is acknowledged, by the recorder) and queue its
    answer; a request taken before (a replay of it, or Slack's retry) is not answered again.
    When it cannot be written down, the asker is told in one sentence."""
    assert deps.recorder is not None

    def recorded(ask_id: int | None) -> None:
        if ask_id is not None:
            queue(deps, client, ask_id)

    deps.recorder.submit(ask, recorded, lambda: _tell_not_stored(client, ask))


def _tell_not_stored(client: WebClient, ask: NewAsk) -> None:
    try:
        if ask.kind == "command":
            Respond(response_url=ask.response_url)(**blocks.ephemeral(blocks.LIBRARY_TROUBLE))
        else:
            client.chat_postMessage(
                channel=ask.channel, thread_ts=ask.thread_ts, text=blocks.LIBRARY_TROUBLE
            )
    except (SlackApiError, OSError, ValueError) as exc:
        log.warning("could not say a question was not stored: %s", type(exc).__name__)


def queue(
    deps: Deps, client: WebClient | None, ask_id: int, *, taking_from: str | None = None
) -> None:
    """Answer the ask on the answer pool (a process shutting down leaves it in the book);
    `client` None: with its workspace's client (an ask taken over, outside any request)."""
    deps.in_background(lambda: answer(deps, client, ask_id, taking_from=taking_from))


def ahead(deps: Deps) -> int | None:
    """How many questions wait before a new one, when that many make it late; else None."""
    waiting = deps.waiting()
    return waiting if waiting >= max(10, 2 * deps.answerer.answers_at_once) else None


def busy_text(waiting: int) -> str:
    """The one line a person whose answer will be late is told."""
    return blocks.BUSY.format(ahead=waiting)


def answer(
    deps: Deps, client: WebClient | None, ask_id: int, *, taking_from: str | None = None
) -> None:
    """Claim the ask and answer it from its own workspace's data (or tell its asker to ask
    again, when it is too old); cross it off either way. Another process's ask, or one
    answered already, is skipped; so is one of a workspace the bot is no longer in."""
    assert deps.asks is not None
    ask = deps.asks.claim(ask_id, taking_from=taking_from)
    if ask is None:
        return
    deps = deps.for_workspace(ask.team_id)
    if client is None and deps.clients is not None:
        client = deps.clients.for_team(ask.team_id)
    if client is None:
        log.warning("ask %d of workspace %s dropped: no token for it", ask.id, ask.team_id)
        deps.asks.finish(ask.id, told=True)
        return
    told = too_old(ask)
    try:
        if told:
            _tell_restarted(client, ask)
        elif ask.kind == "command":
            _answer_command(deps, client, ask)
        else:
            _answer_event(deps, client, ask)
    finally:
        deps.asks.finish(ask.id, told=told)


def _answer_and_post(deps: Deps, client: WebClient, ask: Ask, thread_ts: str | None) -> None:
    """Answer the ask in `thread_ts` (None: a new message), going on from an earlier attempt
    at it: its team, the message it left (finished in place, never a second copy), and
    where to note a new one."""
    assert deps.asks is not None
    book = deps.asks
    answer_and_post(
        deps,
        client,
        channel=ask.channel,
        question=ask.question,
        user_id=ask.user_id,
        thread_ts=thread_ts,
        team_id=ask.recipient_team_id,
        shown_ts=ask.answer_ts,
        on_shown=lambda ts: book.showing(ask.id, ts),
    )


def _answer_command(deps: Deps, client: WebClient, ask: Ask) -> None:
    respond = Respond(response_url=ask.response_url)
    try:
        try:
            _answer_and_post(deps, client, ask, None)
        except EmptyQuery:
            respond(**blocks.ephemeral(blocks.NO_WORDS))
        except UnknownEpisode:
            respond(**blocks.ephemeral(blocks.FOCUS_GONE))
        except SQLAlchemyError:
            log.exception("library error while answering /episode ask")
            respond(**blocks.ephemeral(blocks.LIBRARY_TROUBLE))
        except SlackApiError as exc:
            log.warning("chat.postMessage refused: %s", exc.response.get("error"))
            respond(**blocks.post_failed(exc.response.get("error")))
        except OSError as exc:  # Slack unreachable for longer than the client's retries
            log.warning("Slack unreachable while posting an answer: %s", type(exc).__name__)
            respond(**blocks.post_failed("unreachable"))
    except (SlackApiError, OSError, ValueError) as exc:  # the response_url failed too
        log.warning("could not reply to /episode ask: %s", type(exc).__name__)


def _answer_event(deps: Deps, client: WebClient, ask: Ask) -> None:
    thread_ts = ask.thread_ts
    try:
        if not ask.question:
            client.chat_postMessage(channel=ask.channel, thread_ts=thread_ts, text=blocks.HELP_TEXT)
            return
        try:
            _answer_and_post(deps, client, ask, thread_ts)
        except EmptyQuery:
            client.chat_postMessage(channel=ask.channel, thread_ts=thread_ts, text=blocks.NO_WORDS)
        except SQLAlchemyError:
            log.exception("library error while answering in a thread")
            client.chat_postMessage(
                channel=ask.channel, thread_ts=thread_ts, text=blocks.LIBRARY_TROUBLE
            )
    except SlackApiError as exc:
        log.warning("could not reply in thread: %s", exc.response.get("error"))
    except OSError as exc:  # Slack unreachable for longer than the client's retries
        log.warning("could not reply in thread: Slack unreachable (%s)", type(exc).__name__)


def _tell_restarted(client: WebClient, ask: Ask) -> None:
    """One sentence: the bot restarted before answering; ask again. In the thread for an
    event; for a slash command (its response_url long expired) as a message only the asker
    sees."""
    text = blocks.restarted(ask.question)
    try:
        if ask.answer_ts is not None:  # the answer had begun showing: say it there
            with contextlib.suppress(SlackApiError):  # a stream the dead process left open
                client.chat_stopStream(channel=ask.channel, ts=ask.answer_ts)
            client.chat_update(channel=ask.channel, ts=ask.answer_ts, text=text, blocks=[])
        elif ask.kind == "event":
            client.chat_postMessage(channel=ask.channel, thread_ts=ask.thread_ts, text=text)
        elif ask.user_id:
            client.chat_postEphemeral(channel=ask.channel, user=ask.user_id, text=text)
    except (SlackApiError, OSError) as exc:
        log.warning("could not tell an asker to ask again: %s", type(exc).__name__)


def recover(
    deps: Deps, client: WebClient | None = None, *, older_than: timedelta | None = None
) -> int:
    """Queue every ask nobody is answering (left by a process that died or stopped); how
    many. At start-up every pending ask counts (`older_than` zero). Each is answered with
    `client`, or (None) with its own workspace's."""
    assert deps.asks is not None
    try:
        left = deps.asks.left_over(older_than=older_than or timedelta(0))
    except SQLAlchemyError as exc:
        log.warning("could not look for unanswered questions (%s)", type(exc).__name__)
        return 0
    for ask in left:
        queue(deps, client, ask.id, taking_from=ask.claimed_by)
    if left:
        log.warning("answering %d questions left unanswered by an earlier process", len(left))
    return len(left)


def keep_recovering(
    deps: Deps, client: WebClient | None, stop: threading.Event
) -> threading.Thread:
    """A daemon thread that looks for orphaned asks every RECOVERY_SECONDS until `stop`
    (another process on the same database may die while this one runs)."""

    def loop() -> None:
        while not stop.wait(RECOVERY_SECONDS):
            recover(deps, client, older_than=ORPHANED_AFTER)

    thread = threading.Thread(target=loop, name="ask-recovery", daemon=True)
    thread.start()
    return thread
