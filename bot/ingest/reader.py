"""Read a transcript file into text, and parse it in the right format.

Every refusal is a ParseError whose message is one sentence a user can act on.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from bot.ingest import html_transcript, numbered, plain, podcast_json, timestamped
from bot.ingest.captions import looks_like_srt, looks_like_vtt, parse_srt, parse_vtt
from bot.ingest.model import FORMATS, ParsedEpisode, ParseError

# A three-hour conversation is about 200 KB of text; anything this large is not a transcript.
MAX_FILE_BYTES = 10 * 1024 * 1024
BINARY_SNIFF_BYTES = 8192

Parser = Callable[[str], ParsedEpisode]
# Most specific first: plain `Speaker: text` would also match lines inside the others.
DETECTORS: tuple[tuple[str, Callable[[str], bool], Parser], ...] = (
    ("numbered", numbered.looks_like, numbered.parse),
    ("timestamped", timestamped.looks_like, timestamped.parse),
    ("vtt", looks_like_vtt, parse_vtt),
    ("srt", looks_like_srt, parse_srt),
    # Each of these needs its own markup at the start, which none of the formats above has.
    ("json", podcast_json.looks_like, podcast_json.parse),
    ("html", html_transcript.looks_like, html_transcript.parse),
    ("plain", plain.looks_like, plain.parse),
)
PARSERS: dict[str, Parser] = {name: parse for name, _, parse in DETECTORS}
assert tuple(PARSERS) == FORMATS


def read_text(path: Path) -> str:
    """The file's text, refusing what cannot be a transcript before parsing anything."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a pipe or device would block or never end
            raise ParseError("is not a regular file")
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise ParseError(
                f"file is {size / 1_048_576:.0f} MB, larger than the "
                f"{MAX_FILE_BYTES // 1_048_576} MB a transcript can be"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror}") from None
    if not data.strip():
        raise ParseError("file is empty")
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise ParseError("file is binary, not a text transcript")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"file is not valid UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_format(text: str) -> str:
    """The first format whose detector recognises the text."""
    for name, looks_like, _ in DETECTORS:
        if looks_like(text):
            return name
    raise ParseError(
        "unknown transcript format: expected numbered turns, timestamped markdown, "
        "WebVTT, SRT, podcast JSON, HTML or 'Speaker: text' lines (or force one with --format)"
    )


def parse_text(text: str, fmt: str = "auto") -> ParsedEpisode:
    """Parse `text` as `fmt`, detecting the format when it is "auto"."""
    name = detect_format(text) if fmt == "auto" else fmt
    if name not in PARSERS:
        raise ParseError(f"unknown format {fmt!r}: use one of auto, {', '.join(FORMATS)}")
    return PARSERS[name](text)
