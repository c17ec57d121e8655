"""The command line on PostgreSQL, as a person runs it with DATABASE_URL naming a server:
migrate, then the first ask loads the sample and answers with quotes, and ingest, search,
episodes, takeaway, eval, replay and doctor work on the same database (serve: the
multi-process tests; socket and mcp: their own tests, on both backends)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.test_cli import run
from tests.conftest import FORMATS_DIR, SEED_SLUG
from tests.postgres_cluster import Cluster
from tests.retrieval.test_retrieval import DEV_QUESTIONS


def test_every_command_works_on_postgresql(
    env: dict[str, str], tmp_path: Path, postgres_url: str
) -> None:
    env = {**env, "DATABASE_URL": postgres_url.replace("postgresql+psycopg://", "postgresql://")}
    migrated = run("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0 and "***@" in migrated.stdout + migrated.stderr, migrated
    asked = run("ask", "What share of Claude Code is written by Claude?", env=env, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "sample episode" in asked.stderr and "turn " in asked.stdout
    assert not (tmp_path / "data").exists()  # nothing written to the SQLite default

    ingested = run("ingest", str(FORMATS_DIR / "talk.vtt"), env=env, cwd=tmp_path)
    assert ingested.returncode == 0 and "ingested" in ingested.stdout, ingested

    found = run("search", "merge queue", "--json", env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["episode"] == SEED_SLUG

    listed = run("episodes", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and SEED_SLUG in listed.stdout

    takeaway = run("takeaway", env=env, cwd=tmp_path)
    assert takeaway.returncode == 0, takeaway.stderr
    assert "turn " in takeaway.stdout or "—" in takeaway.stdout

    scored = run(
        "eval", str(DEV_QUESTIONS), "--episode", SEED_SLUG, "--json", env=env, cwd=tmp_path
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["recall"]["5"] >= 0.95

    replayed = run("replay", "--answerer", "offline", "--limit", "1", env=env, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr

    doctor = run("doctor", env=env, cwd=tmp_path)
    assert doctor.returncode == 0, doctor.stdout
    [database] = [line for line in doctor.stdout.splitlines() if "database" in line]
    assert re.fullmatch(
        r"✓ database: PostgreSQL 1\d\.\d+ at postgresql\+psycopg://\*\*\*@127\.0\.0\.1:\d+/\w+, "
        r"schema \d{4}, 2 episode\(s\); the server takes 300 connections, "
        r"a bot process up to \d+",
        database,
    ), database


def test_doctor_says_in_one_line_what_is_wrong_with_the_server(
    env: dict[str, str], tmp_path: Path, postgres: Cluster
) -> None:
    missing = {**env, "DATABASE_URL": postgres.url("no_such_db")}
    away = {**env, "DATABASE_URL": "postgresql://bot:hunter2-secret@127.0.0.1:9/db"}
    for settings, said in (
        (missing, f"PostgreSQL at 127.0.0.1:{postgres.port} has no database 'no_such_db'"),
        (away, "Cannot reach PostgreSQL at 127.0.0.1:9"),
    ):
        doctor = run("doctor", env=settings, cwd=tmp_path)
        assert doctor.returncode == 1
        [database] = [line for line in doctor.stdout.splitlines() if "database" in line]
        assert database.startswith(f"✗ database: {said}"), database
        assert "Traceback" not in doctor.stderr and "hunter2" not in doctor.stdout + doctor.stderr
