"""The migrations create exactly what the models describe, plus the FTS5 index and its
triggers, and the index stays in step with the segments table."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import create_engine_for, head_revision, include_object, migrate
from db.models import Base


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = create_engine_for(database_url)
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.sqlite_only  # FTS5; PostgreSQL's index: test_postgres_schema
def test_migrations_create_fts_index_and_triggers(database_url: str) -> None:
    engine = create_engine_for(database_url)
    assert migrate(engine) is True
    assert migrate(engine) is False  # second start: nothing to do
    with engine.connect() as connection:
        names = set(connection.execute(text("SELECT name FROM sqlite_master")).scalars())
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert {"segments_fts", "segments_fts_ai", "segments_fts_ad", "segments_fts_au"} <= names
    assert version == head_revision()


@pytest.mark.sqlite_only  # SQLite's pragmas
def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(database_url: str) -> None:
    engine = create_engine_for(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def _fts_ids(session: Session, word: str) -> set[int]:
    return set(
        session.execute(
            text("SELECT rowid FROM segments_fts WHERE segments_fts MATCH :m"), {"m": word}
        ).scalars()
    )


@pytest.mark.sqlite_only  # FTS5; PostgreSQL's index: test_postgres_schema
def test_fts_index_follows_insert_update_and_cascaded_delete(
    seeded: sessionmaker[Session],
) -> None:
    with seeded.begin() as session:
        turn_id = session.execute(
            text("SELECT id FROM segments WHERE position = 23 AND part = 0")
        ).scalar()
        assert turn_id in _fts_ids(session, "boris")
        session.execute(
            text("UPDATE segments SET text = 'zebrafish only' WHERE id = :i"), {"i": turn_id}
        )
    with seeded.begin() as session:
        assert turn_id in _fts_ids(session, "zebrafish")
        assert turn_id not in _fts_ids(session, "boris")
        session.execute(text("DELETE FROM episodes"))
    with seeded() as session:
        assert session.execute(text("SELECT count(*) FROM segments")).scalar() == 0
        assert _fts_ids(session, "zebrafish") == set()
        # The index itself agrees with its content table after all of that.
        session.execute(text("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')"))


def test_downgrade_removes_everything(database_url: str) -> None:
    from alembic import command

    from db.engine import alembic_config

    engine = create_engine_for(database_url)
    migrate(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with create_engine(database_url).connect() as connection:
        if connection.dialect.name == "postgresql":  # tables, functions, the search config
            names = set(
                connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "UNION SELECT proname FROM pg_proc "
                        "WHERE pronamespace = 'public'::regnamespace "
                        "UNION SELECT cfgname FROM pg_ts_config WHERE cfgname = 'episode_bot'"
                    )
                ).scalars()
            )
        else:
            names = set(connection.execute(text("SELECT name FROM sqlite_master")).scalars())
    assert names <= {"alembic_version", "sqlite_autoindex_alembic_version_1"}


def test_schema_head_constant_matches_the_newest_migration() -> None:
    from db.engine import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def test_two_processes_starting_on_a_new_database_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    go = tmp_path / "go"
    # Each process imports first and then waits for the same moment, so that they really
    # race for the empty database.
    script = (
        "import sys, time, pathlib\n"
        "from db.engine import open_database\n"
        "go = pathlib.Path(sys.argv[2])\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "open_database(sys.argv[1])\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(go)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    time.sleep(1.5)  # all four have imported and are waiting
    go.touch()
    errors = [run.communicate(timeout=60)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], errors
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (head_revision(),)
        ]


def test_frozen_copies_in_migrations_match_the_code_that_stores_new_episodes() -> None:
    # 0006 and 0007 fill stored rows with their own frozen copies; new rows are keyed by
    # bot.ingest.identity. If these ever differ, doubles stop being recognised: a new
    # migration must key the stored episodes again.
    import importlib.util

    from bot.ingest.identity import conversation_hash, title_key

    def revision(name: str) -> Any:
        path = Path(__file__).parents[2] / "migrations" / "versions" / name
        spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    titles = ["Anthropic\u2019s CPO | Mike Krieger", "  ¡Shipping — small!  ", "Transcript", ""]
    frozen_key = revision("0006_episode_title_keys.py").title_key
    assert [frozen_key(t) for t in titles] == [title_key(t) for t in titles]
    passages = [("Mike Krieger", "It's Claude Code, 95%!"), ("Lenny", "Wow.\nReally?")]
    frozen_hash = revision("0007_conversation_hashes.py").conversation_hash
    assert frozen_hash(passages) == conversation_hash(passages)
