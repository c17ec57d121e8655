"""Faults: a process killed mid-ingest, Slack away for a while, another process holding the
database's write lock. The bot keeps working, loses nothing and says nothing wrong."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import SCRIPT, run
from tests.fakes.slack_api import SlackApiStandIn
from tests.system.test_slack_serve import Server, _posts, _wait_for, running_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`episode-bot serve` against a Slack stand-in of its own."""
    slack = SlackApiStandIn().start()
    try:
        with running_server(tmp_path, slack) as running:
            yield running
    finally:
        slack.stop()


WORDS = "product strategy agents models pricing hiring roadmap users growth design".split()


def _write_episodes(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        lines = []
        for turn in range(40):
            topic = " ".join(WORDS[(n + turn + k) % len(WORDS)] for k in range(30))
            speaker = "Host Person" if turn % 2 == 0 else f"Guest Number {n}"
            lines.append(f"{speaker}: Episode {n} turn {turn} talks about {topic}.")
        (folder / f"episode-{n:03d}.txt").write_text("\n".join(lines) + "\n")


def test_a_kill_during_ingest_of_300_files_leaves_a_consistent_library_and_a_rerun_finishes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "archive"
    _write_episodes(folder, 300)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    ingest = subprocess.Popen(
        [str(SCRIPT), "ingest", str(folder)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )

    def some_stored() -> bool:
        try:
            with sqlite3.connect(database, timeout=5) as connection:
                return connection.execute("SELECT count(*) FROM episodes").fetchone()[0] >= 20
        except sqlite3.Error:
            return False

    assert _wait_for(some_stored, 60), "ingest stored nothing"
    os.killpg(ingest.pid, signal.SIGKILL)  # the writer and its parsing workers, mid-run
    ingest.wait(10)
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM episodes").fetchone()[0]
        assert 20 <= stored < 300, "the kill came too late to test anything"
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        connection.execute("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')")
        # Every stored episode is whole: all 40 turns or none.
        partial = connection.execute(
            "SELECT count(*) FROM episodes e WHERE e.turn_count != "
            "(SELECT count(DISTINCT position) FROM segments s WHERE s.episode_id = e.id)"
        ).fetchone()[0]
        assert partial == 0
    rerun = run("ingest", str(folder), env=env, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == f"{300 - stored} ingested, {stored} unchanged, 0 failed"
    listed = json.loads(run("episodes", "--json", env=env, cwd=tmp_path).stdout)
    assert len(listed) == 300


def test_slack_away_for_a_while_the_answer_arrives_once_when_it_is_back(
    server: Server,
) -> None:
    server.slack.outage(6.0)  # connections refused, then back on the same port
    began = time.monotonic()
    status, _, seconds = server.post(server.command("ask Who is Boris?"))
    assert status == 200 and seconds < 3  # acknowledging needs no Slack
    assert _wait_for(lambda: len(_posts(server.slack)) == 1, 40)
    assert time.monotonic() - began >= 5.5  # it was posted once Slack was back
    time.sleep(1.0)
    assert len(_posts(server.slack)) == 1


def test_another_process_holding_the_write_lock_makes_the_answer_wait_not_fail(
    server: Server, tmp_path: Path
) -> None:
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "c.execute(\"INSERT INTO processed_events(event_id) VALUES ('held-lock')\")\n"
            "print('locked', flush=True)\n"
            "time.sleep(2.0)\n"
            "c.execute('COMMIT')\n",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    began = time.monotonic()
    status, _, _ = server.post(server.command("ask Who is Boris?"))
    assert status == 200
    assert _wait_for(lambda: len(_posts(server.slack)) == 1, 20)
    assert time.monotonic() - began >= 1.0  # it waited for the lock, then went on
    holder.wait(10)
    replies = [c.params.get("text", "") for c in server.slack.calls_to("response_url")]
    assert not any("library" in text for text in replies)  # nobody was told it failed


def test_the_slack_stand_in_comes_back_on_the_same_port() -> None:
    from slack_sdk import WebClient

    slack = SlackApiStandIn().start()
    client = WebClient(token="xoxb-outage-test", base_url=slack.url, retry_handlers=[])
    slack.outage(0.5)
    with pytest.raises(OSError):  # away: the connection is refused
        client.auth_test()
    time.sleep(1.0)
    assert client.auth_test()["ok"]  # back, at the same address
    slack.stop()
