"""HTML transcripts (`<podcast:transcript type="text/html">`). The Podcasting 2.0 shape is
`<cite>Speaker:</cite><time>0:00</time><p>What they said.</p>` repeated, the cite and time
left out on paragraphs that continue the same speaker; consecutive paragraphs of one speaker
become one turn. A page with no `<cite>` is read as `Speaker: text` paragraphs instead.

Read with the standard library's html.parser: the text is only ever data (nothing is run or
fetched), and script and style contents are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from bot.ingest import plain
from bot.ingest.captions import UNNAMED_SPEAKER
from bot.ingest.model import ParsedEpisode, ParseError, number_turns

HTML_START = re.compile(
    r"\A\ufeff?\s*<(?:!--|\?xml|(?:!doctype|html|head|body|meta|title|cite|time|p|div|section"
    r"|article|main|h[1-6])[\s/>])",
    re.IGNORECASE,
)
# H:MM:SS, MM:SS (minutes may pass 59) or plain seconds, with optional fractions.
TIME = re.compile(r"(?:(?:(?P<h>\d{1,4}):)?(?P<m>\d{1,4}):)?(?P<s>\d{1,6}(?:[.,]\d{1,3})?)")
CAPTURED = frozenset({"cite", "time", "title"})
SKIPPED = frozenset({"script", "style"})
# The store keeps at most 200 characters of a speaker; a longer "name" is not one.
MAX_SPEAKER_CHARS = 100
MAX_TITLE_CHARS = 120
SNIFF_CHARS = 200_000
# Stands for <br> while a paragraph is collected: the source's own newlines are only wrapping.
BREAK = "\x00"
NO_TURNS = (
    "no speaker turns found in the HTML: expected '<cite>Speaker:</cite>' before '<p>' "
    "paragraphs, or paragraphs like 'Speaker Name: text'"
)


@dataclass
class _Paragraph:
    speaker: str | None  # None: said before any <cite>
    start: float | None
    text: str  # one line per <br>-separated line, white space collapsed


class _Collector(HTMLParser):
    """The paragraphs, each with the speaker and time in force when it was said; the title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[_Paragraph] = []
        self.title = ""
        self.cited = False
        self._speaker: str | None = None
        self._start: float | None = None
        self._in_paragraph = False
        self._text: list[str] = []
        self._capture: str | None = None
        self._captured: list[str] = []
        self._skipping = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self._skipping = True
        elif tag in CAPTURED:
            if tag == "cite":  # `<p><cite>Ann:</cite> hi</p>`: what came before was not Ann's
                self._end_paragraph()
            self._capture, self._captured = tag, []
        elif tag == "p":
            self._end_capture()  # an unclosed <cite> must not swallow the speech after it
            self._end_paragraph()
            self._in_paragraph = True
        elif tag == "br" and self._in_paragraph:
            self._text.append(BREAK)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self._skipping = False
        elif tag == self._capture:
            self._end_capture()
        elif tag == "p":
            self._end_paragraph()
            self._in_paragraph = False

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._capture:
            self._captured.append(data)
        elif self._in_paragraph:
            self._text.append(data.replace(BREAK, " "))

    def close(self) -> None:
        super().close()
        self._end_capture()
        self._end_paragraph()

    def _end_capture(self) -> None:
        said = " ".join("".join(self._captured).split())
        if self._capture == "cite" and (name := said.rstrip(":").rstrip()):
            self._speaker, self.cited = name, True
        elif self._capture == "time" and (seconds := _seconds(said)) is not None:
            self._start = seconds
        elif self._capture == "title" and len(said) <= MAX_TITLE_CHARS:
            self.title = self.title or said
        self._capture, self._captured = None, []

    def _end_paragraph(self) -> None:
        lines = [" ".join(line.split()) for line in "".join(self._text).split(BREAK)]
        self._text = []
        if text := "\n".join(line for line in lines if line):
            self.paragraphs.append(_Paragraph(self._speaker, self._start, text))
            self._start = None  # a time marks where one paragraph starts, not the next


def _seconds(stamp: str) -> float | None:
    """Seconds of `H:MM:SS`, `MM:SS` or `SS`; None for anything else (the time is a hint)."""
    match = TIME.fullmatch(stamp)
    if match is None:
        return None
    hours, minutes, seconds = match.group("h"), match.group("m"), match.group("s")
    value = float(seconds.replace(",", "."))
    if (minutes is not None and value >= 60) or (hours is not None and int(minutes) >= 60):
        return None
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + value


def _collect(text: str) -> _Collector:
    collector = _Collector()
    try:
        collector.feed(text)
        collector.close()
    except AssertionError:  # html.parser's way of giving up on a broken `<!...>` declaration
        raise ParseError("the HTML is malformed: a '<!' declaration in it cannot be read") from None
    return collector


def looks_like(text: str) -> bool:
    """An HTML document with a `<cite>`, or with `Speaker: text` paragraphs."""
    if HTML_START.match(text) is None:
        return False
    try:
        collector = _collect(text[:SNIFF_CHARS])
    except ParseError:
        return True  # it is HTML; parse() says what is wrong with it
    lines = "\n".join(paragraph.text for paragraph in collector.paragraphs)
    return collector.cited or plain.looks_like(lines)


def parse(text: str) -> ParsedEpisode:
    """Parse an HTML transcript: `<cite>` speakers, `<time>` starts, `<p>` speech."""
    collector = _collect(text.lstrip("\ufeff"))
    if not collector.cited:
        try:
            episode = plain.parse("\n".join(p.text for p in collector.paragraphs))
        except ParseError:
            raise ParseError(NO_TURNS) from None
        return ParsedEpisode(collector.title or episode.title, "html", episode.turns)

    merged: list[tuple[str, float | None, list[str]]] = []
    for paragraph in collector.paragraphs:
        speaker = paragraph.speaker or UNNAMED_SPEAKER
        if len(speaker) > MAX_SPEAKER_CHARS:
            raise ParseError(f"a <cite> speaker is longer than {MAX_SPEAKER_CHARS} characters")
        if not merged or merged[-1][0] != speaker:
            merged.append((speaker, paragraph.start, []))
        merged[-1][2].append(paragraph.text)
    turns = number_turns(merged)
    if not turns:  # cites, but no paragraph to go with them
        raise ParseError(NO_TURNS)
    return ParsedEpisode(title=collector.title, source_format="html", turns=turns)
