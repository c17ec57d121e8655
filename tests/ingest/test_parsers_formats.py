"""The timestamped-markdown, WebVTT, SRT and plain-text transcript parsers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.ingest import captions, plain, timestamped
from bot.ingest.model import ParsedEpisode, ParseError, Turn

FORMATS_DIR = Path(__file__).parents[1] / "data" / "formats"

# The caller's detection order, minus "numbered" which another module owns.
DETECTORS: list[tuple[str, Callable[[str], bool]]] = [
    ("timestamped", timestamped.looks_like),
    ("vtt", captions.looks_like_vtt),
    ("srt", captions.looks_like_srt),
    ("plain", plain.looks_like),
]
PARSERS: dict[str, Callable[[str], ParsedEpisode]] = {
    "timestamped": timestamped.parse,
    "vtt": captions.parse_vtt,
    "srt": captions.parse_srt,
    "plain": plain.parse,
}
# Every fixture and the format that must claim it first (None: no format claims it).
FIXTURE_FORMATS: dict[str, str | None] = {
    "archive-episode.md": "timestamped",
    "bad-front-matter.md": "timestamped",
    "alias-bomb.md": "timestamped",
    "no-turns.md": "timestamped",
    "talk.vtt": "vtt",
    "talk-prefix.vtt": "vtt",
    "empty-cues.vtt": "vtt",
    "talk.srt": "srt",
    "chat.txt": "plain",
    "no-speakers.txt": None,
}
MALFORMED: dict[str, str] = {
    "bad-front-matter.md": "YAML front matter is malformed",
    "alias-bomb.md": "YAML aliases",
    "no-turns.md": "no speaker turns found",
    "empty-cues.vtt": "no caption cues found",
    "no-speakers.txt": "no speaker turns found",
}
PARSER_FOR_SUFFIX: dict[str, Callable[[str], ParsedEpisode]] = {
    ".md": timestamped.parse,
    ".vtt": captions.parse_vtt,
    ".srt": captions.parse_srt,
    ".txt": plain.parse,
}


def _read(name: str) -> str:
    return (FORMATS_DIR / name).read_text(encoding="utf-8")


def _parse(name: str) -> ParsedEpisode:
    fmt = FIXTURE_FORMATS[name]
    assert fmt is not None
    return PARSERS[fmt](_read(name))


def _first_claim(text: str) -> str | None:
    return next((name for name, looks_like in DETECTORS if looks_like(text)), None)


def _turn_summary(episode: ParsedEpisode) -> list[tuple[int, str, float | None]]:
    return [(turn.position, turn.speaker, turn.start_seconds) for turn in episode.turns]


def _parse_error(parse: Callable[[str], ParsedEpisode], text: str) -> str:
    with pytest.raises(ParseError) as caught:
        parse(text)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    assert "Traceback" not in message
    return message


# --- detection -------------------------------------------------------------------------


def test_every_fixture_is_listed() -> None:
    assert {path.name for path in FORMATS_DIR.iterdir()} == set(FIXTURE_FORMATS)


@pytest.mark.parametrize(("name", "expected"), sorted(FIXTURE_FORMATS.items()))
def test_the_right_detector_claims_each_fixture_first(name: str, expected: str | None) -> None:
    assert _first_claim(_read(name)) == expected


@pytest.mark.parametrize("name", [n for n, f in FIXTURE_FORMATS.items() if f != "plain"])
def test_plain_never_claims_another_formats_file(name: str) -> None:
    assert not plain.looks_like(_read(name))


@pytest.mark.parametrize(
    "text",
    [
        "Alice: hi\nsee http://example.com\nhttps://example.com/x\n",  # one speaker line only
        "At 12:30: we met.\nAt 13:45: we left.\n",  # times are not speakers
        "http://a.example.com\nhttps://b.example.com\n",
    ],
)
def test_plain_needs_two_real_speaker_lines(text: str) -> None:
    assert not plain.looks_like(text)


def test_markdown_of_name_prefixed_lines_is_plain() -> None:
    assert _first_claim("# Standup\n\n## Transcript\n\nAda: hi\nBen: hey\n") == "plain"


def test_a_single_stamped_turn_with_front_matter_is_timestamped() -> None:
    assert _first_claim("---\ntitle: Short\n---\nAda (00:00:01):\nHi.\n") == "timestamped"


def test_srt_detector_does_not_claim_vtt_and_vice_versa() -> None:
    assert not captions.looks_like_srt(_read("talk.vtt"))
    assert not captions.looks_like_vtt(_read("talk.srt"))


# --- timestamped markdown --------------------------------------------------------------


def test_archive_episode_turns_and_stamps() -> None:
    episode = _parse("archive-episode.md")
    assert episode.source_format == "timestamped"
    assert _turn_summary(episode) == [
        (1, "Lenny Rachitsky", 0.0),
        (2, "Ada Example", 4.0),
        (3, "Lenny Rachitsky", 9.0),
        (4, "Ada Example", 3723.0),  # (01:02:03)
        (5, "Lenny Rachitsky", 754.0),  # (12:34), the MM:SS form
    ]
    texts = [turn.text for turn in episode.turns]
    assert texts[1] == "Thanks for having me. It is great to be here."
    # A bare "(00:00:30):" line is a new paragraph of the same speaker, not a new turn.
    assert texts[2] == "Let's start with scope. What does cutting scope mean to you?"
    assert texts[3] == "It means deciding what not to build."


def test_archive_episode_metadata() -> None:
    episode = _parse("archive-episode.md")
    assert episode.title == "Shipping small: how to cut scope | Ada Example"
    assert episode.guest == "Ada Example"
    assert episode.published_on == date(2024, 3, 7)
    assert episode.source_url == "https://www.youtube.com/watch?v=abc123XYZ_0"
    assert episode.summary == (
        "Ada Example has shipped products at three startups. "
        "She explains how to cut scope without cutting quality."
    )


def test_show_notes_before_the_transcript_heading_are_not_turns() -> None:
    texts = " ".join(turn.text for turn in _parse("archive-episode.md").turns)
    assert "Show notes" not in texts


def test_title_falls_back_to_heading_and_string_dates_parse() -> None:
    text = (
        "---\npublish_date: '2023-11-02'\nurl: https://example.com/ep\nguests: [Ada, Ben]\n---\n"
        "# Heading title\n\n## Transcript\n\nAda (00:01):\nHi.\n"
    )
    episode = timestamped.parse(text)
    assert episode.title == "Heading title"
    assert episode.published_on == date(2023, 11, 2)
    assert episode.source_url == "https://example.com/ep"
    assert episode.guest == "Ada, Ben"
    assert _turn_summary(episode) == [(1, "Ada", 1.0)]


def test_unparseable_dates_are_ignored() -> None:
    for value in ("'sometime in 2023'", "'2023-13-45'", "[2023]"):
        text = f"---\ndate: {value}\n---\nAda (00:00:01):\nHi.\nBen (00:00:02):\nHey.\n"
        assert timestamped.parse(text).published_on is None


def test_without_transcript_heading_or_front_matter() -> None:
    text = "# Just a title\n\nAda (00:00:01):\nHi.\n\nBen (00:00:02):\n\nBen (00:00:03):\nHey.\n"
    episode = timestamped.parse(text)
    assert episode.title == "Just a title"
    # Ben's empty turn at 00:00:02 is skipped and not numbered.
    assert _turn_summary(episode) == [(1, "Ada", 1.0), (2, "Ben", 3.0)]


def test_non_mapping_front_matter_is_ignored() -> None:
    episode = timestamped.parse("---\n- just\n- a list\n---\n# Title\nAda (00:00:01):\nHi.\n")
    assert episode.title == "Title"
    assert episode.guest is None
    assert [turn.text for turn in episode.turns] == ["Hi."]


def test_nested_metadata_values_are_not_stringified() -> None:
    text = "---\ntitle: {nested: value}\nguest: [[Ada]]\n---\n# Real title\nAda (00:00:01):\nHi.\n"
    episode = timestamped.parse(text)
    assert episode.title == "Real title"
    assert episode.guest is None


@pytest.mark.parametrize(("name", "expected"), sorted(MALFORMED.items()))
def test_malformed_fixtures_raise_one_line_errors(name: str, expected: str) -> None:
    parse = PARSER_FOR_SUFFIX[Path(name).suffix]
    assert expected in _parse_error(parse, _read(name))


def test_alias_bomb_is_refused_before_anything_expands_it() -> None:
    # The bomb expands to 9**9 strings; it is rejected because a list is reached twice,
    # which is found by visiting each distinct container once, so this is fast by design.
    message = _parse_error(timestamped.parse, _read("alias-bomb.md"))
    assert "front matter" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitle: x\n# no closing line\nAda (00:00:01):\nHi.\n", "no closing '---'"),
        ("---\ndate: 2024-02-30\n---\nAda (00:00:01):\nHi.\n", "malformed"),
        ("---\n" + "[" * 1000 + "\n---\nAda (00:00:01):\nHi.\n", "malformed"),
        ("---\nkey: " + "x" * (65 * 1024) + "\n---\nAda (00:00:01):\nHi.\n", "larger than 64 KB"),
    ],
)
def test_bad_front_matter_variants(text: str, expected: str) -> None:
    assert expected in _parse_error(timestamped.parse, text)


# --- WebVTT ----------------------------------------------------------------------------


def test_vtt_voice_tags() -> None:
    episode = _parse("talk.vtt")
    assert episode.source_format == "vtt"
    assert episode.title == ""
    assert episode.turns == [
        Turn(
            1, "Grace Hopper", "Welcome to the show. Today we talk about compilers and & bugs.", 1.0
        ),
        Turn(2, "Alan Turing", "Thank you, Grace. It is good to be here.", 62.125),
        Turn(3, "Grace Hopper", "Let's begin.", 3600.0),
    ]


def test_vtt_name_prefixes_merge_cues_and_drop_rolling_repeats() -> None:
    episode = _parse("talk-prefix.vtt")
    assert episode.turns == [
        Turn(
            1,
            "Maya Chen",
            "So the first thing we did was cut the roadmap in half. "
            "And nobody missed it. Nobody at all.",
            0.0,
        ),
        Turn(2, "Sam Ortiz", "Really? No one?", 6.0),
        Turn(3, "Maya Chen", "Really. We met at 12:30: nobody asked. [laughter]", 7.0),
    ]


def test_vtt_rolling_line_that_extends_the_previous_line() -> None:
    text = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello there\n\n"
        "00:00:01.000 --> 00:00:02.000\nhello there general kenobi\n"
    )
    assert [turn.text for turn in captions.parse_vtt(text).turns] == ["hello there general kenobi"]


def test_vtt_without_speakers_uses_a_generic_name() -> None:
    text = (
        "WEBVTT\n\n00:00:00.500 --> 00:00:01.000\nso here's the thing: we shipped\n\n"
        "00:00:01.000 --> 00:00:02.000\nand it worked\n"
    )
    episode = captions.parse_vtt(text)
    assert episode.turns == [
        Turn(1, "Speaker", "so here's the thing: we shipped and it worked", 0.5)
    ]


def test_vtt_cues_that_are_all_markup_are_not_turns() -> None:
    text = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<i> </i>\n"
    assert "every caption cue is empty" in _parse_error(captions.parse_vtt, text)


def test_vtt_cue_run_into_the_header_is_kept() -> None:
    text = "WEBVTT\n00:00:02.000 --> 00:00:03.000\nAda: hi\n\nNOTE a note\n"
    assert captions.parse_vtt(text).turns == [Turn(1, "Ada", "hi", 2.0)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada: hi\nBen: hey\n", "not a WebVTT file"),
        ("WEBVTT\n\n00:00:01 --> soon\nAda: hi\n", "malformed timing line"),
    ],
)
def test_vtt_errors(text: str, expected: str) -> None:
    assert expected in _parse_error(captions.parse_vtt, text)


# --- SRT -------------------------------------------------------------------------------


def test_srt_prefixes_merge_and_dedupe() -> None:
    episode = _parse("talk.srt")
    assert episode.source_format == "srt"
    assert episode.turns == [
        Turn(1, "Ada Example", "Welcome back to the show. Today we are talking about scope.", 1.0),
        Turn(2, "Ben Okafor", "Glad to be here.", 6.25),
        Turn(3, "Ada Example", "Let's dive in.", 70.5),
    ]


def test_srt_blank_line_inside_a_cue_continues_it() -> None:
    text = "1\r\n00:00:02,000 --> 00:00:03,000\r\nAda: one\r\n\r\ntwo\r\n"
    assert captions.parse_srt(text).turns == [Turn(1, "Ada", "one two", 2.0)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no caption cues found"),
        ("1\n00:00:01,000 --> later\nAda: hi\n", "malformed timing line"),
        ("1\n00:00:01,000 --> 00:00:02,000\nAda: hi\n\n2\nBen: hey\n", "cue 2 has no timing"),
    ],
)
def test_srt_errors(text: str, expected: str) -> None:
    assert expected in _parse_error(captions.parse_srt, text)


# --- plain -----------------------------------------------------------------------------


def test_plain_chat() -> None:
    episode = _parse("chat.txt")
    assert episode.source_format == "plain"
    assert episode.title == "Standup, March 7"
    assert [(turn.position, turn.speaker) for turn in episode.turns] == [
        (1, "Priya"),
        (2, "Tom Lee"),
        (3, "Priya"),
        (4, "Tom Lee"),
    ]
    assert all(turn.start_seconds is None for turn in episode.turns)
    assert episode.turns[0].text == "Morning all. I finished the importer yesterday."
    # URLs and times at the start of a line continue the turn instead of naming a speaker.
    assert episode.turns[2].text == (
        "They did. http://ci.example.com/build/42 has the run. "
        "We met at 12:30: it went fine. See https://example.com: details are there."
    )
    assert episode.turns[3].text == "Great, ship it."


def test_plain_long_first_line_is_not_a_title() -> None:
    text = "x" * 130 + "\nAda: hi\nBen: hey\n"
    episode = plain.parse(text)
    assert episode.title == ""
    assert [turn.speaker for turn in episode.turns] == ["Ada", "Ben"]


def test_plain_speaker_names_are_short() -> None:
    too_many_words = "One two three four five six: text\nAda: hi\n"
    assert [turn.speaker for turn in plain.parse(too_many_words).turns] == ["Ada"]
