"""slack_sdk's SQLAlchemy installation and OAuth state stores on the bot's own database
(their tables come from the migrations, not from the stores' `create_tables`)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


def _engine(sessions: sessionmaker[Session]) -> Engine:
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


def installation_store(
    sessions: sessionmaker[Session], client_id: str
) -> SQLAlchemyInstallationStore:
    """The installations of the app `client_id`, one row per install and token rotation."""
    return SQLAlchemyInstallationStore(client_id=client_id, engine=_engine(sessions))


def oauth_state_store(
    sessions: sessionmaker[Session], expiration_seconds: int
) -> SQLAlchemyOAuthStateStore:
    """The OAuth `state` values handed out by the install page, each good once."""
    return SQLAlchemyOAuthStateStore(
        expiration_seconds=expiration_seconds, engine=_engine(sessions)
    )
