"""Ranking rules on the real seed: the guest's answer ranks above the host's question that
leads to it (the question counting as its evidence), and a passage that addresses the
question ranks above passages that merely mention its words."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.pipeline import ingest_paths
from bot.retrieval import retrieve
from tests.conftest import SEED_SLUG


def _ranked(session: Session, question: str, episode: str | None = SEED_SLUG) -> list[int]:
    return [r.hit.position for r in retrieve(session, question, episode=episode, limit=10)]


def test_the_answer_ranks_above_the_host_question_that_says_the_words(session: Session) -> None:
    # Turn 22 (Lenny) asks "what percentage of Claude code is written by Claude code"; turn
    # 23 (Mike) answers "I would be shocked if it wasn't 95%" with few of those words.
    ranked = _ranked(session, "What percentage of Claude Code is written by Claude Code?")
    assert ranked.index(23) < ranked.index(22), ranked
    assert ranked[0] == 23, ranked


def test_a_host_question_lends_its_score_to_the_answer_after_a_short_reply(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "refs.txt").write_text(
        "Lenny: Do you have a favorite question to ask a candidate's references?\n"
        "Uma Example: For references?\n"
        "Lenny: Yeah.\n"
        "Uma Example: That's really simple. Would you hire them again, yes or no? At the end "
        "of the day you want to nail it down to a yes or a no, because everything else a "
        "former boss says is polite noise.\n"
        "Lenny: Let's talk about onboarding new hires in their first week.\n"
        "Uma Example: Onboarding is a plan for the first week: a buddy, a first small task "
        "shipped, and a candid check-in on Friday about what was confusing.\n"
    )
    assert not [r for r in ingest_paths(session_factory, [tmp_path]) if r.failed]
    with session_factory() as session:
        ranked = _ranked(session, "What question should you ask a candidate's references?", None)
    # Turn 4 answers turn 1; the short exchange between (2, 3) is not the answer.
    assert ranked[0] == 4, ranked
    assert ranked.index(4) < ranked.index(1), ranked


def test_a_passage_about_the_question_ranks_above_passages_that_mention_its_words(
    session: Session,
) -> None:
    # "Instagram" comes up all through the episode (Mike co-founded it); turn 55 is where he
    # says how it spread ("people would take photos and then post them on other networks").
    ranked = _ranked(session, "How did Instagram spread in the early days?")
    assert ranked[0] == 55, ranked
    # Turn 57's "something other than Instagram DAU" names the app in passing.
    assert 57 not in ranked[:3], ranked


def test_a_common_phrase_in_passing_ranks_below_a_passage_that_addresses_it(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # Every episode says "B2B SaaS" and "pricing"; one talks about how to price. The passing
    # mentions are short, so bm25 alone (which favours short passages) puts them first.
    (tmp_path / "pricing.txt").write_text(
        "Lenny: Let's talk about money.\n"
        "Pia Example: Price B2B SaaS on the value a customer gets, not on your costs. Start "
        "with a pricing page of three plans, charge per seat only when seats track value, "
        "and raise prices every year as the product earns it. Most B2B SaaS founders "
        "underprice for years because pricing feels scary, and discounting B2B SaaS "
        "contracts teaches buyers to wait for the discount.\n"
    )
    for n in range(6):
        (tmp_path / f"career-{n}.txt").write_text(
            "Lenny: Tell me about your career.\n"
            f"Omar Example{n}: I did B2B SaaS pricing for a while.\n"
            "Lenny: What did you learn about hiring?\n"
            f"Omar Example{n}: Hire for slope, not intercept, and check references yourself.\n"
        )
    assert not [r for r in ingest_paths(session_factory, [tmp_path]) if r.failed]
    with session_factory() as session:
        ranked = retrieve(session, "How should B2B SaaS companies think about pricing?", limit=5)
    found = [(r.hit.episode_slug, r.hit.position) for r in ranked]
    assert found[0] == ("pricing", 2), found
