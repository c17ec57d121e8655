"""Ingest follows links only within the folder it was given (a file named itself is read even
when it is a link), and a full disk stops the run with one sentence, keeping what was
stored."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.ingest.pipeline import DISK_FULL, FileResult, ingest_files, ingest_paths
from bot.services.library import transcript_files
from db.models import Episode

SCRIPT = Path(sys.executable).parent / "episode-bot"


def _transcript(guest: str, turns: int = 40) -> str:
    """A plain `Speaker: text` transcript whose words are its own."""
    lines = []
    for n in range(turns):
        speaker = "Ann Host" if n % 2 == 0 else f"{guest} Guest"
        lines.append(f"{speaker}: {guest} point {n} about roadmaps, pricing and team {n * 7}.")
    return "\n".join(lines) + "\n"


def _slugs(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(Episode.slug)))


def test_a_link_out_of_the_folder_is_skipped_and_a_named_link_is_read(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text(_transcript("Secret"))
    (outside / "more").mkdir()
    (outside / "more" / "hidden.txt").write_text(_transcript("Hidden"))
    archive = tmp_path / "archive"
    (archive / "inner").mkdir(parents=True)
    (archive / "inner" / "real.txt").write_text(_transcript("Real"))
    (archive / "notes.txt").symlink_to(outside / "secret.txt")
    (archive / "elsewhere").symlink_to(outside / "more", target_is_directory=True)
    (archive / "alias.txt").symlink_to(archive / "inner" / "real.txt")  # stays within

    files, refused = transcript_files([archive])
    assert files == [archive / "alias.txt"]  # the real file's other name, read once
    assert sorted(r.path.name for r in refused) == ["elsewhere", "notes.txt"]
    for result in refused:
        assert result.failed and result.message.startswith("skipped: it is a link to a ")
        assert f"outside {archive}" in result.message

    results = ingest_paths(session_factory, [archive])
    assert [r.status for r in results] == ["failed", "failed", "ingested"]
    assert _slugs(session_factory) == ["alias"]

    # Named on the command line, the link is what the person asked for.
    [named] = ingest_paths(session_factory, [archive / "notes.txt"])
    assert named.status == "ingested", named.message
    assert _slugs(session_factory) == ["alias", "notes"]


def test_the_cli_prints_one_line_per_link_out_and_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "private.txt").write_text(_transcript("Secret"))
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "real.txt").write_text(_transcript("Real"))
    (archive / "notes.txt").symlink_to(tmp_path / "private.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SLACK_"))}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    result = subprocess.run(
        [str(SCRIPT), "ingest", str(archive)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"{archive / 'notes.txt'}: skipped: it is a link to a file")
    assert "1 ingested, 0 unchanged, 1 failed" in result.stdout


def _fill_disk_after_first(session_factory: sessionmaker[Session]) -> Any:
    """An on_result that makes the database full once the first file is stored: every
    connection from then on may not grow the file (PRAGMA max_page_count is per connection,
    and is never set below the pages the file has)."""
    engine = session_factory.kw["bind"]

    def no_more_pages(dbapi_connection: sqlite3.Connection, *_: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    def on_result(result: FileResult) -> None:
        if not event.contains(engine, "checkout", no_more_pages):
            event.listen(engine, "checkout", no_more_pages)

    return on_result


def test_max_page_count_gives_sqlite_full(tmp_path: Path) -> None:
    """The simulation below is SQLite's own SQLITE_FULL, as on a full disk."""
    connection = sqlite3.connect(tmp_path / "full.db")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.execute("PRAGMA max_page_count = 1")
    try:
        connection.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    except sqlite3.OperationalError as exc:
        assert exc.sqlite_errorcode == sqlite3.SQLITE_FULL
        assert str(exc) == "database or disk is full"
    else:
        raise AssertionError("max_page_count did not fill the database")
    finally:
        connection.close()


@pytest.mark.sqlite_only  # a SQLite file's page limit
def test_a_full_disk_stops_the_run_with_one_sentence_and_keeps_what_was_stored(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for guest in ("alpha", "bravo", "charlie", "delta"):
        (folder / f"{guest}.txt").write_text(_transcript(guest.capitalize(), turns=200))
    files, _ = transcript_files([folder])
    heard: list[FileResult] = []
    fill = _fill_disk_after_first(session_factory)

    def on_result(result: FileResult) -> None:
        heard.append(result)
        fill(result)

    results = ingest_files(session_factory, files, on_result=on_result)
    assert [r.status for r in results] == ["ingested", "failed"]  # then it stopped
    assert results == heard
    stopped = results[-1]
    assert stopped.stops_run and stopped.message == DISK_FULL
    assert "database error" not in stopped.message
    # The episode stored before the disk filled is there, whole.
    assert _slugs(session_factory) == ["alpha"]
    with session_factory() as session:
        episode = session.scalar(select(Episode))
        assert episode is not None and episode.turn_count == 200
