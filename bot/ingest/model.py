"""What every transcript parser produces, before segment kinds are marked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

FORMATS = ("numbered", "timestamped", "vtt", "srt", "json", "html", "plain")


class ParseError(ValueError):
    """The file cannot be read as a transcript; the message is one plain sentence."""


@dataclass(frozen=True)
class Turn:
    """One speaker turn, numbered from 1 in transcript order."""

    position: int
    speaker: str
    text: str
    start_seconds: float | None = None


def number_turns(pieces: Iterable[tuple[str, float | None, list[str]]]) -> list[Turn]:
    """Turns from (speaker, start, text pieces), numbered from 1; pieces that hold nothing
    but white space are dropped before numbering, so the numbers have no gaps."""
    turns: list[Turn] = []
    for speaker, start, parts in pieces:
        if said := " ".join(" ".join(parts).split()):
            turns.append(Turn(len(turns) + 1, speaker, said, start_seconds=start))
    return turns


@dataclass
class ParsedEpisode:
    """An episode as read from a file: metadata plus speaker turns."""

    title: str
    source_format: str
    turns: list[Turn]
    summary: str | None = None
    takeaways: list[str] = field(default_factory=list)
    audience: str | None = None
    guest: str | None = None
    published_on: date | None = None
    source_url: str | None = None
    slug_hint: str | None = None


@dataclass(frozen=True)
class Passage:
    """A stored segment: a turn, or the part of a turn that has one kind."""

    position: int
    part: int
    speaker: str
    text: str
    kind: str
    start_seconds: float | None = None
