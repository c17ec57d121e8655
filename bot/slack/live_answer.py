"""An answer's one message in Slack while Claude writes it, then the finished answer in it.

In a thread (a follow-up, a mention, a direct message) the thread's status says where the
bot is looking and what it searches for, and the answer streams with Slack's own streaming
(chat.startStream / appendStream / stopStream), ending with its quotes, episode and
feedback buttons. A slash command's answer is a new message in the channel, which a stream
cannot be (Slack streams only replies), so there the message is posted the moment answering
begins ("Looking in …") and updated in place as the text grows. When Slack refuses a stream,
or one expires midway, the same message (or a new one, if none was shown yet) is updated in
place instead: never two copies of an answer.

Updates in between are paced (one a second per message, and within what Slack allows per
minute across all answers); one Slack refuses is skipped, the next carries the text so far.
The finished answer always goes out, through the client's own retries. An answer ready at
once (the offline answerer) is simply posted.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.chat_stream import ChatStream

from bot.answering import Answer, Watcher
from bot.slack import blocks

log = logging.getLogger(__name__)

# The least time between two updates of one message.
UPDATE_EVERY_SECONDS = 1.0
# An update in between that Slack is slow to take is given up, not waited for.
DRAFT_TIMEOUT_SECONDS = 5.0
# Appends failing in a row (rate limited, slow) before the message goes on in place.
APPEND_FAILURES = 3
# What Slack says of a stream that has ended (expired, or the person stopped it).
GONE_STREAM = frozenset({"message_not_in_streaming_state", "stopped_by_user"})


class Pace:
    """A shared allowance of calls per minute (a token bucket): what Slack's rate limit
    tier allows one method across every answer being written."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Use one call now if the allowance has one."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


@dataclass(frozen=True)
class Paces:
    """The allowances updates in between share, per Slack's tiers: chat.update is Tier 3
    (50 a minute), chat.appendStream Tier 4 (100), chat.startStream Tier 2 (20); and the
    least time between two updates of one message."""

    every_seconds: float = UPDATE_EVERY_SECONDS
    update: Pace = field(default_factory=lambda: Pace(50, 10))
    append: Pace = field(default_factory=lambda: Pace(100, 20))
    start: Pace = field(default_factory=lambda: Pace(20, 5))


def draft_client(client: WebClient) -> WebClient:
    """The same client, but a call in between that fails (a 429, an outage) fails at once:
    the next update carries the text anyway, and the answer must not wait on it."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=min(client.timeout, int(DRAFT_TIMEOUT_SECONDS)),
        retry_handlers=[],
    )


@dataclass(frozen=True)
class Place:
    """Where an answer goes and who asked: the thread (None: a new message in the channel),
    and the asker's user and team, which a stream in a channel names."""

    channel: str
    thread_ts: str | None
    question: str
    asker: str | None
    team_id: str | None = None


class LiveAnswer(Watcher):
    """Shows one answer as it is made; `finish` puts the finished answer in its place.
    `live` False: nothing is shown until the answer is ready (it will be, at once).
    `shown_ts`: the message an earlier attempt at this answer left (a process that died
    midway), finished in place; `on_shown` hears the ts of the message once there is one.

    Showing is best effort and never costs the answer: a step Slack refuses falls back to
    the next way of showing, and one whose outcome is unknown (a timeout) stops the showing
    altogether, so that no second message can appear; `finish` then posts the answer."""

    def __init__(
        self,
        client: WebClient,
        place: Place,
        *,
        live: bool,
        paces: Paces,
        drafts: WebClient | None = None,
        shown_ts: str | None = None,
        on_shown: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        # Built only for an answer shown as it is written.
        self._drafts = drafts or (draft_client(client) if live else client)
        self._place = place
        self._live = live
        self._paces = paces
        self._on_shown = on_shown
        self._ts: str | None = shown_ts  # the message, once there is one
        self._stream: ChatStream | None = None  # open while not None
        self._streamed = ""  # the answer text the stream holds (unescaped)
        self._append_failures = 0
        # Updated with chat.update: no stream here, a stream that failed, or a message
        # left by an earlier attempt (whose stream, if it had one, may still be open).
        self._in_place = shown_ts is not None
        self._left_open = shown_ts is not None
        self._gave_up = False
        self._doing: str | None = None
        self._text = ""
        self._shown_at = 0.0
        self._status_set = False

    @property
    def ts(self) -> str | None:
        """The answer's message, once one was posted."""
        return self._ts

    # ------------------------------------------------------------------ the watcher

    def started(self, episode_title: str | None) -> None:
        """Say where the bot is looking: a status under the thread, or the new message."""
        if not self._live:
            return
        self._doing = blocks.looking_in(episode_title)
        if self._in_place:
            self._close_left_stream()
            self._update_in_place(force=True)
        elif self._place.thread_ts is None:
            self._post_in_place()
        else:
            self._set_status(blocks.looking_status(episode_title))

    def searching(self, doing: str) -> None:
        """Say what the library search is doing, until the answer's text shows."""
        if not self._live or self._gave_up or self._text:
            return
        self._doing = blocks.searching_line(doing)
        if self._in_place:
            self._update_in_place(force=False)
        elif self._place.thread_ts is not None and self._stream is None:
            self._set_status(blocks.searching_status(doing))

    def writing(self, text: str) -> None:
        """Show the text so far: the first words at once, then at the pace allowed."""
        if not self._live or self._gave_up:
            return
        first = not self._text
        self._text, self._doing = text, None
        if self._in_place:
            self._update_in_place(force=first)
        elif self._place.thread_ts is None:
            self._post_in_place()
        elif self._stream is None:
            self._start_stream()
        elif not text.startswith(self._streamed):
            # Replaced midway (a library search's line before its call was shown): a
            # stream cannot take text back, so the message goes on in place.
            self._leave_stream()
            self._update_in_place(force=True)
        else:
            self._append()

    # ------------------------------------------------------------------ the finish

    def finish(self, answer: Answer, *, answer_id: int | None, library_wide: bool) -> str:
        """Put the finished answer in the message (posting it when none was shown), with
        the client's own retries; its ts. Raises SlackApiError (or OSError) when Slack will
        not take it."""
        if self._stream is not None:
            if answer.notice is None and answer.text.startswith(self._streamed):
                if self._stop_stream(answer, answer_id, library_wide):
                    assert self._ts is not None
                    return self._ts
            else:
                self._leave_stream()
        self._close_left_stream()
        message = blocks.answer_message(
            answer, asker=self._place.asker, answer_id=answer_id, library_wide=library_wide
        )
        if self._ts is not None:
            try:
                self._client.chat_update(channel=self._place.channel, ts=self._ts, **message)
                return self._ts
            except SlackApiError as exc:
                if exc.response.get("error") != "message_not_found":
                    raise
                log.info("the answer's message was deleted meanwhile: posting it anew")
        posted = self._client.chat_postMessage(
            channel=self._place.channel, thread_ts=self._place.thread_ts, **message
        )
        self._ts = str(posted["ts"])
        return self._ts

    def abandon(self) -> None:
        """The answer failed after something was shown: take it away (the asker is told why
        in one sentence elsewhere)."""
        try:
            if self._stream is not None:
                self._leave_stream()
            if self._ts is not None:
                self._client.chat_delete(channel=self._place.channel, ts=self._ts)
            elif self._status_set:
                self._set_status("")
        except (SlackApiError, OSError) as exc:
            log.warning("could not take back an unfinished answer: %s", _why(exc))

    # ------------------------------------------------------------------ in place

    def _draft(self) -> dict[str, object]:
        return blocks.answer_draft(self._place.question, self._place.asker, self._text, self._doing)

    def _post_in_place(self) -> None:
        """Post the message that is updated as the answer grows (once). Not resent blindly:
        a post whose reply was lost may have been made, and a second must not appear."""
        if self._ts is not None:
            return
        try:
            posted = self._drafts.chat_postMessage(
                channel=self._place.channel, thread_ts=self._place.thread_ts, **self._draft()
            )
        except (SlackApiError, OSError) as exc:
            # Showing stops here; the finished answer is posted all the same, and its
            # failure, if Slack refuses that too, is what the asker hears of.
            log.warning("could not show an answer being written: %s", _why(exc))
            self._gave_up = True
            return
        self._ts, self._in_place = str(posted["ts"]), True
        self._shown_at = time.monotonic()
        self._shown(self._ts)

    def _update_in_place(self, *, force: bool) -> None:
        if self._ts is None:
            return
        if not force and not self._due(self._paces.update):
            return
        try:
            self._drafts.chat_update(channel=self._place.channel, ts=self._ts, **self._draft())
        except (SlackApiError, OSError) as exc:
            log.info("skipped an update of an answer being written: %s", _why(exc))
        self._shown_at = time.monotonic()

    def _due(self, pace: Pace) -> bool:
        return time.monotonic() - self._shown_at >= self._paces.every_seconds and pace.take()

    def _close_left_stream(self) -> None:
        """An earlier attempt's message may still be streaming (its process died): end that
        stream, so the message can be updated."""
        if not self._left_open or self._ts is None:
            return
        self._left_open = False
        # Not streaming (the usual case) is an error here, and means nothing to end.
        with contextlib.suppress(SlackApiError, OSError):
            self._drafts.chat_stopStream(channel=self._place.channel, ts=self._ts)

    # ------------------------------------------------------------------ streamed

    def _shown(self, ts: str) -> None:
        if self._on_shown is not None:
            try:
                self._on_shown(ts)
            except Exception:  # noting it helps a takeover, never worth the answer
                log.warning("could not note an answer's message", exc_info=True)

    def _set_status(self, status: str) -> None:
        assert self._place.thread_ts is not None
        try:
            self._drafts.assistant_threads_setStatus(
                channel_id=self._place.channel,
                thread_ts=self._place.thread_ts,
                status=status,
                loading_messages=blocks.LOADING_MESSAGES if status else None,
            )
            self._status_set = bool(status)
        except (SlackApiError, OSError) as exc:
            log.info("could not set the thread's status: %s", _why(exc))

    def _start_stream(self) -> None:
        assert self._place.thread_ts is not None
        if not self._paces.start.take():
            log.info("answer not streamed (chat.startStream allowance spent): in place")
            self._post_in_place()
            return
        stream = self._drafts.chat_stream(
            channel=self._place.channel,
            thread_ts=self._place.thread_ts,
            recipient_user_id=self._place.asker,
            recipient_team_id=self._place.team_id,
            buffer_size=1,  # the pace is this class's: each append goes out
        )
        text = self._text[: blocks.STREAM_LIMIT]
        try:
            stream.append(markdown_text=blocks.stream_text(text))
        except SlackApiError as exc:  # refused (not allowed here, rate limited): in place
            log.info("answer not streamed (%s): updating it in place", _why(exc))
            self._post_in_place()
            return
        except (SlackRequestError, OSError) as exc:
            # Slack may have started it: showing stops, so no second message can appear.
            log.warning("answer not streamed (%s): posted when finished", _why(exc))
            self._gave_up = True
            return
        self._stream, self._ts, self._streamed = stream, stream.ts, text
        self._shown_at = time.monotonic()
        if self._ts is not None:
            self._shown(self._ts)

    def _append(self) -> None:
        assert self._stream is not None
        if not self._due(self._paces.append):
            return
        text = self._text[: len(self._streamed) + blocks.STREAM_LIMIT]
        try:
            self._stream.append(markdown_text=blocks.stream_text(text[len(self._streamed) :]))
        except SlackApiError as exc:
            if exc.response.get("error") in GONE_STREAM:
                log.info("stream of an answer ended (%s): updating it in place", _why(exc))
                self._stream, self._in_place = None, True
                self._update_in_place(force=True)
                return
            self._append_failed(exc)
            return
        except (SlackRequestError, OSError) as exc:
            self._append_failed(exc)
            return
        self._append_failures = 0
        self._streamed = text
        self._shown_at = time.monotonic()

    def _append_failed(self, exc: Exception) -> None:
        """An append that failed for now (a rate limit, a slow Slack) is skipped, the next
        carries its text; after a few in a row the message goes on in place."""
        self._append_failures += 1
        self._shown_at = time.monotonic()
        log.info("skipped an append to an answer being written: %s", _why(exc))
        if self._append_failures >= APPEND_FAILURES:
            self._leave_stream()

    def _leave_stream(self) -> None:
        """End the stream where it is; the message is updated in place from now on."""
        assert self._stream is not None
        try:
            self._drafts.chat_stopStream(channel=self._place.channel, ts=str(self._ts))
        except (SlackApiError, OSError) as exc:
            log.info("stream already ended: %s", _why(exc))
        self._stream, self._in_place = None, True

    def _stop_stream(self, answer: Answer, answer_id: int | None, library_wide: bool) -> bool:
        """End the stream with the rest of the text and the answer's ending, with the
        client's retries; False when the stream is gone (the caller updates the message in
        place instead)."""
        assert self._stream is not None and self._ts is not None
        rest = blocks.stream_text(answer.text[len(self._streamed) :])
        ending = blocks.answer_ending(answer, answer_id=answer_id, library_wide=library_wide)
        try:
            self._client.chat_stopStream(
                channel=self._place.channel,
                ts=self._ts,
                markdown_text=rest or None,
                blocks=ending,
            )
        except (SlackApiError, OSError) as exc:
            log.info("stream could not be ended (%s): updating it in place", _why(exc))
            self._stream, self._in_place = None, True
            return False
        self._stream = None
        return True


class _NoStream(Exception):
    """No stream may be started now."""


def _why(exc: Exception) -> str:
    """What Slack said, never the request (it carries the token)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
