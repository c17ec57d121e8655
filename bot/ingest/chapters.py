"""An episode's chapters, from the Podcasting 2.0 JSON chapters file its feed links to
(`{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, ...]}`), and the
chapter a moment of the episode falls in."""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence

MAX_CHAPTERS = 500
MAX_TITLE = 200
MAX_SECONDS = 10**7


class ChaptersError(ValueError):
    """The chapters file cannot be read; one plain sentence."""


def parse_chapters(data: bytes) -> list[tuple[float, str]]:
    """(start seconds, title) of each chapter, in order of start. Chapters without a title
    or a usable start are left out. Raises ChaptersError for what is not a chapters file."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ChaptersError("the chapters file is not JSON") from None
    listed = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise ChaptersError("the chapters file has no list of chapters")
    chapters: list[tuple[float, str]] = []
    for entry in listed[:MAX_CHAPTERS]:
        if not isinstance(entry, dict) or entry.get("toc") is False:  # hidden from the list
            continue
        start, title = entry.get("startTime"), entry.get("title")
        if isinstance(start, bool) or not isinstance(start, int | float):
            continue
        if isinstance(start, int) and abs(start) > MAX_SECONDS:  # would overflow a float
            continue
        if not isinstance(title, str) or not title.strip() or not math.isfinite(start):
            continue
        chapters.append((max(0.0, float(start)), " ".join(title.split())[:MAX_TITLE]))
    return sorted(chapters, key=lambda chapter: chapter[0])


def chapter_at(chapters: Sequence[tuple[float, str]], seconds: float | None) -> str | None:
    """The title of the chapter `seconds` into the episode falls in (chapters in order of
    start); None before the first, or when the moment is not known."""
    if seconds is None or not chapters:
        return None
    at = bisect.bisect_right([start for start, _ in chapters], seconds) - 1
    return chapters[at][1] if at >= 0 else None
