"""The command line on PostgreSQL, as a person runs it with DATABASE_URL naming a server:
the first ask loads the sample and answers with quotes, and search, episodes, takeaway,
eval, replay and doctor work on the same database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import run
from tests.conftest import SEED_SLUG
from tests.retrieval.test_retrieval import DEV_QUESTIONS


def test_every_command_works_on_postgresql(
    env: dict[str, str], tmp_path: Path, postgres_url: str
) -> None:
    env = {**env, "DATABASE_URL": postgres_url.replace("postgresql+psycopg://", "postgresql://")}
    asked = run("ask", "What share of Claude Code is written by Claude?", env=env, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "sample episode" in asked.stderr and "turn " in asked.stdout
    assert not (tmp_path / "data").exists()  # nothing written to the SQLite default

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
    assert "✓ database: postgresql+psycopg://***@" in doctor.stdout, doctor.stdout
