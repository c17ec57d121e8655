"""Plain text transcripts: `Speaker Name: text` lines, with the lines after a speaker line
continuing that speaker's turn until the next one. An optional short first line is the
title."""

from __future__ import annotations

import re

from bot.ingest import captions, timestamped
from bot.ingest.model import ParsedEpisode, ParseError, number_turns

# 1-5 words starting with a letter; the length limit and the time/URL rules are checked in
# _speaker_line because a regex for them would be unreadable.
SPEAKER_LINE = re.compile(
    r"^[ \t]*(?P<name>[^\W\d_][\w.'\u2019&()-]*(?:[ \t]+[\w.'\u2019&()-]+){0,4})[ \t]*:"
    r"(?P<text>.*)$"
)
FRONT_MATTER_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "mailto", "file", "www"})

MAX_SPEAKER_CHARS = 40
MAX_TITLE_CHARS = 120
MIN_SPEAKER_LINES = 2
SNIFF_LINES = 400


def _speaker_line(line: str) -> tuple[str, str] | None:
    """The speaker and text of a `Speaker: text` line, or None for any other line."""
    match = SPEAKER_LINE.match(line)
    if match is None:
        return None
    name = " ".join(match.group("name").split())
    said = match.group("text")
    if len(name) > MAX_SPEAKER_CHARS:
        return None
    if said.startswith("//") or name.split()[-1].lower() in URL_SCHEMES:
        return None  # "see http://..." or "mailto:..." is not someone speaking
    if name[-1].isdigit() and said[:1].isdigit():
        return None  # "we met at 12:30" is a time, not a speaker called "we met at 12"
    return name, said


def looks_like(text: str) -> bool:
    """Two or more `Speaker: text` lines, in a file no stricter format claims.

    This is the loosest format, so it steps aside for the others: YAML front matter lines
    (`title: ...`) and caption cues with `Name:` prefixes would otherwise look like speech.
    """
    if FRONT_MATTER_OPEN.match(text):
        return False
    if timestamped.looks_like(text) or captions.looks_like_vtt(text):
        return False
    if captions.looks_like_srt(text):
        return False
    hits = 0
    for line in text.splitlines()[:SNIFF_LINES]:
        if _speaker_line(line):
            hits += 1
            if hits >= MIN_SPEAKER_LINES:
                return True
    return False


def _title(lines: list[str]) -> str:
    """The first non-empty line, if it is short and not already speech."""
    for line in lines:
        if not line.strip():
            continue
        if _speaker_line(line) is None and len(line.strip()) < MAX_TITLE_CHARS:
            return " ".join(line.split())
        return ""
    return ""


def parse(text: str) -> ParsedEpisode:
    """Parse `Speaker: text` lines; other lines continue the previous speaker's turn."""
    lines = text.lstrip("\ufeff").splitlines()
    pending: list[tuple[str, float | None, list[str]]] = []
    for line in lines:
        if found := _speaker_line(line):
            pending.append((found[0], None, [found[1]]))
        elif pending:
            pending[-1][2].append(line)
        # Lines before the first speaker are the title or preamble, never a turn.

    turns = number_turns(pending)
    if not turns:
        raise ParseError("no speaker turns found: expected lines like 'Speaker Name: text'")
    return ParsedEpisode(title=_title(lines), source_format="plain", turns=turns)
