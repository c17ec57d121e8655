"""Whether answers helped: a person's click on an answer (the last click wins), and the
share of rated answers marked helpful over recent days.

A click names the answer it rates by the stored turn id its button carries; it is stored
only when that turn is an answer of a conversation in the click's channel, on the answer's
own message (or a message in its thread), so a click can never rate a person's question or
an answer given somewhere else."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.services.library import Library
from db.conversations import AnswerStats, TurnPlace, answer_stats, record_feedback, turn_place

__all__ = ["AnswerStats", "ClickPlace", "Clicked", "helpful_share", "recent_stats", "record_click"]

log = logging.getLogger(__name__)


class Clicked(StrEnum):
    """What became of a click."""

    STORED = "stored"
    GONE = "the answer is no longer stored"
    REFUSED = "the click is not on that answer"


@dataclass(frozen=True)
class ClickPlace:
    """Where the clicked button was: the channel, the message's ts and the thread it is in
    (each None when the click did not say)."""

    channel: str | None
    message_ts: str | None = None
    thread_ts: str | None = None


def _mismatch(place: TurnPlace, click: ClickPlace, team: str) -> str | None:
    """Why the click cannot be on this turn's message, or None when it can be."""
    if place.team != team:
        return "it names an answer of another workspace"
    if place.role != "assistant":
        return "it names a person's question, not an answer"
    if click.channel != place.channel:
        return "it came from another channel than the answer's"
    if place.thread_ts is None or click.message_ts is None:
        return None  # nothing more is known to compare
    if click.message_ts == place.thread_ts:
        # The thread's root message carries the buttons of its first answer only.
        return None if place.first_answer else "it came from another answer's message"
    if click.thread_ts == place.thread_ts:
        return None  # a reply in the answer's thread
    return "it came from a message outside the answer's thread"


def record_click(
    library: Library, turn_id: int, user_id: str, *, helpful: bool, where: ClickPlace
) -> Clicked:
    """Store the click if it is on the answer it names; a refusal is logged."""
    with library.sessions.begin() as session:
        place = turn_place(session, turn_id)
        if place is None:
            return Clicked.GONE
        if (why := _mismatch(place, where, library.workspace)) is not None:
            log.warning(
                "feedback click on turn %d by %s of workspace %s refused: %s",
                turn_id,
                user_id,
                library.workspace or "-",
                why,
            )
            return Clicked.REFUSED
        stored = record_feedback(session, library.workspace, turn_id, user_id, helpful=helpful)
        return Clicked.STORED if stored else Clicked.GONE


def helpful_share(stats: AnswerStats) -> str:
    """`75% of 4 rated`, or `none rated`."""
    return (
        f"{stats.helpful / stats.rated:.0%} of {stats.rated} rated" if stats.rated else "none rated"
    )


def recent_stats(library: Library, periods: Sequence[int]) -> list[tuple[int, AnswerStats]]:
    """The workspace's answers and their ratings over each of the last `periods` days."""
    now = datetime.now(UTC).replace(tzinfo=None)  # stored times are naive UTC
    team = library.workspace
    with library.sessions() as session:
        return [(days, answer_stats(session, team, now - timedelta(days=days))) for days in periods]
