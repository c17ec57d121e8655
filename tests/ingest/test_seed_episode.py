"""The seed transcript parses into the right metadata, turns and segment kinds."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bot.ingest import numbered
from bot.ingest.kinds import mark_passages
from bot.ingest.model import Passage
from bot.ingest.reader import detect_format, read_text
from tests.conftest import SEED


@pytest.fixture(scope="module")
def seed_text() -> str:
    return read_text(SEED)


@pytest.fixture(scope="module")
def passages(seed_text: str) -> list[Passage]:
    return mark_passages(numbered.parse(seed_text).turns)


def _kinds_by_turn(passages: list[Passage]) -> dict[int, list[str]]:
    kinds: dict[int, list[str]] = defaultdict(list)
    for passage in passages:
        kinds[passage.position].append(passage.kind)
    return kinds


def test_seed_is_detected_as_numbered(seed_text: str) -> None:
    assert detect_format(seed_text) == "numbered"


def test_seed_metadata(seed_text: str) -> None:
    episode = numbered.parse(seed_text)
    # The page's "Skip to content" chrome is not the title.
    assert episode.title == (
        "Anthropic's CPO on what comes next | Mike Krieger (co-founder of Instagram)"
    )
    assert episode.summary is not None and episode.summary.startswith("In this episode, Lenny")
    assert len(episode.takeaways) == 6
    assert episode.takeaways[1].startswith("Product development bottlenecks shift")
    assert episode.audience is not None and episode.audience.startswith("Product leaders")


def test_seed_turns_keep_their_own_numbers_and_speakers(seed_text: str) -> None:
    turns = numbered.parse(seed_text).turns
    assert [t.position for t in turns] == list(range(1, 86))
    assert turns[0].speaker == "Lenny Rachitsky"
    assert turns[0].text == "90% of your code roughly is written by AI now"
    assert turns[46].speaker == "Andrew Luo"  # turn 47
    assert {t.speaker for t in turns} == {"Lenny Rachitsky", "Mike Krieger", "Andrew Luo"}


def test_cold_open_is_teaser(passages: list[Passage]) -> None:
    kinds = _kinds_by_turn(passages)
    assert all(kinds[n] == ["teaser"] for n in range(1, 9))
    assert "teaser" not in {k for n in range(9, 86) for k in kinds[n]}


def test_turn_nine_splits_the_intro_from_the_ad_reads(passages: list[Passage]) -> None:
    nine = [p for p in passages if p.position == 9]
    assert nine[0].kind == "intro"
    intro_text = " ".join(p.text for p in nine if p.kind == "intro")
    ad_text = " ".join(p.text for p in nine if p.kind == "sponsor")
    assert intro_text.startswith("Today my guest is Mike Krieger.")
    assert intro_text.endswith("With that I bring you Mike Krieger.")
    assert "Productboard" not in intro_text and "Stripe" not in intro_text
    assert ad_text.startswith("This episode is brought to you by Productboard")
    assert ad_text.endswith("Learn more at Stripe.com.")


def test_sponsor_conversation_is_sponsor_and_the_question_after_it_is_content(
    passages: list[Passage],
) -> None:
    kinds = _kinds_by_turn(passages)
    assert all(set(kinds[n]) == {"sponsor"} for n in range(46, 52))
    fifty_two = [p for p in passages if p.position == 52]
    assert [p.kind for p in fifty_two] == ["sponsor", "content"]
    assert fifty_two[0].text.endswith("that's oneschema.co")
    assert fifty_two[1].text.startswith("actually going back to kind of the beginning")


def test_outro_and_everything_else_is_content(passages: list[Passage]) -> None:
    kinds = _kinds_by_turn(passages)
    assert kinds[85] == ["outro"]
    special = {1, 2, 3, 4, 5, 6, 7, 8, 9, 46, 47, 48, 49, 50, 51, 52, 85}
    assert all(set(kinds[n]) == {"content"} for n in range(1, 86) if n not in special)


def test_passages_keep_every_word_of_every_turn(seed_text: str, passages: list[Passage]) -> None:
    turns = numbered.parse(seed_text).turns
    for turn in turns:
        rebuilt = " ".join(p.text for p in passages if p.position == turn.position)
        assert rebuilt.split() == turn.text.split()
