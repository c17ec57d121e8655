"""Alembic environment: runs on a connection handed in by `db.engine`, or on DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.engine import include_object
from db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER via table copies
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from bot.config import load_settings
    from db.engine import create_engine_for

    engine = create_engine_for(
        config.get_main_option("sqlalchemy.url") or load_settings().database_url
    )
    with engine.begin() as conn:
        _run(conn)
