"""The seed's format: title, summary, key-takeaway bullets, "Who it's for:", "Transcript",
then numbered turns `  N. Speaker Name:text`."""

from __future__ import annotations

import re

from bot.ingest.model import ParsedEpisode, ParseError, Turn

TURN_LINE = re.compile(r"^\s*(\d{1,5})\.\s*([A-Za-z][^:\n]{0,79}?)\s*:(.*)$")
BULLET_LINE = re.compile(r"^\s*[\u2022\u00b7\u2013*-]\s+(.*)$")
AUDIENCE_LINE = re.compile(r"^\s*who (?:it'?s|this is) for\s*:\s*(.*)$", re.IGNORECASE)
TRANSCRIPT_HEADING = re.compile(r"^\s*transcript\s*:?\s*$", re.IGNORECASE)
# Web-page chrome that copy-pasting a transcript page drags along.
CHROME_LINES = {"skip to content", "menu", "share", "subscribe", "sign in"}
MAX_SPEAKER_WORDS = 6


def _turn_match(line: str) -> re.Match[str] | None:
    match = TURN_LINE.match(line)
    if match is None or len(match.group(2).split()) > MAX_SPEAKER_WORDS:
        return None
    return match


def looks_like(text: str) -> bool:
    """Two or more numbered speaker lines within the first few hundred lines."""
    hits = 0
    for line in text.splitlines()[:400]:
        if _turn_match(line):
            hits += 1
            if hits >= 2:
                return True
    return False


def _split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """Lines before the transcript, and the transcript's lines."""
    for index, line in enumerate(lines):
        if TRANSCRIPT_HEADING.match(line):
            return lines[:index], lines[index + 1 :]
    for index, line in enumerate(lines):
        if _turn_match(line):
            return lines[:index], lines[index:]
    return lines, []


def _read_header(header: list[str], episode: ParsedEpisode) -> None:
    paragraphs: list[str] = []
    for raw in header:
        line = raw.strip()
        if not line or line.lower() in CHROME_LINES:
            continue
        if bullet := BULLET_LINE.match(line):
            episode.takeaways.append(" ".join(bullet.group(1).split()))
        elif audience := AUDIENCE_LINE.match(line):
            episode.audience = " ".join(audience.group(1).split()) or None
        else:
            paragraphs.append(" ".join(line.split()))
    if paragraphs:
        episode.title = paragraphs[0]
        episode.summary = " ".join(paragraphs[1:]) or None


def parse(text: str) -> ParsedEpisode:
    """Parse the numbered format; turn numbers are kept as the transcript's own."""
    header, body = _split_header(text.splitlines())
    episode = ParsedEpisode(title="", source_format="numbered", turns=[])
    _read_header(header, episode)

    turns: list[tuple[int, str, list[str]]] = []
    for line in body:
        if match := _turn_match(line):
            number = int(match.group(1))
            if turns and number <= turns[-1][0]:
                raise ParseError(
                    f"turn numbers must increase, but turn {number} follows turn {turns[-1][0]}"
                )
            turns.append((number, " ".join(match.group(2).split()), [match.group(3)]))
        elif turns and line.strip():
            turns[-1][2].append(line)  # a turn wrapped over several lines
    episode.turns = [
        Turn(position=number, speaker=speaker, text=" ".join(" ".join(parts).split()))
        for number, speaker, parts in turns
        if " ".join(parts).strip()
    ]
    if not episode.turns:
        raise ParseError("no speaker turns found: expected numbered lines like '1. Speaker: text'")
    return episode
