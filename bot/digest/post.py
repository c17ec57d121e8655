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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot import blocks
from bot.config import Settings
from bot.digest.picking import Pick, next_takeaway, pick_by_id
from bot.digest.schedule import DigestSchedule, ScheduleError
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
    from bot.digest.written import TakeawayWriter

log = logging.getLogger(__name__)


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
            found[row.id] = DigestSchedule.parse(
                row.id,
                row.digest_time or settings.digest_time,
                row.digest_timezone or settings.digest_timezone,
                row.digest_days or settings.digest_days,
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
        self._client = client
        self._settings = settings
        # Which process holds a claim: a retaken lease must not be confused with our own.
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
        with self._sessions.begin() as session:
            claim = claim_day(session, channel, local_date, owner=self.owner, now=stamp)
            claimed = (claim.id, claim.takeaway_id) if claim else None
        if claimed is None:
            return Result(Outcome.ALREADY)
        post_id, takeaway_id = claimed
        pick = self._pick(channel, post_id, takeaway_id)
        if pick is None:
            with self._sessions.begin() as session:
                mark_failed(session, post_id, owner=self.owner, error="no takeaway", now=stamp)
            return Result(Outcome.NOTHING)
        return self._post(channel, post_id, pick, stamp)

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

    def _post(self, channel: str, post_id: int, pick: Pick, stamp: datetime) -> Result:
        with self._sessions.begin() as session:
            conversation = start_conversation(
                session, channel, thread_ts=None, episode_id=pick.episode_id
            )
            conversation_id = conversation.id
            # The thread's memory. The quote stands as the question, so that a short reply
            # ("what does he mean?") is searched for with the quote's words and finds its turn.
            add_turn(session, conversation_id, "user", f"{pick.speaker} said: “{pick.quote}”")
            turn = add_turn(
                session,
                conversation_id,
                "assistant",
                f"Takeaway of the day (turn {pick.position}): {pick.text}\n{pick.question}",
                cited_positions=[pick.position],
            )
            turn_id = turn.id
        try:
            posted = self._client.chat_postMessage(
                channel=channel, **blocks.takeaway_message(pick, turn_id=turn_id)
            )
        except (SlackApiError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            reason = str(error or type(exc).__name__)
            log.warning("takeaway of the day for %s not posted: %s", channel, reason)
            with self._sessions.begin() as session:
                drop_conversation(session, conversation_id)
                mark_failed(session, post_id, owner=self.owner, error=reason, now=stamp)
            return Result(Outcome.FAILED, pick, reason)
        ts = str(posted["ts"])
        with self._sessions.begin() as session:
            set_thread(session, conversation_id, ts)
            if not mark_posted(session, post_id, owner=self.owner, message_ts=ts, now=stamp):
                log.warning("takeaway for %s posted after its claim was retaken", channel)
        return Result(Outcome.POSTED, pick)

    def already_posted(self, channel: str, local_date: date) -> bool:
        """Whether the channel's post for that date went out."""
        with self._sessions() as session:
            row = post_for_day(session, channel, local_date)
            return row is not None and row.status == "posted"
