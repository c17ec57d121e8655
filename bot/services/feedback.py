"""Whether answers helped: a person's click on an answer (the last click wins), and the
share of rated answers marked helpful over recent days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.services.library import Library
from db.conversations import AnswerStats, answer_stats, record_feedback

__all__ = ["AnswerStats", "recent_stats", "record_click"]


def record_click(library: Library, turn_id: int, user_id: str, *, helpful: bool) -> bool:
    """Store the click; False when the answer is no longer stored."""
    with library.sessions.begin() as session:
        return record_feedback(session, turn_id, user_id, helpful=helpful)


def recent_stats(library: Library, periods: Sequence[int]) -> list[tuple[int, AnswerStats]]:
    """Answers and their ratings over each of the last `periods` days."""
    now = datetime.now(UTC).replace(tzinfo=None)  # stored times are naive UTC
    with library.sessions() as session:
        return [(days, answer_stats(session, now - timedelta(days=days))) for days in periods]
