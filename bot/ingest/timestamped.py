"""Markdown transcripts as in the community archive of Lenny's Podcast: optional YAML front
matter, `# Title`, `## Transcript`, then `Speaker Name (HH:MM:SS):` lines, each followed by
the paragraphs that speaker said. A bare `(HH:MM:SS):` line marks a new paragraph of the
same speaker."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml

from bot.ingest.model import ParsedEpisode, ParseError, Turn, number_turns

# `Speaker Name (01:02:03):` or `Speaker Name (02:03):` on a line of its own; `**bold**`
# names come from markdown editors. Minutes may run past 59 in the MM:SS form.
SPEAKER_LINE = re.compile(
    r"^[ \t]*\**(?P<speaker>[^\s(*][^()\n*]{0,79}?)\**[ \t]*"
    r"\((?:(?P<hours>\d{1,2}):)?(?P<minutes>\d{1,3}):(?P<seconds>\d{2})\)[ \t]*:[ \t]*$"
)
# The other layout in the wild: `[00:01:02] Speaker Name: what they said` on one line.
STAMPED_LINE = re.compile(
    r"^[ \t]*\[(?:(?P<hours>\d{1,2}):)?(?P<minutes>\d{1,3}):(?P<seconds>\d{2})\][ \t]*"
    r"(?P<speaker>[^\s:\[][^:\n]{0,79}?)[ \t]*:[ \t]*(?P<text>\S.*)$"
)
# Some transcripts have no times at all: `Speaker Name:` alone on a line, one to five
# capitalised words (so "Here is the thing:" in someone's speech is not taken for a name).
UNTIMED_SPEAKER_LINE = re.compile(
    r"^[ \t]*(?P<speaker>[A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,4}):[ \t]*$"
)
# A paragraph break inside one speaker's turn that carries its own time stamp.
CONTINUATION_LINE = re.compile(r"^[ \t]*\((?:\d{1,2}:)?\d{1,3}:\d{2}\)[ \t]*:[ \t]*$")
TRANSCRIPT_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+transcript[ \t]*:?[ \t]*$", re.IGNORECASE)
TITLE_HEADING = re.compile(r"^[ \t]*#[ \t]+(?P<title>\S.*)$")
ANY_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S")
FRONT_MATTER_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:$|[T\s])")

# Front matter is a few hundred bytes in practice; the cap bounds what YAML may cost.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_SPEAKER_WORDS = 6
# Enough to see past a long front matter when sniffing, without reading a whole book.
SNIFF_CHARS = 200_000

TITLE_KEYS = ("title",)
GUEST_KEYS = ("guest", "guests")
DATE_KEYS = ("publish_date", "published_on", "date")
URL_KEYS = ("youtube_url", "url", "link")
SUMMARY_KEYS = ("description", "summary")


def _speaker_match(line: str) -> re.Match[str] | None:
    match = SPEAKER_LINE.match(line)
    if match is None or len(match.group("speaker").split()) > MAX_SPEAKER_WORDS:
        return None
    return match


def looks_like(text: str) -> bool:
    """Two stamped speaker lines; fewer if front matter or `## Transcript` vouch for it."""
    sample = text[:SNIFF_CHARS]
    hits = 0
    has_heading = False
    for line in sample.splitlines():
        if _speaker_match(line):
            hits += 1
            if hits >= 2:
                return True
        elif TRANSCRIPT_HEADING.match(line):
            has_heading = True
    has_front_matter = FRONT_MATTER_OPEN.match(sample) is not None
    if hits == 1:
        return has_front_matter or has_heading
    # Front matter plus `## Transcript` is the archive's shape even with no turns yet, so
    # such a file reaches parse() and gets its specific error; a heading alone is not
    # enough, as a markdown file of `Name: text` lines is plain and may have one too.
    return has_front_matter and has_heading


def _split_front_matter(text: str) -> tuple[str | None, str]:
    """The raw front matter (None if the file has none) and the markdown after it."""
    opening = FRONT_MATTER_OPEN.match(text)
    if opening is None:
        return None, text
    closing = FRONT_MATTER_CLOSE.search(text, opening.end())
    if closing is None:
        raise ParseError(
            "the YAML front matter is malformed: it starts with '---' but has no closing '---' line"
        )
    return text[opening.end() : closing.start()], text[closing.end() :]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line describing a YAML error; PyYAML's own message spans several lines."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        where = ""
        if exc.problem_mark is not None:
            # +2: the mark is 0-based and the front matter starts after the opening '---'.
            where = f" on line {exc.problem_mark.line + 2}"
        return " ".join(f"{exc.problem}{where}".split())
    return "it is not valid YAML"


def _load_front_matter(raw: str) -> dict[Any, Any]:
    """Parse the front matter; anything but a mapping carries no metadata we can use."""
    if len(raw.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise ParseError(
            f"the YAML front matter is larger than {MAX_FRONT_MATTER_BYTES // 1024} KB, "
            "which is too large to be episode metadata"
        )
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ParseError(f"the YAML front matter is malformed: {_yaml_problem(exc)}") from None
    except ValueError as exc:
        # safe_load raises this for impossible values such as `date: 2024-02-30`.
        detail = " ".join(str(exc).split()) or "it holds an impossible value"
        raise ParseError(f"the YAML front matter is malformed: {detail}") from None
    except RecursionError:
        raise ParseError("the YAML front matter is malformed: it is nested too deeply") from None
    _reject_shared_containers(data)
    return data if isinstance(data, dict) else {}


def _reject_shared_containers(data: object) -> None:
    """Refuse lists or mappings reached twice, i.e. repeated through YAML aliases.

    safe_load keeps an alias as a reference, so a "billion laughs" bomb loads small; it only
    explodes when something walks or prints it. Metadata never needs aliases, so rather than
    trusting every later reader to be careful, such front matter is rejected here. Each
    container is entered once, so this costs no more than the front matter's own size.
    """
    seen: set[int] = set()
    stack: list[object] = [data]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if id(node) in seen:
            raise ParseError(
                "the YAML front matter repeats lists or mappings through YAML aliases "
                "(&anchor and *alias), which episode metadata must not do"
            )
        seen.add(id(node))
        stack.extend(node.values() if isinstance(node, dict) else node)


def _scalar(value: object) -> str | None:
    """A metadata value as text; lists and mappings are never expanded (alias bombs)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        return None
    text = " ".join(str(value).split())
    return text or None


def _first_scalar(data: dict[Any, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if (text := _scalar(data.get(key))) is not None:
            return text
    return None


def _guest(data: dict[Any, Any]) -> str | None:
    for key in GUEST_KEYS:
        value = data.get(key)
        # A list of guests is joined only when every item is a plain scalar; nested values
        # are skipped without being walked, so aliases cannot make this expensive.
        if isinstance(value, list):
            names = [_scalar(item) for item in value]
            if names and all(names):
                return ", ".join(name for name in names if name)
        elif (text := _scalar(value)) is not None:
            return text
    return None


def _published_on(data: dict[Any, Any]) -> date | None:
    for key in DATE_KEYS:
        value = data.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and (match := ISO_DATE.match(value)):
            try:
                return date.fromisoformat(match.group(1))
            except ValueError:
                continue  # e.g. '2024-13-01': an unusable date is no date
    return None


def _apply_metadata(data: dict[Any, Any], episode: ParsedEpisode) -> None:
    episode.title = _first_scalar(data, TITLE_KEYS) or ""
    episode.guest = _guest(data)
    episode.published_on = _published_on(data)
    episode.source_url = _first_scalar(data, URL_KEYS)
    episode.summary = _first_scalar(data, SUMMARY_KEYS)


def _transcript_lines(lines: list[str]) -> list[str]:
    """The lines after `## Transcript`, or every line when the heading is missing."""
    for index, line in enumerate(lines):
        if TRANSCRIPT_HEADING.match(line):
            return lines[index + 1 :]
    return lines


def _heading_title(lines: list[str]) -> str:
    """The first `# ` heading before the turns start: a `#` line in a turn is not a title."""
    for line in lines:
        if _speaker_match(line):
            break
        if match := TITLE_HEADING.match(line):
            return " ".join(match.group("title").split())
    return ""


def _stamp_seconds(match: re.Match[str]) -> float:
    hours = int(match.group("hours") or 0)
    return float(hours * 3600 + int(match.group("minutes")) * 60 + int(match.group("seconds")))


def _read_turns(lines: list[str]) -> list[Turn]:
    pending: list[tuple[str, float | None, list[str]]] = []
    collecting = False
    for line in lines:
        if match := _speaker_match(line):
            speaker = " ".join(match.group("speaker").split())
            pending.append((speaker, _stamp_seconds(match), []))
            collecting = True
        elif untimed := UNTIMED_SPEAKER_LINE.match(line):
            pending.append((untimed.group("speaker"), None, []))
            collecting = True
        elif stamped := STAMPED_LINE.match(line):
            speaker = " ".join(stamped.group("speaker").split())
            pending.append((speaker, _stamp_seconds(stamped), [stamped.group("text")]))
            collecting = True
        elif CONTINUATION_LINE.match(line):
            continue  # the same speaker goes on; the turn keeps its first time stamp
        elif ANY_HEADING.match(line):
            # Trailing sections (show notes, links) are not part of the last turn.
            collecting = False
        elif collecting:
            pending[-1][2].append(line)
    return number_turns(pending)


def parse(text: str) -> ParsedEpisode:
    """Parse a timestamped markdown transcript, with metadata from its YAML front matter."""
    raw_front_matter, body = _split_front_matter(text)
    episode = ParsedEpisode(title="", source_format="timestamped", turns=[])
    if raw_front_matter is not None:
        _apply_metadata(_load_front_matter(raw_front_matter), episode)

    lines = body.splitlines()
    episode.title = episode.title or _heading_title(lines)
    episode.turns = _read_turns(_transcript_lines(lines))
    if not episode.turns:
        raise ParseError("no speaker turns found: expected lines like 'Speaker Name (00:01:02):'")
    return episode
