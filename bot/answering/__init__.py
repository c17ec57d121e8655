"""Answering: the Answerer protocol and what every answerer returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.rerank import RankedPassage


@dataclass(frozen=True)
class Citation:
    """A quote and where it was said: episode, turn number, speaker and time."""

    episode_slug: str
    episode_title: str
    position: int
    speaker: str
    start_seconds: float | None
    quote: str


@dataclass(frozen=True)
class Answer:
    """An answer to one question. `covered` is False when the episode does not address it."""

    question: str
    text: str
    covered: bool
    answerer: str
    citations: list[Citation] = field(default_factory=list)


class Answerer(Protocol):
    """Turns a question and its retrieved passages into an Answer."""

    name: str

    def answer(self, question: str, passages: Sequence[RankedPassage]) -> Answer:
        """Answer `question` from `passages` only."""
        ...


def format_timestamp(seconds: float | None) -> str | None:
    """`1:02:03` or `2:03`, or None when the source had no times."""
    if seconds is None:
        return None
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
