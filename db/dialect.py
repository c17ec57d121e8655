"""What differs between the database backends at the statement level, in one place: the
INSERT that knows ON CONFLICT, and text a backend refuses to store."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# PostgreSQL refuses NUL in text (SQLite keeps it): stored as the replacement character on
# both, so a question reads the same wherever it is stored.
NUL, REPLACEMENT = "\x00", "\ufffd"


def is_postgres(session: Session) -> bool:
    """Whether the session's database is PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert(session: Session, table: Any) -> Any:
    """An INSERT for `table` with the backend's `on_conflict_do_nothing` / `_do_update`."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


def storable(text: str) -> str:
    """`text` as every backend stores it (NUL replaced)."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text
