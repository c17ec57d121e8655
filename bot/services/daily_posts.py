"""Posting the takeaway of the day exactly once per channel per local day.

The day's row is claimed before anything is posted (UNIQUE channel + local date), so of
several processes due at the same moment one posts. A claim left by a crash is retaken after
a lease; a Slack failure releases it for a retry with back-off. The post is also the root of
a conversation, so replies in its thread are follow-ups about the takeaway.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.slack import blocks
from bot.takeaways.picking import Pick, next_takeaway, pick_by_id
from bot.takeaways.schedule import DigestSchedule, ScheduleError
from db.conversations import add_turn, drop_conversation, set_thread, start_conversation
from db.digest import (
    claim_day,
    digest_channels,
    mark_failed,
    mark_posted,
    may_retake,
    post_for_day,
    set_takeaway,
)

if TYPE_CHECKING:
    from bot.takeaways.written import TakeawayWriter

log = logging.getLogger(__name__)
METADATA_TYPE = "episode_bot_takeaway"
HISTORY_LOOKBACK = 200  # messages searched for an earlier attempt's post
RECORD_ATTEMPTS, RECORD_PAUSE_SECONDS = 5, 2.0
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


class Outcome(StrEnum):
    """What one attempt to post a channel's takeaway did."""

    POSTED = "posted"
    NOT_DUE = "not due yet"
    ALREADY = "already posted or being posted"
    NOTHING = "no takeaway to post"
    FAILED = "Slack refused the post; it will be retried"


@dataclass(frozen=True)
class Result:
    """An attempt's outcome, with the takeaway when one was posted."""

    outcome: Outcome
    pick: Pick | None = None
    error: str | None = None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # stored times are naive UTC


def schedules(session_factory: sessionmaker[Session], settings: Settings) -> list[DigestSchedule]:
    """Every channel that gets a takeaway of the day: those set with `/episode digest here`,
    and DIGEST_CHANNEL unless it was turned off there."""
    found: dict[str, DigestSchedule] = {}
    with session_factory() as session:
        rows = digest_channels(session)
    switched_off = {row.id for row in rows if not row.digest_enabled}
    if settings.digest_channel and settings.digest_channel not in switched_off:
        found[settings.digest_channel] = DigestSchedule.parse(
            settings.digest_channel,
            settings.digest_time,
            settings.digest_timezone,
            settings.digest_days,
        )
    for row in rows:
        if not row.digest_enabled:
            continue
        try:
            since = row.digest_since.replace(tzinfo=UTC) if row.digest_since else None
            found[row.id] = DigestSchedule.parse(
                row.id,
                row.digest_time or settings.digest_time,
                row.digest_timezone or settings.digest_timezone,
                row.digest_days or settings.digest_days,
                since,
            )
        except ScheduleError as exc:  # stored by an older version, or edited by hand
            log.warning("channel %s has an unusable digest setting: %s", row.id, exc)
    return list(found.values())


class DailyPoster:
    """Posts channels' takeaways of the day through one Slack client."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        client: WebClient,
        settings: Settings,
        *,
        owner: str | None = None,
        writer: TakeawayWriter | None = None,
    ) -> None:
        self._sessions = session_factory
        self._writer = writer
        # The app's client, but a dropped connection is not resent blindly: Slack may have
        # posted already. A retry looks for the post first (`_find_posted`).
        self._client = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[
                h for h in client.retry_handlers if isinstance(h, RateLimitErrorRetryHandler)
            ],
        )
        self._settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"

    def post_if_due(self, schedule: DigestSchedule, now: datetime) -> Result:
        """Post the channel's takeaway for today if its time has come and nobody has."""
        local_date = schedule.due_date(now)
        if local_date is None:
            return Result(Outcome.NOT_DUE)
        return self.post_for(schedule.channel, local_date, now)

    def post_for(self, channel: str, local_date: date, now: datetime) -> Result:
        """Claim the channel's post for `local_date` and post it, once."""
        stamp = _naive_utc(now)
        with self._sessions() as session:  # the sweep's usual case, without a write
            row = post_for_day(session, channel, local_date)
            if row is not None and not may_retake(row, stamp):
                return Result(Outcome.ALREADY)
        # Each claim has its own token: the cron job and the sweep of one process must not
        # mistake each other's claims for their own.
        owner = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        with self._sessions.begin() as session:
            claim = claim_day(session, channel, local_date, owner=owner, now=stamp)
            claimed = (claim.id, claim.takeaway_id, claim.attempts) if claim else None
        if claimed is None:
            return Result(Outcome.ALREADY)
        post_id, takeaway_id, attempts = claimed
        try:
            if attempts > 1 and (ts := self._find_posted(channel, post_id)):
                self._record_posted(channel, post_id, owner, ts, takeaway_id, stamp)
                return Result(Outcome.POSTED)
            pick = self._pick(channel, post_id, takeaway_id)
            if pick is None:
                self._fail(post_id, owner, "no takeaway", stamp, final=True)
                return Result(Outcome.NOTHING)
            return self._post(channel, post_id, owner, pick, stamp)
        except Exception as exc:  # the claim must not be left hanging until its lease ends
            log.exception("takeaway of the day for %s failed", channel)
            self._fail(post_id, owner, type(exc).__name__, stamp)
            return Result(Outcome.FAILED, error=type(exc).__name__)

    def _find_posted(self, channel: str, post_id: int) -> str | None:
        """The ts of this day's post if an earlier attempt got it to Slack after all."""
        try:
            history = self._client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except (SlackApiError, OSError) as exc:
            log.info("could not check %s for an earlier post: %s", channel, type(exc).__name__)
            return None
        for message in history.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and payload.get("daily_post") == post_id:
                return str(message["ts"])
        return None

    def _pick(self, channel: str, post_id: int, takeaway_id: int | None) -> Pick | None:
        if takeaway_id is not None:  # a retry posts what the first attempt chose
            with self._sessions() as session:
                if (pick := pick_by_id(session, takeaway_id)) is not None:
                    return pick
        pick = next_takeaway(
            self._sessions, channel, when_done=self._settings.digest_when_done, writer=self._writer
        )
        if pick is not None:
            with self._sessions.begin() as session:
                set_takeaway(session, post_id, pick.takeaway_id)
        return pick

    def _post(self, channel: str, post_id: int, owner: str, pick: Pick, stamp: datetime) -> Result:
        conversation_id, turn_id = self._remember(channel, pick)
        message = blocks.takeaway_message(pick, turn_id=turn_id)
        try:
            posted = self._client.chat_postMessage(
                channel=channel,
                metadata={"event_type": METADATA_TYPE, "event_payload": {"daily_post": post_id}},
                **message,
            )
        except (SlackApiError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            reason = str(error or type(exc).__name__)
            final = reason in FINAL_ERRORS
            log.log(
                logging.ERROR if final else logging.WARNING,
                "takeaway of the day for %s not posted: %s%s",
                channel,
                reason,
                " (skipped for today)" if final else "",
            )
            with self._sessions.begin() as session:
                drop_conversation(session, conversation_id)
            self._fail(post_id, owner, reason, stamp, final=final)
            return Result(Outcome.FAILED, pick, reason)
        self._record_posted(
            channel, post_id, owner, str(posted["ts"]), None, stamp, conversation_id
        )
        return Result(Outcome.POSTED, pick)

    def _remember(self, channel: str, pick: Pick) -> tuple[int, int]:
        """The post's conversation, so replies in its thread are follow-ups about it."""
        with self._sessions.begin() as session:
            conversation = start_conversation(
                session, channel, thread_ts=None, episode_id=pick.episode_id
            )
            # The quote stands as the thread's first question, so that a short reply ("what
            # does he mean?") is searched for with the quote's words and finds its turn.
            add_turn(session, conversation.id, "user", f"{pick.speaker} said: “{pick.quote}”")
            turn = add_turn(
                session,
                conversation.id,
                "assistant",
                f"Takeaway of the day (turn {pick.position}): {pick.text}\n{pick.question}",
                cited_positions=[pick.position],
            )
            return conversation.id, turn.id

    def _record_posted(
        self,
        channel: str,
        post_id: int,
        owner: str,
        ts: str,
        takeaway_id: int | None,
        stamp: datetime,
        conversation_id: int | None = None,
    ) -> None:
        """Mark the day posted. Retried: once Slack has the post, losing this write would
        post it again when the claim lapses."""
        if conversation_id is None and takeaway_id is not None:
            with self._sessions() as session:
                pick = pick_by_id(session, takeaway_id)
            conversation_id = self._remember(channel, pick)[0] if pick else None
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with self._sessions.begin() as session:
                    if conversation_id is not None:
                        set_thread(session, conversation_id, ts)
                    if not mark_posted(session, post_id, owner=owner, message_ts=ts, now=stamp):
                        log.warning("takeaway for %s posted after its claim was retaken", channel)
                return
            except SQLAlchemyError:
                log.warning("could not record the post for %s (try %d)", channel, attempt + 1)
                time.sleep(RECORD_PAUSE_SECONDS)
        log.error("the takeaway for %s was posted (ts %s) but could not be recorded", channel, ts)

    def _fail(
        self, post_id: int, owner: str, error: str, stamp: datetime, *, final: bool = False
    ) -> None:
        try:
            with self._sessions.begin() as session:
                mark_failed(session, post_id, owner=owner, error=error, now=stamp, final=final)
        except SQLAlchemyError:  # the lease still ends the claim
            log.warning("could not release the claim on post %s", post_id)
