"""Caption files, WebVTT and SRT, read as transcripts.

Captions cut one speaker's speech into many short cues; consecutive cues of the same speaker
become one turn that starts when its first cue does. Speakers come from WebVTT voice tags
(`<v Name>`) or `Name: text` prefixes (optionally after a `>>` or `-` dialogue marker); a cue
that names nobody continues the previous speaker.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.ingest.model import ParsedEpisode, ParseError, Turn, number_turns

VTT_HEADER = re.compile(r"\A\ufeff?\s*WEBVTT(?=[ \t\r\n]|\Z)")
# NOTE, STYLE and REGION blocks carry no speech.
VTT_NON_CUE = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
# VTT writes `00:01.500`, SRT `00:00:01,500`; either separator is accepted for both since
# converters mix them up. Hours are optional and may exceed two digits.
TIMESTAMP = r"(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
TIMING_LINE = re.compile(
    rf"^[ \t]*(?P<start>{TIMESTAMP})[ \t]*-->[ \t]*(?P<end>{TIMESTAMP})(?:[ \t].*)?$"
)
TIMESTAMP_PARTS = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?")
CUE_NUMBER = re.compile(r"^[ \t]*\d+[ \t]*$")
BLOCK_BREAK = re.compile(r"\n[ \t]*\n")
VOICE_TAG = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+(?P<name>[^>\n]*))?>")
# Any other markup: <c.red>, <i>, </v>, karaoke timestamps <00:00:01.000>, and the
# {\an8} positioning codes some SRT writers emit.
MARKUP = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
DIALOGUE_MARKER = re.compile(r"^(?:>>+|-)[ \t]+")
# `Name: text`: 1-5 words starting with a letter; a space must follow the colon, which
# keeps times (12:30) and URLs (https://...) from being read as speakers.
SPEAKER_NAME = r"[^\W\d_][\w.'\u2019&-]*(?:[ \t]+[\w.'\u2019&()-]+){0,4}"
SPEAKER_PREFIX = re.compile(r"^(?P<name>" + SPEAKER_NAME + r")[ \t]*:(?:[ \t]+(?P<text>.*))?$")
URL_SCHEMES = frozenset({"http", "https", "ftp", "mailto", "www"})

MAX_SPEAKER_CHARS = 40
UNNAMED_SPEAKER = "Speaker"
SNIFF_LINES = 5


@dataclass
class _Cue:
    start_seconds: float
    text_lines: list[str]


def looks_like_vtt(text: str) -> bool:
    """A WebVTT file starts with the `WEBVTT` signature; nothing else is needed."""
    return VTT_HEADER.match(text) is not None


def looks_like_srt(text: str) -> bool:
    """An SRT file opens with a cue: a number and a `-->` timing line, or the timing line."""
    if looks_like_vtt(text):
        return False
    head = [line for line in text[:2000].lstrip("\ufeff").splitlines() if line.strip()]
    head = head[:SNIFF_LINES]
    if not head:
        return False
    opens_cue = CUE_NUMBER.match(head[0]) is not None or TIMING_LINE.match(head[0]) is not None
    return opens_cue and any(TIMING_LINE.match(line) for line in head)


def parse_vtt(text: str) -> ParsedEpisode:
    """Parse WebVTT captions; speakers from `<v Name>` voice tags or `Name:` prefixes."""
    blocks = _blocks(text)
    if not blocks or not VTT_HEADER.match(blocks[0]):
        raise ParseError("this is not a WebVTT file: its first line must be 'WEBVTT'")
    cues: list[_Cue] = []
    for lines in _vtt_cue_blocks(blocks):
        if VTT_NON_CUE.match(lines[0]):
            continue
        if cue := _cue(lines, len(cues) + 1):
            cues.append(cue)
    return _episode(cues, "vtt", "00:00:01.000 --> 00:00:04.000")


def _vtt_cue_blocks(blocks: list[str]) -> list[list[str]]:
    """The lines of every block after the header, NOTE, STYLE and REGION blocks dropped."""
    header = blocks[0].split("\n")
    result: list[list[str]] = []
    # The header may carry metadata lines (Kind:, Language:); sloppy writers also run the
    # first cue into it without the blank line the format requires.
    for index, line in enumerate(header[1:], start=1):
        if TIMING_LINE.match(line):
            result.append(header[index:])
            break
    for block in blocks[1:]:
        lines = block.split("\n")
        if not VTT_NON_CUE.match(lines[0]):
            result.append(lines)
    return result


def parse_srt(text: str) -> ParsedEpisode:
    """Parse SRT subtitles; speakers from `Name:` prefixes, `>> Name:` included."""
    cues: list[_Cue] = []
    for block in _blocks(text):
        lines = block.split("\n")
        if cue := _cue(lines, len(cues) + 1):
            cues.append(cue)
        elif CUE_NUMBER.match(lines[0]):
            raise ParseError(
                f"caption cue {lines[0].strip()} has no timing line like "
                "'00:00:01,000 --> 00:00:04,000'"
            )
        elif cues:
            # A blank line inside a cue's text splits it into what looks like two blocks.
            cues[-1].text_lines.extend(lines)
    return _episode(cues, "srt", "00:00:01,000 --> 00:00:04,000")


def _blocks(text: str) -> list[str]:
    """Blank-line separated blocks, with line endings normalised and empty blocks dropped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [block.strip("\n") for block in BLOCK_BREAK.split(normalised) if block.strip()]


def _cue(lines: list[str], cue_number: int) -> _Cue | None:
    """The cue in a block whose timing line comes first or after an identifier; else None."""
    for index in range(min(2, len(lines))):
        if timing := TIMING_LINE.match(lines[index]):
            return _Cue(_seconds(timing.group("start")), lines[index + 1 :])
        if "-->" in lines[index]:
            shown = " ".join(lines[index].split())[:60]
            raise ParseError(f"caption cue {cue_number} has a malformed timing line: '{shown}'")
    return None


def _seconds(stamp: str) -> float:
    match = TIMESTAMP_PARTS.fullmatch(stamp)
    if match is None:  # unreachable: TIMING_LINE only lets well-formed stamps through
        raise ParseError(f"'{stamp}' is not a caption time stamp")
    hours, minutes, seconds, millis = match.groups()
    total_ms = (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)) * 1000
    total_ms += int((millis or "0").ljust(3, "0"))
    # One division of exact integers gives the float nearest the written decimal.
    return total_ms / 1000


def _clean(text: str) -> str:
    return " ".join(html.unescape(MARKUP.sub("", text)).split())


def _prefixed_speaker(line: str) -> tuple[str | None, str]:
    """Split `Name: text`; a line that names nobody comes back with None."""
    line = DIALOGUE_MARKER.sub("", line)
    match = SPEAKER_PREFIX.match(line)
    if match is None:
        return None, line
    name = " ".join(match.group("name").split())
    # Auto-generated captions are often lower case; a lower-case "so here's the thing:"
    # is speech, while people's names and "SPEAKER 1" labels are capitalised.
    too_long = len(name) > MAX_SPEAKER_CHARS
    if too_long or name[0].islower() or name.split()[-1].lower() in URL_SCHEMES:
        return None, line
    return name, (match.group("text") or "").strip()


def _voiced_lines(raw_lines: list[str]) -> list[tuple[str | None, str]]:
    """A cue's non-empty text lines, each with the speaker it names (None: nobody)."""
    pieces = VOICE_TAG.split("\n".join(raw_lines))
    # re.split alternates text and captured voice names: text, name, text, name, text...
    segments: list[tuple[str | None, str]] = [(None, pieces[0])]
    for index in range(1, len(pieces), 2):
        voice = " ".join((pieces[index] or "").split()) or None
        segments.append((voice, pieces[index + 1]))

    result: list[tuple[str | None, str]] = []
    for voice, segment in segments:
        for raw in segment.split("\n"):
            line = _clean(raw)
            if not line:
                continue
            if voice is not None:
                result.append((voice, line))
                continue
            speaker, said = _prefixed_speaker(line)
            if said:
                result.append((speaker, said))
            elif speaker is not None:
                result.append((speaker, ""))  # `Name:` alone: the name still switches turns
    return result


def _drop_rolling_repeat(
    lines: list[tuple[str | None, str]], previous: list[str]
) -> list[tuple[str | None, str]]:
    """Remove the start of a cue that repeats the end of the previous one.

    Auto-generated captions scroll: each cue shows the previous cue's last line again
    before the new words, so without this every sentence would be said twice.
    """
    texts = [said for _, said in lines]
    for overlap in range(min(len(texts), len(previous)), 0, -1):
        if texts[:overlap] == previous[-overlap:]:
            return lines[overlap:]
    if lines and previous and texts[0].startswith(previous[-1] + " "):
        speaker, said = lines[0]
        return [(speaker, said[len(previous[-1]) :].strip()), *lines[1:]]
    return lines


def _turns(cues: Iterable[_Cue]) -> list[Turn]:
    merged: list[tuple[str, float, list[str]]] = []
    current: str | None = None
    previous: list[str] = []
    for cue in cues:
        lines = _voiced_lines(cue.text_lines)
        fresh = _drop_rolling_repeat(lines, previous)
        previous = [said for _, said in lines]
        for speaker, said in fresh:
            current = speaker or current or UNNAMED_SPEAKER
            if not merged or merged[-1][0] != current:
                merged.append((current, cue.start_seconds, []))
            merged[-1][2].append(said)
    return number_turns(merged)


def _episode(cues: list[_Cue], source_format: str, timing_example: str) -> ParsedEpisode:
    if not cues:
        raise ParseError(f"no caption cues found: expected timing lines like '{timing_example}'")
    turns = _turns(cues)
    if not turns:
        raise ParseError("no speaker turns found: every caption cue is empty")
    return ParsedEpisode(title="", source_format=source_format, turns=turns)
