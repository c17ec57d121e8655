"""A podcast's RSS feed -> its title and items: each item's guid, title, date, link, audio,
the transcripts it offers (Podcasting 2.0 `<podcast:transcript>`, several per item, each
with a type, language and rel) and its chapters (`<podcast:chapters>`).

Feeds are hostile input: parsed by defusedxml, which refuses entity declarations (the
billion laughs) and external entities; an item that cannot be read is skipped with a reason
rather than failing the feed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

PODCAST = "{https://podcastindex.org/namespace/1.0}"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
TAGS = re.compile(r"<[^>]*>")
BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
# The transcript types worth fetching, best first (the order): JSON and WebVTT keep
# speakers and times, SRT times, HTML often speakers, plain text neither.
TRANSCRIPT_RANKS = {
    "application/json": 0,
    "text/vtt": 0,
    "application/x-subrip": 1,
    "application/srt": 1,
    "text/srt": 1,
    "text/html": 2,
    "text/plain": 3,
}
# What each type is read as by the ingest pipeline.
TRANSCRIPT_FORMATS = {
    "application/json": "json",
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/html": "html",
    "text/plain": "auto",
}
MAX_TEXT = 2000  # characters kept of a title or link: a feed may say anything


class FeedError(ValueError):
    """The document is not a feed that can be read; one plain sentence."""


@dataclass(frozen=True)
class TranscriptLink:
    """One transcript an item offers."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None

    @property
    def format(self) -> str:
        """The ingest format it is read as."""
        return TRANSCRIPT_FORMATS[self.type]


@dataclass(frozen=True)
class FeedItem:
    """One episode as the feed lists it."""

    guid: str
    title: str
    published: datetime | None
    link: str | None
    audio_url: str | None
    transcripts: tuple[TranscriptLink, ...]
    chapters_url: str | None
    guest: str | None
    # What the show notes say the episode is about, as plain text.
    description: str | None = None

    def best_transcript(self, language: str | None = None) -> TranscriptLink | None:
        """The transcript to fetch: the best type, in the feed's language when it offers
        one in it; None when it offers none of the types read."""
        readable = [t for t in self.transcripts if t.type in TRANSCRIPT_RANKS]
        if not readable:
            return None
        wanted = _primary(language)

        def rank(link: TranscriptLink) -> tuple[int, int]:
            # "en-US" is in the feed's "en": only the primary subtags are compared.
            theirs = _primary(link.language)
            other_language = bool(wanted and theirs and theirs != wanted)
            return TRANSCRIPT_RANKS[link.type], int(other_language)

        return min(readable, key=rank)


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title, language and the items read (newest first, as feeds list them),
    and a line for each item skipped."""

    title: str
    language: str | None
    items: tuple[FeedItem, ...]
    skipped: tuple[str, ...] = ()


def _primary(language: str | None) -> str | None:
    """A language tag's primary subtag, lowercased: "en-US" -> "en"."""
    return (language or "").strip().split("-")[0].split("_")[0].lower() or None


def _text(element: Element | None, limit: int = MAX_TEXT) -> str | None:
    if element is None or element.text is None:
        return None
    text = " ".join(element.text.split())
    return text[:limit] or None


def _url(element: Element | None) -> str | None:
    # Cut here, not only when stored: the audio URL can stand in for the guid.
    if element is None:
        return None
    return (element.get("url") or "").strip()[:MAX_TEXT] or None


def _raw(element: Element | None) -> str | None:
    return element.text if element is not None and element.text else None


def _plain(html: str | None, limit: int = 1000) -> str | None:
    """Show notes as plain text: tags dropped, entities decoded, white space collapsed."""
    if not html:
        return None
    text = " ".join(unescape(TAGS.sub(" ", html)).split())
    text = BEFORE_PUNCTUATION.sub(r"\1", text)  # "<b>pricing</b>," left "pricing ,"
    return text[:limit] or None


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    if when.tzinfo is not None:
        try:
            when = when.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # the year 9999 a time zone pushes past the calendar
            return None
    return when


def _transcripts(item: Element) -> tuple[TranscriptLink, ...]:
    found = []
    for tag in item.findall(f"{PODCAST}transcript"):
        url = (tag.get("url") or "").strip()
        kind = (tag.get("type") or "").split(";")[0].strip().lower()
        if url and kind:
            found.append(TranscriptLink(url[:MAX_TEXT], kind, tag.get("language"), tag.get("rel")))
    return tuple(found)


def _guest(item: Element) -> str | None:
    for person in item.findall(f"{PODCAST}person"):
        if (person.get("role") or "").lower() == "guest":
            return _text(person, 200)
    return None


def _item(item: Element) -> FeedItem:
    title = _text(item.find("title"))
    audio = _url(item.find("enclosure"))
    # Without a guid, the link before the audio: hosts add signed or tracking queries to
    # audio URLs, and an item known by a URL that changes would be new at every poll.
    link = _text(item.find("link"))
    guid = _text(item.find("guid")) or link or (audio or "").split("?")[0] or title
    if not guid:
        raise FeedError("it has no guid, title, link or audio to know it by")
    return FeedItem(
        guid=guid,
        title=title or guid,
        published=_date(_text(item.find("pubDate"))),
        link=_text(item.find("link")),
        audio_url=audio,
        transcripts=_transcripts(item),
        chapters_url=_url(item.find(f"{PODCAST}chapters")),
        guest=_guest(item),
        description=_plain(_raw(item.find("description")) or _raw(item.find(f"{ITUNES}summary"))),
    )


def parse_feed(data: bytes) -> ParsedFeed:
    """The feed in `data` (RSS 2.0). Raises FeedError for what is not a readable feed."""
    try:
        root = fromstring(data)
    except DefusedXmlException:
        raise FeedError("the feed declares XML entities or a DTD, which are refused") from None
    except ParseError as exc:
        raise FeedError(f"the feed is not well-formed XML ({exc})") from None
    except (LookupError, ValueError):
        # expat knows no such encoding, or refuses a multi-byte one such as Shift_JIS
        raise FeedError("the feed is in a text encoding that cannot be read") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FeedError("the document is not an RSS feed (no <rss><channel>)")
    items: list[FeedItem] = []
    skipped: list[str] = []
    for number, element in enumerate(channel.findall("item"), start=1):
        try:
            items.append(_item(element))
        except FeedError as exc:
            skipped.append(f"item {number}: {exc}")
    return ParsedFeed(
        title=_text(channel.find("title"), 500) or "Untitled feed",
        language=_primary(_text(channel.find("language"), 20)),
        items=tuple(items),
        skipped=tuple(skipped),
    )
