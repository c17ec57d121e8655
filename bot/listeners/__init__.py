"""The Slack surface: one module per kind of request, each with `register(app, deps)`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.answering import Answerer


@dataclass(frozen=True)
class Deps:
    """What listeners need, handed in by the app factory (no module globals)."""

    session_factory: sessionmaker[Session]
    answerer: Answerer
