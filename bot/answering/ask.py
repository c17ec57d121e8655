"""Ask: retrieval then an answerer. The CLI and Slack both call `ask`, so what the CLI
shows is what Slack users get."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.answering import Answer, Answerer
from bot.retrieval import retrieve

PASSAGES_FOR_ANSWER = 6


def ask(
    session: Session, question: str, answerer: Answerer, *, episode: str | None = None
) -> Answer:
    """Answer `question` from one episode (by slug) or from the whole library."""
    passages = retrieve(session, question, episode=episode, limit=PASSAGES_FOR_ANSWER)
    return answerer.answer(question, passages)
