"""Which database server a session talks to, as `doctor` names it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.dialect import is_postgres


def describe_backend(session: Session) -> str:
    """`PostgreSQL 15.8` or `SQLite 3.40.1`: the server's (or library's) own version."""
    if is_postgres(session):
        version = session.execute(text("SHOW server_version")).scalar_one()
        # Debian's builds add their package name: "15.8 (Debian 15.8-0+deb12u1)".
        return f"PostgreSQL {str(version).split(' ', 1)[0]}"
    return f"SQLite {session.execute(text('SELECT sqlite_version()')).scalar_one()}"


def connection_limit(session: Session) -> int | None:
    """How many connections the PostgreSQL server takes in all (None on SQLite)."""
    if not is_postgres(session):
        return None
    return int(session.execute(text("SHOW max_connections")).scalar_one())
