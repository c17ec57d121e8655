"""Engine and sessions: SQLite pragmas on every connection, and migrate-to-head on first use."""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

import migrations

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).parent
BUSY_TIMEOUT_MS = 10_000
# PostgreSQL: one advisory lock key for "migrating this database" (any constant will do).
MIGRATION_LOCK_KEY = 7_170_017
# Connections per process: the answer pool (32 with Claude), Bolt's listener threads and
# the scheduler read at once; past that a request waits up to POOL_WAIT_S for one.
POOL_SIZE, POOL_OVERFLOW, POOL_WAIT_S = 10, 30, 10
POOL_CONNECTIONS = POOL_SIZE + POOL_OVERFLOW
# Stored times are naive UTC (CURRENT_TIMESTAMP follows the session's zone on PostgreSQL);
# no JIT: compiling a search's plan costs more than the few milliseconds the search takes.
PG_CONNECT_ARGS = {
    "options": "-c timezone=UTC -c jit=off",
    "connect_timeout": 5,
    "application_name": "episode-bot",
}
MMAP_BYTES = 256 * 1024 * 1024
# The newest revision in migrations/versions. Checked against Alembic by a test, so that a
# command on an up-to-date database can skip importing Alembic (a fifth of start-up time).
SCHEMA_HEAD = "0017"


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message is one plain sentence."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (Slack handlers) run while a writer (ingest) works; the busy timeout
    # makes a writer wait for the lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # Memory-mapped reads: ranking touches many index pages, and mmap saves a copy per page.
    cursor.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    cursor.close()


def create_engine_for(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when it is missing."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            "DATABASE_URL is not a database URL: use sqlite:///path/to/episode-bot.db."
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"Cannot create the database folder {folder}: {exc.strerror}."
            ) from None
    try:
        if parsed.get_backend_name() == "postgresql":
            # pre_ping: a connection left broken by a server restart is replaced, not used.
            engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                pool_timeout=POOL_WAIT_S,
                connect_args=PG_CONNECT_ARGS,
            )
        else:
            engine = create_engine(url)
    except (ArgumentError, ValueError, TypeError) as exc:  # an option SQLite cannot take
        raise DatabaseError(
            f"DATABASE_URL has an option SQLite cannot use ({type(exc).__name__}): "
            "use sqlite:///path/to/episode-bot.db."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For autogenerate: the full-text index (FTS5's tables and their shadow tables, or
    PostgreSQL's tsvector column and its index) is written by hand in migrations, so it is
    not compared with the models."""
    if (
        type_ == "table"
        and name is not None
        and name.startswith(("segments_fts", "segment_lexemes", "episode_lexemes"))
    ):
        return False
    return not (type_ in ("column", "index") and name in ("search", "ix_segments_search"))


def alembic_config() -> Config:
    """Alembic configuration pointing at the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration revision shipped with this code, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One process opens a database for the first time at once: two first starts (the bot
    and a CLI command) would otherwise both create its tables, and switching a new file to
    WAL mode fails outright, without waiting, while another connection holds it."""
    database = engine.url.database
    if engine.url.get_backend_name() == "postgresql":
        with _advisory_lock(engine):
            yield
        return
    if engine.url.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        yield
        return
    try:
        handle = open(f"{database}.lock", "a+b")  # noqa: SIM115 (held across the yield)
    except OSError:
        yield  # a read-only folder: nobody can be migrating there either
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    """PostgreSQL's advisory lock, held on a connection of its own while processes (on any
    host) that share the database migrate it one at a time."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


def migrate(engine: Engine) -> bool:
    """Bring the schema to head. Returns True when any migration ran."""
    try:
        with _migration_lock(engine):
            if _current_revision(engine) == SCHEMA_HEAD:
                return False
            from alembic import command

            config = alembic_config()
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            if engine.url.get_backend_name() == "sqlite":
                engine.dispose()  # the migrating connection had its foreign keys off
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"Cannot open the database {engine.url.database}: {exc}.") from None
    except Exception as exc:  # SQLAlchemy wraps the driver's errors
        orig = getattr(exc, "orig", None)
        if isinstance(orig, sqlite3.DatabaseError):
            raise DatabaseError(
                f"Cannot open the database {engine.url.database}: {orig}."
            ) from None
        if engine.url.get_backend_name() == "postgresql" and (
            why := _postgres_refusal(engine, orig)
        ):
            raise DatabaseError(why) from None
        raise
    return True


# SQLSTATEs a first connection gets from PostgreSQL, and what to do about each.
_REFUSED_LOGIN = ("28P01", "28000")
_NO_DATABASE = "3D000"
_NO_PRIVILEGE = "42501"
_TOO_MANY_CONNECTIONS = "53300"


def _postgres_refusal(engine: Engine, orig: object) -> str | None:
    """One sentence for a PostgreSQL server that cannot be used as DATABASE_URL says (a
    refused login, no such database, no connection to spare, unreachable), or None for
    anything else. Never the password."""
    url = engine.url
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    code = getattr(orig, "sqlstate", None)
    if code is None:  # refused while connecting: libpq hands on the server's own words
        said = str(orig)
        if "password authentication failed" in said or "no pg_hba.conf entry" in said:
            code = _REFUSED_LOGIN[0]
        elif "does not exist" in said and "database" in said:
            code = _NO_DATABASE
        elif "too many clients" in said or "too many connections" in said:
            code = _TOO_MANY_CONNECTIONS
    if code in _REFUSED_LOGIN:
        return (
            f"PostgreSQL at {where} refused the user {url.username!r} or its password: fix "
            "them in DATABASE_URL."
        )
    if code == _NO_DATABASE:
        return (
            f"PostgreSQL at {where} has no database {url.database!r}: create it "
            f"(createdb -O {url.username} {url.database}) or fix DATABASE_URL."
        )
    if code == _TOO_MANY_CONNECTIONS:
        return (
            f"PostgreSQL at {where} has no connection to spare for {url.username!r}: raise "
            "max_connections (or the role's CONNECTION LIMIT), or run fewer bot processes; "
            f"each may hold up to {POOL_CONNECTIONS}."
        )
    if code == _NO_PRIVILEGE:
        return (
            f"The user {url.username!r} may not create tables in {url.database!r} at {where}: "
            "make it the database's owner (ALTER DATABASE ... OWNER TO ...)."
        )
    if code is None and type(orig).__name__ == "OperationalError":
        return (
            f"Cannot reach PostgreSQL at {where}: check that it runs there and DATABASE_URL's "
            "host and port."
        )
    return None


def open_database(url: str) -> sessionmaker[Session]:
    """Engine + migrations + a session factory: what every command starts with."""
    engine = create_engine_for(url)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)
