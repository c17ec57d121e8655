"""A PostgreSQL server that cannot be used as DATABASE_URL says is one sentence naming what
to fix, never the password: a refused login, a missing database, no connection to spare,
nobody listening."""

from __future__ import annotations

import psycopg
import pytest

from db.engine import DatabaseError, open_database
from tests.postgres_cluster import PASSWORD_ROLE, Cluster

PASSWORD = "right-horse-battery"


def _refusal(url: str) -> str:
    with pytest.raises(DatabaseError) as raised:
        open_database(url)
    return str(raised.value)


def test_a_wrong_password_is_one_sentence_without_it(postgres: Cluster) -> None:
    with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as db:
        db.execute(f"DROP ROLE IF EXISTS {PASSWORD_ROLE}")
        db.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
    url = postgres.url().replace("//bot@", f"//{PASSWORD_ROLE}:wrong-password@")
    said = _refusal(url)
    assert said == (
        f"PostgreSQL at 127.0.0.1:{postgres.port} refused the user '{PASSWORD_ROLE}' or its "
        "password: fix them in DATABASE_URL."
    )
    assert "wrong-password" not in said


def test_a_missing_database_says_how_to_create_it(postgres: Cluster) -> None:
    said = _refusal(postgres.url("no_such_db"))
    assert said == (
        f"PostgreSQL at 127.0.0.1:{postgres.port} has no database 'no_such_db': create it "
        "(createdb -O bot no_such_db) or fix DATABASE_URL."
    )


def test_nobody_listening_is_one_sentence() -> None:
    said = _refusal("postgresql+psycopg://bot:secret@127.0.0.1:9/db")
    assert said == (
        "Cannot reach PostgreSQL at 127.0.0.1:9: check that it runs there and DATABASE_URL's "
        "host and port."
    )


def test_no_connection_to_spare_says_what_to_change(postgres: Cluster) -> None:
    with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as db:
        db.execute("DROP ROLE IF EXISTS crowded")
        db.execute("CREATE ROLE crowded LOGIN CONNECTION LIMIT 0")
    said = _refusal(postgres.url().replace("//bot@", "//crowded@"))
    assert said == (
        f"PostgreSQL at 127.0.0.1:{postgres.port} has no connection to spare for 'crowded': "
        "raise max_connections (or the role's CONNECTION LIMIT), or run fewer bot processes; "
        "each may hold up to 40."
    ), said
