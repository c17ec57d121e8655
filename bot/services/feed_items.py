"""Loading one feed item into the library: fetch the transcript it offers, ingest it through
the same pipeline as a file (described by the feed: title, guest, date, link), and store its
chapters. What went wrong is kept on the item in one sentence: an item without a transcript,
or whose fetch failed, waits for a later poll; one whose transcript cannot be read is broken
and skipped."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.ingest.chapters import ChaptersError, parse_chapters
from bot.ingest.feed import TRANSCRIPT_FORMATS
from bot.ingest.fetching import CHAPTERS_BYTES, TRANSCRIPT_BYTES, Fetcher, FetchError
from bot.ingest.model import ParseError
from bot.ingest.pipeline import Described, derived_slug, prepare_text, slugify, store_prepared
from bot.services.library import Library
from db.episodes import get_episode, version_by_slug
from db.feeds import set_chapters
from db.models import Feed, FeedItemRow

log = logging.getLogger(__name__)

# A transcript whose fetch failed this many polls in a row is given up on (broken).
MAX_TRIES = 5


@dataclass(frozen=True)
class Loaded:
    """What loading an item did: its new state, the slug stored (when loaded), and why it
    waits or is broken."""

    state: str
    slug: str | None = None
    note: str | None = None
    # 1 when this was a failed try that counts towards MAX_TRIES (a fetch or store that
    # failed); waiting for a transcript the feed does not offer yet is not one.
    failed_try: int = 0


def _text_of(data: bytes, content_type: str | None) -> str:
    """A fetched transcript as text: its declared charset, else UTF-8; bytes that are not
    text in it become U+FFFD rather than failing the episode."""
    charset = "utf-8"
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"').lower()
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    # NUL is no text, and PostgreSQL refuses to store it: dropped.
    text = text.replace("\x00", "")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def load_item(library: Library, fetcher: Fetcher, feed: Feed, item: FeedItemRow) -> Loaded:
    """Fetch, ingest and describe one waiting item into `library` (its feed's workspace's).
    Expected failures come back as a state and a note; the caller catches the rest."""
    if not item.transcript_url or not item.transcript_type:
        return Loaded("waiting", note="the feed offers no transcript for it yet")
    try:
        fetched = fetcher.get(item.transcript_url, limit=TRANSCRIPT_BYTES)
    except FetchError as exc:
        return _failed_try(item, f"its transcript could not be fetched: {exc}")
    text = _text_of(fetched.body, fetched.content_type)
    described = Described(
        title=item.title,
        guest=item.guest,
        published_on=item.published_at.date() if item.published_at else None,
        source_url=item.link,
        summary=item.summary,
    )
    # Names the item in messages only; its slugs, so a title's "/" makes no path of it.
    label = Path(slugify(feed.title)) / slugify(item.title)
    try:
        prepared = prepare_text(
            text,
            label,
            fmt=TRANSCRIPT_FORMATS.get(item.transcript_type, "auto"),
            slug=_free_slug(library, derived_slug(item.title)),
            described=described,
        )
    except ParseError as exc:
        return Loaded("broken", note=f"its transcript cannot be read: {exc}")
    result = store_prepared(library.sessions, prepared)
    if result.failed or result.slug is None:
        return _failed_try(item, f"it could not be stored: {result.message}")
    # An episode found already stored (another workspace's, or another source of it) keeps
    # the chapters it has: one feed may not rewrite what another's readers see.
    if result.status in ("ingested", "replaced"):
        _store_chapters(library, fetcher, item, result.slug)
    return Loaded("ingested", slug=result.slug)


def _failed_try(item: FeedItemRow, note: str) -> Loaded:
    """A failed try: waiting for the next poll, broken after MAX_TRIES in all."""
    state = "broken" if item.tries + 1 >= MAX_TRIES else "waiting"
    return Loaded(state, note=note, failed_try=1)


def _free_slug(library: Library, slug: str) -> str:
    """`slug`, or `slug-2`, `-3`... when an episode has it already: two shows' "Episode 1"
    are two episodes (the same transcript again is still found, by its content)."""
    with library.sessions() as session:
        for candidate in [slug, *(f"{slug[:95]}-{n}" for n in range(2, 100))]:
            if version_by_slug(session, candidate) is None:
                return candidate
    return slug


def _store_chapters(library: Library, fetcher: Fetcher, item: FeedItemRow, slug: str) -> None:
    """The item's chapters, when it links to a readable chapters file; an episode without
    them is still an episode, so a failure is only logged."""
    if not item.chapters_url:
        return
    try:
        chapters = parse_chapters(fetcher.get(item.chapters_url, limit=CHAPTERS_BYTES).body)
    except (FetchError, ChaptersError) as exc:
        log.warning("chapters of %r not stored: %s", item.title, exc)
        return
    with library.sessions.begin() as session:
        episode = get_episode(session, slug)
        if episode is not None:
            set_chapters(session, episode.id, chapters)
