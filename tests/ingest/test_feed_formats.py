"""The Podcasting 2.0 transcript formats, podcast JSON and HTML, through the real pipeline into
a real database: detection beside the older formats, word-level segments merged, speakers
continued, times kept, and bad or hostile files refused with one sentence each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest import html_transcript, podcast_json
from bot.ingest.captions import UNNAMED_SPEAKER
from bot.ingest.feed import TRANSCRIPT_FORMATS
from bot.ingest.model import FORMATS
from bot.ingest.pipeline import FileResult, ingest_file
from bot.ingest.reader import detect_format
from db.models import Episode, Segment
from tests.conftest import FORMATS_DIR, SEED
from tests.ingest.test_parsers_formats import FIXTURE_FORMATS, MALFORMED

Stored = list[tuple[int, str, float | None, str]]


def _words(speaker: str | None, start: float, sentence: str) -> list[dict[str, object]]:
    """One segment a word, a tenth of a second apart, as word-timed transcripts are."""
    segments: list[dict[str, object]] = []
    for index, word in enumerate(sentence.split()):
        segment: dict[str, object] = {"startTime": round(start + index / 10, 1), "body": word}
        if speaker is not None and index == 0:
            segment["speaker"] = speaker
        segments.append(segment)
    return segments


WORD_LEVEL = json.dumps(
    {
        "version": "1.0.0",
        "segments": [
            *_words("Kevin", 0.5, "Welcome to the show about compilers"),
            {"startTime": 1.1, "endTime": 1.2, "body": "."},  # punctuation: its own segment
            *_words("Ada Example", 4, "Thanks for having me Kevin"),
            *_words(None, 6, "It is great to be here"),  # no speaker: Ada goes on
            {"speaker": "Kevin", "startTime": 9, "body": "Let's begin"},
            {"speaker": "Kevin", "startTime": 10, "body": "with parsers"},
        ],
    },
    indent=2,
)
SPEC_HTML = """<!DOCTYPE html>
<html>
<head>
  <title>Compilers &amp; Bugs</title>
  <style>cite { color: red }</style>
  <script>document.write("<cite>Mallory:</cite><p>injected</p>")</script>
</head>
<body>
  <cite>Kevin:</cite>
  <time>0:00</time>
  <p>Welcome to the show &mdash; today: compilers &amp; bugs.</p>
  <p>We have a guest.</p>
  <cite>Ada Example:</cite>
  <time>1:02:03</time>
  <p>Thanks, Kevin. &lt;script&gt;alert(1)&lt;/script&gt; is just text here.</p>
  <!-- <cite>Mallory:</cite><p>commented out</p> -->
  <cite>Kevin:</cite>
  <time>75:30</time>
  <p>Let's begin.</p>
</body>
</html>
"""


def _ingest(
    session_factory: sessionmaker[Session], folder: Path, name: str, text: str, fmt: str = "auto"
) -> FileResult:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return ingest_file(session_factory, path, fmt=fmt)


def _stored(session_factory: sessionmaker[Session], slug: str) -> tuple[str, str, Stored]:
    """The stored episode's source format, title, and turns with their parts joined."""
    with session_factory() as session:
        episode = session.scalars(select(Episode).where(Episode.slug == slug)).one()
        rows = session.execute(
            select(Segment.position, Segment.speaker, Segment.start_seconds, Segment.text)
            .where(Segment.episode_id == episode.id)
            .order_by(Segment.position, Segment.part)
        ).all()
        turns: Stored = []
        for position, speaker, start, text in rows:
            if turns and turns[-1][0] == position:  # a turn split where its kind changes
                turns[-1] = (*turns[-1][:3], f"{turns[-1][3]} {text}")
            else:
                turns.append((position, speaker, start, text))
        return episode.source_format, episode.title, turns


def _episodes(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count(Episode.id))) or 0


def _refused(result: FileResult, expected: str) -> None:
    assert result.status == "failed", result
    assert expected in result.message, result.message
    assert "\n" not in result.message and "Traceback" not in result.message


# --- podcast JSON ----------------------------------------------------------------------


def test_json_word_level_segments_merge_into_turns(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    result = _ingest(session_factory, tmp_path, "compilers.json", WORD_LEVEL)
    assert (result.status, result.turns) == ("ingested", 3), result.message
    source_format, title, turns = _stored(session_factory, "compilers")
    assert source_format == "json"
    assert title == "compilers"  # JSON carries no title: the file name gives one
    assert turns == [
        (1, "Kevin", 0.5, "Welcome to the show about compilers."),
        (2, "Ada Example", 4.0, "Thanks for having me Kevin It is great to be here"),
        (3, "Kevin", 9.0, "Let's begin with parsers"),
    ]


def test_json_without_speakers_or_times(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = json.dumps(
        {
            "segments": [
                {"body": "  no speaker named yet  "},
                {"body": "", "speaker": "Ben"},  # says nothing, so opens no turn of its own
                {"speaker": "Ann", "startTime": None, "body": "hi"},
                {"speaker": "  ", "startTime": 3, "body": "still Ann"},
                {"speaker": "Ben", "startTime": 7, "endTime": 8, "body": "hey", "extra": [1]},
            ]
        }
    )
    result = _ingest(session_factory, tmp_path, "unnamed.json", text)
    assert result.status == "ingested", result.message
    assert _stored(session_factory, "unnamed")[2] == [
        (1, UNNAMED_SPEAKER, None, "no speaker named yet"),
        (2, "Ann", None, "hi still Ann"),
        (3, "Ben", 7.0, "hey"),
    ]


def test_a_json_file_forced_by_format_is_read_whatever_its_name(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = '\ufeff{"segments": [{"speaker": "Ann", "startTime": 0, "body": "hi"}]}'
    result = _ingest(session_factory, tmp_path, "forced.txt", text, fmt="json")
    assert result.status == "ingested", result.message
    assert _stored(session_factory, "forced")[2] == [(1, "Ann", 0.0, "hi")]


BAD_JSON: dict[str, tuple[str, str]] = {
    "truncated": ('{"segments": [{"body": "hi"', "not valid JSON"),
    "a list": ('[{"body": "hi"}]', "must be an object"),
    "null": ("null", "must be an object"),
    "no segments": ('{"version": "1.0.0"}', 'no "segments" list'),
    "segments not a list": ('{"segments": {"body": "hi"}}', 'no "segments" list'),
    "segment not an object": ('{"segments": [{"body": "hi"}, "hello"]}', "segment 2"),
    "body a number": ('{"segments": [{"body": 42}]}', "body that is not text"),
    "speaker a list": ('{"segments": [{"speaker": ["Ann"], "body": "hi"}]}', "speaker"),
    "speaker too long": (json.dumps({"segments": [{"speaker": "A" * 500, "body": "hi"}]}), "100"),
    "time as text": ('{"segments": [{"startTime": "0:01", "body": "hi"}]}', "startTime"),
    "time a boolean": ('{"segments": [{"startTime": true, "body": "hi"}]}', "startTime"),
    "time negative": ('{"segments": [{"startTime": -1, "body": "hi"}]}', "negative"),
    "time infinite": ('{"segments": [{"startTime": 1e999, "body": "hi"}]}', "too large"),
    "NaN": ('{"segments": [{"startTime": NaN, "body": "hi"}]}', "NaN"),
    "huge integer": ('{"segments": [{"startTime": ' + "9" * 5000 + "}]}", "not valid JSON"),
    "deep nesting": ('{"segments": ' + "[" * 100_000, "not valid JSON"),
    "no segments at all": ('{"segments": []}', "no speaker turns found"),
    "no text at all": ('{"segments": [{"speaker": "Ann", "body": " "}, {}]}', "no speaker turns"),
}


@pytest.mark.sqlite_only  # the parser's refusals: nothing is stored
@pytest.mark.parametrize(("case", "fmt"), [(c, f) for c in BAD_JSON for f in ("json", "auto")])
def test_bad_json_is_refused_in_one_sentence(
    session_factory: sessionmaker[Session], tmp_path: Path, case: str, fmt: str
) -> None:
    text, expected = BAD_JSON[case]
    result = _ingest(session_factory, tmp_path, "bad.json", text, fmt)
    if fmt == "auto" and not podcast_json.looks_like(text):
        expected = "unknown transcript format"  # JSON of another shape is no transcript
    _refused(result, expected)
    assert _episodes(session_factory) == 0


# --- HTML ------------------------------------------------------------------------------


def test_html_in_the_specs_shape(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    result = _ingest(session_factory, tmp_path, "spec.html", SPEC_HTML)
    assert (result.status, result.turns) == ("ingested", 3), result.message
    source_format, title, turns = _stored(session_factory, "spec")
    assert (source_format, title) == ("html", "Compilers & Bugs")
    assert turns == [
        (1, "Kevin", 0.0, "Welcome to the show \u2014 today: compilers & bugs. We have a guest."),
        (2, "Ada Example", 3723.0, "Thanks, Kevin. <script>alert(1)</script> is just text here."),
        (3, "Kevin", 4530.0, "Let's begin."),
    ]


def test_html_fragment_with_cites_inside_paragraphs(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "<p>Recorded live.</p>\n"
        "<p><cite>Ann:</cite> <time>12.5</time> Hello <b>there</b>.</p>\n"
        "<p><cite>Ann</cite><time>0:13</time>Same speaker, so the same turn.</p>\n"
        "<time>not a time</time><P><CITE>Ben:</CITE> Hi.<br>How are you?</P>\n"
        "<cite>Ann:</cite><time>2:00</time><p>Unclosed paragraph at the end"
    )
    result = _ingest(session_factory, tmp_path, "fragment.html", text)
    assert result.status == "ingested", result.message
    assert _stored(session_factory, "fragment")[2] == [
        (1, UNNAMED_SPEAKER, None, "Recorded live."),
        (2, "Ann", 12.5, "Hello there. Same speaker, so the same turn."),
        (3, "Ben", None, "Hi. How are you?"),
        (4, "Ann", 120.0, "Unclosed paragraph at the end"),
    ]


def test_html_without_cites_reads_speaker_paragraphs(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = (
        "<html><head><title>Standup</title></head><body>\n"
        "<h1>Not speech</h1>\n"
        "<p><b>Priya:</b> Morning all.\n   I finished the importer.</p>\n"
        "<p>Tom Lee: Nice.<br>Ann: Did the tests pass?<br>They did.</p>\n"
        "<script>var x = 'Mallory: injected';</script>\n"
        "</body></html>\n"
    )
    result = _ingest(session_factory, tmp_path, "standup.html", text)
    assert result.status == "ingested", result.message
    source_format, title, turns = _stored(session_factory, "standup")
    assert (source_format, title) == ("html", "Standup")
    assert turns == [
        (1, "Priya", None, "Morning all. I finished the importer."),
        (2, "Tom Lee", None, "Nice."),
        (3, "Ann", None, "Did the tests pass? They did."),
    ]


BAD_HTML: dict[str, tuple[str, str]] = {
    "no speakers": ("<html><body><p>Ann said hi</p><p>Bob too</p></body></html>", "in the HTML"),
    "no paragraphs": ("<html><body><div>Ann: hi</div></body></html>", "in the HTML"),
    "cites without paragraphs": ("<cite>Ann:</cite><time>0:01</time>", "in the HTML"),
    "only a script": ("<html><script>'<cite>A:</cite><p>x</p>'</script></html>", "in the HTML"),
    "cite too long": ("<cite>" + "word " * 100 + "</cite><p>hi</p>", "longer than 100"),
}


@pytest.mark.sqlite_only  # the parser's refusals: nothing is stored
@pytest.mark.parametrize("case", sorted(BAD_HTML))
def test_bad_html_is_refused_in_one_sentence(
    session_factory: sessionmaker[Session], tmp_path: Path, case: str
) -> None:
    text, expected = BAD_HTML[case]
    _refused(_ingest(session_factory, tmp_path, "bad.html", text, fmt="html"), expected)
    auto = _ingest(session_factory, tmp_path, "bad.html", text)
    # Auto-detection claims only HTML that has speakers; a page without them is unknown.
    _refused(auto, expected if html_transcript.looks_like(text) else "unknown transcript format")
    assert _episodes(session_factory) == 0


def test_a_declaration_html_parser_gives_up_on_is_one_sentence_too(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    text = "<html><![foo bar]><p>Ann: hi</p><p>Bob: hey</p>"
    result = _ingest(session_factory, tmp_path, "declared.html", text)
    # Python 3.11's html.parser gives up on `<![foo`; later ones read it as a bogus comment.
    if result.failed:
        _refused(result, "the HTML is malformed")
    else:
        assert [turn[1] for turn in _stored(session_factory, "declared")[2]] == ["Ann", "Bob"]


# --- detection beside the older formats ------------------------------------------------


GOOD_FIXTURES = sorted(n for n, f in FIXTURE_FORMATS.items() if f and n not in MALFORMED)


@pytest.mark.parametrize("name", sorted(FIXTURE_FORMATS))
def test_the_new_detectors_claim_no_older_fixture(name: str) -> None:
    text = (FORMATS_DIR / name).read_text(encoding="utf-8")
    assert not podcast_json.looks_like(text)
    assert not html_transcript.looks_like(text)
    expected = FIXTURE_FORMATS[name]
    if expected is not None:
        assert detect_format(text) == expected


@pytest.mark.parametrize(
    "path", [SEED, *(FORMATS_DIR / n for n in GOOD_FIXTURES)], ids=lambda path: path.name
)
def test_older_formats_still_ingest_as_before(
    session_factory: sessionmaker[Session], path: Path
) -> None:
    result = ingest_file(session_factory, path)
    assert result.status == "ingested", result.message
    assert result.slug is not None
    expected = "numbered" if path == SEED else FIXTURE_FORMATS[path.name]
    assert _stored(session_factory, result.slug)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WORD_LEVEL, "json"),
        (SPEC_HTML, "html"),
        ('{"segments":[]}', "json"),
        # Markdown with front matter, then HTML: the front matter says it is not HTML.
        ("---\ntitle: x\n---\n## Transcript\n\nAda (00:00:01):\n<p>Hi.</p>\n", "timestamped"),
        ("<!-- draft -->\n# T\n\nAda (00:00:01):\nHi.\n\nBen (00:00:02):\nHey.\n", "timestamped"),
        ('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{"segments": []}\n', "vtt"),
        ('1\n00:00:01,000 --> 00:00:02,000\n<cite>Ann:</cite><p>{"segments": []}</p>\n', "srt"),
        ('Ann: {"segments": []}\nBen: <cite>Bob:</cite><p>hi</p>\n', "plain"),
        ("1. Ann: <p>hi</p>\n2. Ben: <cite>x</cite>\n", "numbered"),
    ],
)
def test_each_text_is_claimed_by_its_own_format(text: str, expected: str) -> None:
    assert detect_format(text) == expected


def test_every_format_a_feed_names_can_be_read() -> None:
    assert set(TRANSCRIPT_FORMATS.values()) - {"auto"} <= set(FORMATS)
    assert {"json", "html"} <= set(FORMATS)
