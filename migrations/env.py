"""Alembic environment: runs on a connection handed in by `db.engine`, or on DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.engine import include_object
from db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on,
        # SQLite empties it first and the cascades delete every child row (a thread's turns,
        # their feedback). Off for the migration (before any write opens a transaction, or
        # SQLite ignores it); the connection is not reused after (db.engine.migrate).
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER via table copies
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
            raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:3]}")


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
