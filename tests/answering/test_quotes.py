"""Offline quotes, on the real seed: whole sentences (or whole clauses where speech-to-text
left no punctuation) chosen for the question's words, never starting inside a quotation or
ending on a comma, and never a host's question first when the guest's answer follows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.answering.offline import OfflineAnswerer
from bot.answering.quotes import candidate_quotes, pick_quote
from bot.ingest.pipeline import ingest_file
from bot.retrieval.query import term_groups
from bot.retrieval.words import query_terms
from bot.services.asking import ask
from bot.services.library import Library
from db.models import Episode, Segment
from tests.answering.quote_rules import check_quote
from tests.conftest import SEED_SLUG
from tests.retrieval.test_retrieval import _dev_questions

HOST = "Lenny Rachitsky"
MORE_QUESTIONS = [
    "What percentage of Claude Code is written by Claude Code?",
    "How did Instagram spread in the early days?",
    "Why did Mike shut down Artifact?",
    "What role will MCP play in the future of products?",
]


def _passages(session: Session, slug: str, position: int) -> list[str]:
    return list(
        session.scalars(
            select(Segment.text)
            .join(Episode)
            .where(Episode.slug == slug, Segment.position == position)
            .order_by(Segment.part)
        )
    )


def _groups(question: str) -> list[frozenset[str]]:
    return term_groups(query_terms(question))


def test_offline_quotes_on_the_seed_are_whole_sentences_or_clauses(
    library: Library, session: Session
) -> None:
    questions = [str(item["q"]) for item in _dev_questions()] + MORE_QUESTIONS
    checked = 0
    for question in questions:
        answer = ask(library, question, OfflineAnswerer(), episode=SEED_SLUG)
        for citation in answer.citations:
            parts = _passages(session, citation.episode_slug, citation.position)
            core = citation.quote.strip("…")
            passage = next(p for p in parts if core in p)
            check_quote(citation.quote, passage)
            checked += 1
    assert checked >= 40


def test_a_quote_is_chosen_for_the_questions_words(session: Session) -> None:
    [*parts] = _passages(session, SEED_SLUG, 21)
    question = "How does Mike describe the merge queue problem?"
    quotes = [pick_quote(p, _groups(question)).text for p in parts]
    assert any("merge queue" in q.lower() for q in quotes), quotes
    # The same passage quoted for another question gives another stretch of it.
    reviews = _groups("How do they review pull requests line by line?")
    assert [pick_quote(p, reviews).text for p in parts] != quotes


def test_a_host_question_is_not_the_first_quote_when_the_answer_follows(
    library: Library, session: Session
) -> None:
    # Turn 22, Lenny's question, says every word ("what percentage of Claude code is written
    # by Claude code"); turn 23 is Mike's answer ("I would be shocked if it wasn't 95%").
    answer = ask(library, MORE_QUESTIONS[0], OfflineAnswerer(), episode=SEED_SLUG)
    cited = [(c.position, c.speaker) for c in answer.citations]
    assert cited[0] == (23, "Mike Krieger"), cited
    assert (22, HOST) in cited[1:], cited
    # And across the dev questions: a first quote by the host is never a question that the
    # guest answers at length in the next turn.
    for item in _dev_questions():
        first = ask(library, str(item["q"]), OfflineAnswerer(), episode=SEED_SLUG).citations[0]
        if first.speaker != HOST:
            continue
        asked = " ".join(_passages(session, SEED_SLUG, first.position))
        reply = " ".join(_passages(session, SEED_SLUG, first.position + 1))
        assert not ("?" in asked or " you " in f" {asked.lower()} ") or len(reply.split()) < 25, (
            item["q"],
            first.position,
        )


SPEECH = (
    "Lenny: What do people ask right after a layoff?\n"
    'Ada Example: They always ask the same thing. One engineer told me, "Is this going to '
    'happen to me? Are we dying as a company?" and that fear is what a founder has to '
    "answer first, in the all hands, before anything else. Then give every person an hour "
    "with their manager.\n"
)


def test_no_quote_starts_inside_a_quotation_or_ends_on_a_comma(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "layoffs.txt"
    path.write_text(SPEECH)
    assert ingest_file(seeded, path).status == "ingested"
    question = "Are we dying as a company?"
    answer = ask(Library(seeded), question, OfflineAnswerer(), episode="layoffs")
    assert answer.covered
    [quote] = [c.quote for c in answer.citations if c.speaker == "Ada Example"]
    # The words asked about are said inside the engineer's quotation: the quote starts at
    # the sentence that reports it, never at "Are we dying".
    assert not quote.strip("…").startswith("Are we"), quote
    assert "dying" in quote
    passage = SPEECH.split("Ada Example: ", 1)[1].strip()
    check_quote(quote, passage)


@pytest.mark.parametrize(
    "text",
    [
        # unpunctuated speech with commas only: clauses, never a trailing comma
        "so the thing about pricing is, you have to charge for value, not for seats, and the "
        "buyer has to feel it every month, otherwise they churn, and then the whole model "
        "breaks, because pricing is the product, really, in the end",
        # a passage cut off mid-sentence, as long turns are
        "We shipped it in a week. The second launch took longer because the team had grown "
        "and every change needed three reviews and the merge queue was full and",
    ],
)
def test_every_candidate_quote_obeys_the_rules(text: str) -> None:
    found = candidate_quotes(text)
    assert found
    for quote in found:
        check_quote(quote, text)
    check_quote(pick_quote(text, _groups("How should we think about pricing?")).shown(), text)
