"""Podcasting 2.0 JSON transcripts (`<podcast:transcript type="application/json">`):
`{"version": "1.0.0", "segments": [{"speaker", "startTime", "endTime", "body"}, ...]}`.

Segments are often single words; consecutive segments of one speaker become one turn that
starts when its first segment does, and a segment naming no speaker continues the last one.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bot.ingest.captions import UNNAMED_SPEAKER
from bot.ingest.model import ParsedEpisode, ParseError, number_turns

JSON_OBJECT_OPEN = re.compile(r"\A\ufeff?\s*\{")
SEGMENTS_KEY = re.compile(r'"segments"\s*:')
# Word-level timing gives punctuation segments of their own; they belong to the word before.
PUNCTUATION_ONLY = re.compile(r"[,.;:!?\u2026)\]}%\u2019\u201d]+")
# The store keeps at most 200 characters of a speaker; a longer "name" is not one.
# Longer than any episode; a 400-digit integer would overflow a float.
MAX_SECONDS = 10**7
MAX_SPEAKER_CHARS = 100
TYPE_NAMES = {list: "a list", str: "text", int: "a number", float: "a number", bool: "a boolean"}


def looks_like(text: str) -> bool:
    """A JSON object with a "segments" key; other JSON is no transcript we know."""
    return JSON_OBJECT_OPEN.match(text) is not None and SEGMENTS_KEY.search(text) is not None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _load(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"the file is not valid JSON ({exc.msg} on line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):  # NaN, 5000-digit numbers, nesting too deep to read
        raise ParseError(
            "the file is not valid JSON: it holds NaN or Infinity, a number too long to read, "
            "or nesting too deep"
        ) from None


def _segment(raw: object, number: int) -> tuple[str | None, float | None, str]:
    """A segment's speaker (None: not given), start and text; wrong types are refused."""
    if not isinstance(raw, dict):
        raise ParseError(f"segment {number} of the JSON transcript is not an object")
    speaker, start, body = raw.get("speaker"), raw.get("startTime"), raw.get("body")
    if speaker is not None and not isinstance(speaker, str):
        raise ParseError(f"segment {number} has a speaker that is not text")
    name = " ".join((speaker or "").split()) or None
    if name and len(name) > MAX_SPEAKER_CHARS:
        raise ParseError(
            f"segment {number} has a speaker longer than {MAX_SPEAKER_CHARS} characters"
        )
    # bool is an int to Python, but `true` is no time.
    if start is not None and (isinstance(start, bool) or not isinstance(start, int | float)):
        raise ParseError(f"segment {number} has a startTime that is not a number of seconds")
    if start is not None and (
        (isinstance(start, int) and abs(start) > MAX_SECONDS)
        or not math.isfinite(start)
        or start < 0
    ):
        raise ParseError(f"segment {number} has a startTime that is negative or too large")
    if body is not None and not isinstance(body, str):
        raise ParseError(f"segment {number} has a body that is not text")
    return name, None if start is None else float(start), body or ""


def parse(text: str) -> ParsedEpisode:
    """Parse a podcast-namespace JSON transcript into merged speaker turns."""
    data = _load(text)
    if not isinstance(data, dict):
        shown = TYPE_NAMES.get(type(data), "null")
        raise ParseError(f'the JSON transcript must be an object with "segments", not {shown}')
    segments = data.get("segments")
    if not isinstance(segments, list):
        raise ParseError('the JSON transcript has no "segments" list')

    merged: list[tuple[str, float | None, list[str]]] = []
    current: str | None = None
    for number, raw in enumerate(segments, start=1):
        speaker, start, body = _segment(raw, number)
        current = speaker or current or UNNAMED_SPEAKER
        said = body.strip()
        if not said:
            continue
        if not merged or merged[-1][0] != current:
            merged.append((current, start, []))
        pieces = merged[-1][2]
        if pieces and PUNCTUATION_ONLY.fullmatch(said):
            pieces[-1] = pieces[-1].rstrip() + said
        else:
            pieces.append(said)

    turns = number_turns(merged)
    if not turns:
        raise ParseError('no speaker turns found: no segment of the JSON transcript has a "body"')
    return ParsedEpisode(title="", source_format="json", turns=turns)
