"""Ask: retrieval then an answerer. The CLI and Slack both call these, so what the CLI
shows is what Slack users get."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from bot.answering import Answer, Answerer
from bot.retrieval import retrieve
from bot.text import STOPWORDS, query_terms

PASSAGES_FOR_ANSWER = 6
# A follow-up with fewer words of its own than this leans on the thread ("tell me more").
OWN_TERMS_FOR_FOLLOW_UP = 2


def ask(
    session: Session, question: str, answerer: Answerer, *, episode: str | None = None
) -> Answer:
    """Answer `question` from one episode (by slug) or from the whole library."""
    passages = retrieve(session, question, episode=episode, limit=PASSAGES_FOR_ANSWER)
    return answerer.answer(question, passages)


def ask_follow_up(
    session: Session,
    question: str,
    answerer: Answerer,
    *,
    earlier_questions: Sequence[str],
    episode: str | None = None,
) -> Answer:
    """Answer a reply in a thread. A question that says little on its own ("and why was
    that?") is read together with the thread's previous question."""
    own = [t for t in query_terms(question) if t not in STOPWORDS]
    if len(own) >= OWN_TERMS_FOR_FOLLOW_UP or not earlier_questions:
        return ask(session, question, answerer, episode=episode)
    combined = f"{earlier_questions[-1]} {question}"
    return replace(ask(session, combined, answerer, episode=episode), question=question)
