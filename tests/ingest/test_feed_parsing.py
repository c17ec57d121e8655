"""Reading podcast RSS feeds: channel and items, Podcasting 2.0 transcripts (the best one
picked by type, then language), chapters and guests, dates in both the forms feeds use,
items known by what they have, and hostile or broken documents refused in one sentence."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from bot.ingest.feed import MAX_TEXT, FeedError, FeedItem, TranscriptLink, parse_feed
from tests.fakes.feed_server import BILLION_LAUGHS, EXTERNAL_ENTITY, Item, Transcript, rss

CDN = "https://cdn.example.com/show"


def _item(transcripts: tuple[TranscriptLink, ...]) -> FeedItem:
    return FeedItem("g", "T", None, None, None, transcripts, None, None)


def _only(item: Item, *, language: str | None = "en") -> FeedItem:
    parsed = parse_feed(rss("The Show", [item], language=language))
    assert parsed.skipped == ()
    [read] = parsed.items
    return read


def _one_sentence(message: str) -> None:
    assert message and "\n" not in message and message.count(". ") == 0, message


def test_a_real_shaped_feed_is_read_whole() -> None:
    episode = Item(
        guid="ep-42",
        title="Episode 42: Pricing & value",
        published="Mon, 02 Nov 2026 10:00:00 GMT",
        link="https://example.com/episodes/42",
        audio=f"{CDN}/42.mp3",
        transcripts=(
            Transcript(f"{CDN}/42.vtt", "text/vtt", "en", "captions"),
            Transcript(f"{CDN}/42.txt", "text/plain", "en"),
        ),
        chapters=f"{CDN}/42.chapters.json",
        guest="Ann Example",
    )
    parsed = parse_feed(rss("The Pricing Show", [episode], language="en-GB"))
    assert (parsed.title, parsed.language, parsed.skipped) == ("The Pricing Show", "en", ())
    [item] = parsed.items
    assert item.guid == "ep-42"
    assert item.title == "Episode 42: Pricing & value"
    assert item.published == datetime(2026, 11, 2, 10, 0)
    assert item.link == "https://example.com/episodes/42"
    assert item.audio_url == f"{CDN}/42.mp3"
    assert item.chapters_url == f"{CDN}/42.chapters.json"
    assert item.guest == "Ann Example"
    assert item.transcripts == (
        TranscriptLink(f"{CDN}/42.vtt", "text/vtt", "en", "captions"),
        TranscriptLink(f"{CDN}/42.txt", "text/plain", "en", None),
    )


def test_items_keep_the_feeds_order_and_a_guest_is_only_a_guest() -> None:
    host_only = Item(guid="b", title="B")
    parsed = parse_feed(rss("Show", [Item(guid="a", title="A", guest="Bo"), host_only]))
    assert [(i.guid, i.guest) for i in parsed.items] == [("a", "Bo"), ("b", None)]
    # A host is a person too, but not the one an episode is about.
    hosted = rss("Show", [Item(guid="c", title="C")]).replace(
        b"</item>", b'<podcast:person role="host">Hal Host</podcast:person></item>'
    )
    assert parse_feed(hosted).items[0].guest is None


@pytest.mark.parametrize(
    ("offered", "picked"),
    [
        (("text/plain", "text/html", "application/x-subrip", "application/json"), "json"),
        (("text/plain", "text/html", "text/srt", "text/vtt"), "vtt"),
        (("text/plain", "text/html", "application/srt"), "srt"),
        (("text/plain", "text/html"), "html"),
        (("text/plain",), "auto"),
    ],
)
def test_the_best_transcript_type_is_picked(offered: tuple[str, ...], picked: str) -> None:
    item = _only(
        Item(
            guid="g",
            title="T",
            transcripts=tuple(Transcript(f"{CDN}/t{n}", kind) for n, kind in enumerate(offered)),
        )
    )
    best = item.best_transcript("en")
    assert best is not None and best.format == picked


def test_json_and_vtt_rank_alike_so_the_feeds_first_is_kept() -> None:
    item = _only(
        Item(
            guid="g",
            title="T",
            transcripts=(
                Transcript(f"{CDN}/t.srt", "application/x-subrip"),
                Transcript(f"{CDN}/t.vtt", "text/vtt"),
                Transcript(f"{CDN}/t.json", "application/json"),
            ),
        )
    )
    best = item.best_transcript()
    assert best is not None and best.url == f"{CDN}/t.vtt"


def test_a_type_with_parameters_and_capitals_is_still_known() -> None:
    item = _only(
        Item(guid="g", title="T", transcripts=(Transcript(f"{CDN}/t", "Text/VTT; charset=utf-8"),))
    )
    best = item.best_transcript()
    assert best is not None and (best.type, best.format) == ("text/vtt", "vtt")


def test_the_feeds_language_is_preferred_within_a_type() -> None:
    item = _only(
        Item(
            guid="g",
            title="T",
            transcripts=(
                Transcript(f"{CDN}/es.vtt", "text/vtt", "es"),
                Transcript(f"{CDN}/en.vtt", "text/vtt", "en-US"),
                Transcript(f"{CDN}/en.txt", "text/plain", "en"),
            ),
        )
    )
    assert item.best_transcript("en") == TranscriptLink(f"{CDN}/en.vtt", "text/vtt", "en-US")
    assert item.best_transcript("es") == TranscriptLink(f"{CDN}/es.vtt", "text/vtt", "es")
    # A language the item has not: the best type still, not nothing.
    picked = item.best_transcript("de")
    assert picked is not None and picked.type == "text/vtt"


def test_language_tags_are_compared_by_their_primary_subtag_in_any_case() -> None:
    item = _item(
        (
            TranscriptLink(f"{CDN}/fr.vtt", "text/vtt", "fr"),
            TranscriptLink(f"{CDN}/en.vtt", "text/vtt", "EN-us"),
        )
    )
    best = item.best_transcript("en")
    assert best is not None and best.url == f"{CDN}/en.vtt"
    best = item.best_transcript("en-GB")
    assert best is not None and best.url == f"{CDN}/en.vtt"


def test_language_never_beats_type() -> None:
    item = _item(
        (
            TranscriptLink(f"{CDN}/en.txt", "text/plain", "en"),
            TranscriptLink(f"{CDN}/fr.vtt", "text/vtt", "fr"),
        )
    )
    best = item.best_transcript("en")
    assert best is not None and best.url == f"{CDN}/fr.vtt"


def test_an_item_without_a_readable_transcript_has_none() -> None:
    bare = _only(Item(guid="g", title="T", audio=f"{CDN}/a.mp3"))
    assert bare.transcripts == () and bare.best_transcript("en") is None
    unreadable = _only(
        Item(guid="g", title="T", transcripts=(Transcript(f"{CDN}/t.pdf", "application/pdf"),))
    )
    assert len(unreadable.transcripts) == 1 and unreadable.best_transcript("en") is None


def test_a_transcript_without_url_or_type_is_left_out() -> None:
    document = rss("Show", [Item(guid="g", title="T")]).replace(
        b"</item>",
        b'<podcast:transcript type="text/vtt"/><podcast:transcript url="https://x/t"/></item>',
    )
    assert parse_feed(document).items[0].transcripts == ()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Mon, 02 Nov 2026 10:00:00 GMT", datetime(2026, 11, 2, 10, 0)),
        ("Mon, 02 Nov 2026 10:00:00 +0200", datetime(2026, 11, 2, 8, 0)),  # kept in UTC
        ("Tue, 3 Nov 2026 09:30:00 -0500", datetime(2026, 11, 3, 14, 30)),
        ("2026-11-02T10:00:00Z", datetime(2026, 11, 2, 10, 0)),
        ("2026-11-02T10:00:00+01:00", datetime(2026, 11, 2, 9, 0)),
        ("2026-11-02", datetime(2026, 11, 2)),
        ("sometime last week", None),
    ],
)
def test_dates_in_rfc_822_and_iso_8601(written: str, read: datetime | None) -> None:
    assert _only(Item(guid="g", title="T", published=written)).published == read


def test_an_item_without_guid_is_known_by_its_link_then_audio_then_title() -> None:
    """The link before the audio, and the audio without its query: hosts sign audio URLs
    anew, and an item known by a URL that changes would be a new episode at every poll."""
    items = [
        Item(title="By link", audio=f"{CDN}/1.mp3", link="https://example.com/1"),
        Item(title="By audio", audio=f"{CDN}/2.mp3?sig=abc&exp=1"),
        Item(title="By title"),
        Item(audio=f"{CDN}/4.mp3"),  # no title either: it is called by what it is known by
    ]
    parsed = parse_feed(rss("Show", items))
    assert [(i.guid, i.title) for i in parsed.items] == [
        ("https://example.com/1", "By link"),
        (f"{CDN}/2.mp3", "By audio"),
        ("By title", "By title"),
        (f"{CDN}/4.mp3", f"{CDN}/4.mp3"),
    ]


def test_an_item_with_nothing_to_know_it_by_is_skipped_with_a_line() -> None:
    items = [Item(guid="a", title="A"), Item(published="Mon, 02 Nov 2026 10:00:00 GMT")]
    parsed = parse_feed(rss("Show", [*items, Item(guid="c", title="C")]))
    assert [i.guid for i in parsed.items] == ["a", "c"]
    assert parsed.skipped == ("item 2: it has no guid, title, link or audio to know it by",)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (BILLION_LAUGHS, "declares XML entities"),
        (EXTERNAL_ENTITY, "declares XML entities"),
    ],
)
def test_entities_are_refused_at_once(document: bytes, says: str) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match=says) as refused:
        parse_feed(document)
    assert time.monotonic() - started < 1  # not one "lol" expanded, no file read
    _one_sentence(str(refused.value))
    assert "root:" not in str(refused.value)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (b"", "not well-formed XML"),
        (b"Not Found", "not well-formed XML"),
        (b"<html><body>Moved</body>", "not well-formed XML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not well-formed XML"),
        (b"<rss><channel><title>cut off", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="bogus"?><rss/>', "text encoding"),
        (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>', "not an RSS feed"),
        (b"<html><body><p>A page</p></body></html>", "not an RSS feed"),
        (b'<rss version="2.0"></rss>', "not an RSS feed"),
    ],
)
def test_what_is_not_an_rss_feed_is_refused_in_one_sentence(document: bytes, says: str) -> None:
    with pytest.raises(FeedError, match=says) as refused:
        parse_feed(document)
    _one_sentence(str(refused.value))


def test_a_feed_without_title_or_language_still_reads() -> None:
    parsed = parse_feed(b'<rss version="2.0"><channel><item><guid>x</guid></item></channel></rss>')
    assert (parsed.title, parsed.language) == ("Untitled feed", None)
    assert [(i.guid, i.title) for i in parsed.items] == [("x", "x")]


def test_huge_text_is_cut_and_whitespace_folded() -> None:
    huge = "word " * 100_000
    parsed = parse_feed(
        rss(huge, [Item(guid="g", title=f"  A\n\t{huge}", audio=f"{CDN}/{'a' * 10_000}.mp3")])
    )
    assert len(parsed.title) == 500 and parsed.title.startswith("word word")
    [item] = parsed.items
    assert len(item.title) == MAX_TEXT and item.title.startswith("A word word")
    assert item.audio_url is not None and len(item.audio_url) == MAX_TEXT


def test_a_huge_audio_url_standing_in_for_the_guid_is_cut_too() -> None:
    [item] = parse_feed(rss("Show", [Item(audio=f"{CDN}/{'a' * 10_000}.mp3")])).items
    assert len(item.guid) == MAX_TEXT and item.guid == item.audio_url
