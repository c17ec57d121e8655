"""Retrieval finds the right moment of the seed episode, and any typed text is safe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.evaluation.recall import evaluate, read_questions, render
from bot.retrieval import EmptyQuery, UnknownEpisode, retrieve
from tests.conftest import SEED_SLUG, SHARED

# The team's shared copy wins; the bundled copy keeps a lone clone testable.
DEV_QUESTIONS = next(
    path
    for path in (
        SHARED / "dev_questions.jsonl",
        Path(__file__).parents[1] / "data" / "dev_questions.jsonl",
    )
    if path.exists()
)


def _dev_questions() -> list[dict[str, object]]:
    return [json.loads(line) for line in DEV_QUESTIONS.read_text().splitlines() if line.strip()]


def test_dev_questions_recall(session: Session) -> None:
    # The code `episode-bot eval QUESTIONS --episode SLUG` runs and prints.
    result = evaluate(session, read_questions(DEV_QUESTIONS), episode=SEED_SLUG, ks=(1, 5))
    assert result.questions >= 20
    assert result.recall[1] >= 0.85
    assert result.recall[5] == 1.0, render(result)


def test_claude_code_finds_the_cloud_code_turns(session: Session) -> None:
    ranked = retrieve(session, "How much of Claude Code is written by Claude Code?", limit=5)
    assert any("Cloud Code" in r.hit.text or "Claude code" in r.hit.text for r in ranked)
    assert {r.hit.position for r in ranked} & {2, 21, 22, 23, 24}


def test_sponsor_reads_never_outrank_content_matching_as_well(session: Session) -> None:
    # "Stripe" and "Productboard" live only in ads; "product" is everywhere.
    ranked = retrieve(session, "product", episode=SEED_SLUG, limit=10)
    kinds = [r.hit.kind for r in ranked]
    assert kinds[0] == "content"
    assert "sponsor" not in kinds[:5]


def test_asking_about_sponsors_finds_the_ads(session: Session) -> None:
    ranked = retrieve(session, "Which sponsors are read in the episode?", limit=5)
    assert [r.hit.kind for r in ranked[:2]] == ["sponsor", "sponsor"]
    assert {r.hit.position for r in ranked[:2]} == {9, 47}


def test_teaser_lines_rank_below_the_same_words_in_the_conversation(session: Session) -> None:
    # Turn 4 (teaser) repeats turn 17 word for word.
    ranked = retrieve(session, "two tabs open AI twenty twenty seven", episode=SEED_SLUG)
    positions = [r.hit.position for r in ranked]
    assert positions.index(17) < positions.index(4)


HOSTILE = [
    '"unbalanced quote',
    "merge -queue",
    "Claude*",
    "AND",
    "OR NOT AND",
    "(merge queue",
    "queue)) OR ((",
    "NEAR(merge queue)",
    "text:boris",
    "episode_id:1",
    "🤖 emoji 🎙️ Boris",
    "^boris",
    "'; DROP TABLE segments; --",
    "Boris " * 1000,
    "x" * 5000,
    "9" * 5000,
    "² ³ ½ Boris",
    "Opus 4 versus Opus 40",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_any_typed_text_is_searched_as_text(session: Session, query: str) -> None:
    ranked = retrieve(session, query, limit=5)
    assert all(r.hit.episode_slug == SEED_SLUG for r in ranked)
    if "boris" in query.lower():
        assert {r.hit.position for r in ranked} & {23, 53}


@pytest.mark.parametrize("query", ["", "   ", "?!", "🤖🎙️", "-- ** ()"])
def test_queries_without_words_are_refused(session: Session, query: str) -> None:
    with pytest.raises(EmptyQuery):
        retrieve(session, query)


def test_unknown_episode_is_refused(session: Session) -> None:
    with pytest.raises(UnknownEpisode):
        retrieve(session, "boris", episode="no-such-episode")


def test_library_wide_search_finds_the_moment_by_its_rare_words(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shrink "common" to a few passages so the seed alone behaves like a big library.
    from bot.retrieval import answers
    from bot.retrieval import candidates as library_search
    from bot.retrieval import search as retrieval

    monkeypatch.setattr(library_search, "RARE_TERM_CAP", 5)
    monkeypatch.setattr(retrieval, "EVIDENCE_CAP", 5)
    monkeypatch.setattr(retrieval, "EPISODES_SEARCHED", 0)
    # Only what the searches match: the answers host questions lend to are tested apart.
    monkeypatch.setattr(answers, "LOOKED_AT", 0)
    ranked = retrieve(session, "What did Mike say about the merge queue at Anthropic?", limit=3)
    # "merge" and "queue" are rare; "Anthropic" is everywhere and is not matched on.
    assert ranked[0].hit.position == 21
    assert all(re.search(r"\b(merg|queu)", r.hit.text.lower()) for r in ranked)


def test_library_wide_common_words_only_match_passages_with_all_of_them(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.retrieval import answers
    from bot.retrieval import candidates as library_search
    from bot.retrieval import search as retrieval

    monkeypatch.setattr(library_search, "RARE_TERM_CAP", 2)
    monkeypatch.setattr(retrieval, "EVIDENCE_CAP", 2)
    monkeypatch.setattr(answers, "LOOKED_AT", 0)
    ranked = retrieve(session, "product people think", limit=10)
    assert ranked
    for r in ranked:
        words = r.hit.text.lower()
        assert "product" in words and "people" in words and "think" in words
