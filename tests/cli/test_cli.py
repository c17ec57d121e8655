"""The `episode-bot` command as a user runs it: a real subprocess on a real database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.engine import SCHEMA_HEAD
from tests.conftest import FORMATS_DIR, SEED, SEED_SLUG
from tests.fakes.anthropic_api import AnthropicStandIn
from tests.fakes.slack_api import SlackApiStandIn

SCRIPT = Path(sys.executable).parent / "episode-bot"


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_first_ask_creates_the_database_loads_the_sample_and_answers(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run("ask", "What share of Claude Code is written by Claude?", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "episode-bot" / "episode-bot.db").exists()
    assert result.stderr.count("\n") == 1 and "sample episode" in result.stderr
    assert "quoted from the transcript" in result.stdout
    assert "95%" in result.stdout
    # Asked across the library (the default), so each quote names its episode.
    assert "Mike Krieger (Anthropic's CPO on what comes next" in result.stdout
    assert "Instagram), turn 23)" in result.stdout

    again = run("ask", "Who is Boris?", env=env, cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""  # loaded once only


def test_ask_json_has_citations_and_not_covered_is_honest(
    env: dict[str, str], tmp_path: Path
) -> None:
    covered = json.loads(run("ask", "Who is Boris?", "--json", env=env, cwd=tmp_path).stdout)
    assert covered["covered"] is True and covered["answerer"] == "offline"
    assert {c["position"] for c in covered["citations"]} & {23, 53}
    assert all("Boris" in c["quote"] for c in covered["citations"])
    assert all(c["speaker"] == "Mike Krieger" for c in covered["citations"])

    result = run("ask", "What is Mike's favourite cryptocurrency?", "--json", env=env, cwd=tmp_path)
    not_covered = json.loads(result.stdout)
    assert not_covered["covered"] is False and not_covered["citations"] == []
    # Asked of the whole library, so the answer speaks of every episode.
    assert not_covered["text"].startswith("No episode seems to cover this")


def test_search_json_fields(env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        "search",
        "merge queue",
        "--episode",
        SEED_SLUG,
        "--limit",
        "3",
        "--json",
        env=env,
        cwd=tmp_path,
    )
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    assert {"episode", "position", "speaker", "start_seconds", "kind", "score", "text"} <= set(
        rows[0]
    )
    assert rows[0]["episode"] == SEED_SLUG and rows[0]["position"] == 21
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", ""), "empty"),
        (("search", "🤖 ??"), "no words"),
        (("ask", "   "), "empty"),
        (("search", "boris", "--episode", "nope"), "No episode has the slug 'nope'"),
        (("ask", "--all", "--episode", SEED_SLUG, "Who is Boris?"), "not both"),
        (("search", "--episode", SEED_SLUG, "--all", "boris"), "Give --episode or --all"),
    ],
)
def test_bad_queries_get_one_clear_line(
    env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args, env=env, cwd=tmp_path)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if "sample episode" not in line]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert "Traceback" not in result.stderr


def test_all_asks_across_the_library_and_quotes_link_their_moment(
    env: dict[str, str], tmp_path: Path
) -> None:
    ingested = run(
        "ingest", str(SEED), str(FORMATS_DIR / "archive-episode.md"), env=env, cwd=tmp_path
    )
    assert ingested.stdout.strip() == "2 ingested, 0 unchanged, 0 failed"
    moment = "https://www.youtube.com/watch?v=abc123XYZ_0&t=9s"

    scoped = run(
        "ask", "--episode", SEED_SLUG, "What does cutting scope mean?", env=env, cwd=tmp_path
    )
    assert "doesn't seem to cover" in scoped.stdout

    answer = run("ask", "--all", "What does cutting scope mean?", env=env, cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    assert "— Lenny Rachitsky (Shipping small: how to cut scope | Ada Example, turn 3, 0:09)" in (
        answer.stdout
    )
    assert f"        {moment}" in answer.stdout.splitlines()
    same = run("ask", "What does cutting scope mean?", env=env, cwd=tmp_path)
    assert same.stdout == answer.stdout  # --all says out loud what the default does

    as_json = json.loads(
        run("ask", "--all", "--json", "What does cutting scope mean?", env=env, cwd=tmp_path).stdout
    )
    cited = as_json["citations"][0]
    assert (cited["url"], cited["timestamp"]) == (moment, "0:09")
    assert cited["episode_url"] == "https://www.youtube.com/watch?v=abc123XYZ_0"

    found = run("search", "--all", "scope", "--limit", "1", env=env, cwd=tmp_path)
    assert found.stdout.splitlines()[:3] == [
        "archive-episode  turn 3 (0:09)  Lenny Rachitsky",
        "    Let's start with scope. What does cutting scope mean to you?",
        f"    {moment}",
    ]
    rows = json.loads(run("search", "scope", "--json", env=env, cwd=tmp_path).stdout)
    assert rows[0]["url"] == moment
    # `--episode all` means the library, as `/episode use all` does in Slack.
    spelled = run("search", "--episode", "All", "scope", "--json", env=env, cwd=tmp_path)
    assert json.loads(spelled.stdout) == rows
    seed_rows = json.loads(
        run("search", "boris", "--episode", SEED_SLUG, "--json", env=env, cwd=tmp_path).stdout
    )
    assert seed_rows and all(row["url"] is None for row in seed_rows)  # no video, no times


def test_ingest_reports_each_failure_and_a_summary(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "talk.srt").write_bytes((FORMATS_DIR / "talk.srt").read_bytes())
    (folder / "seed.txt").write_bytes(SEED.read_bytes())

    first = run("ingest", str(folder), env=env, cwd=tmp_path)
    assert first.returncode == 1
    assert first.stdout.strip() == "2 ingested, 0 unchanged, 1 failed"
    assert "empty.txt: file is empty" in first.stderr

    (folder / "empty.txt").unlink()
    second = run("ingest", str(folder), env=env, cwd=tmp_path)
    assert second.returncode == 0
    assert second.stdout.strip() == "0 ingested, 2 unchanged, 0 failed"

    listed = json.loads(run("episodes", "--json", env=env, cwd=tmp_path).stdout)
    assert {e["slug"] for e in listed} == {"seed", "talk"}
    assert next(e for e in listed if e["slug"] == "seed")["turns"] == 85


def test_many_files_show_a_progress_bar(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(8):
        (folder / f"talk-{number}.txt").write_text(
            f"Ann: question number {number}\nBob: answer number {number}\n"
        )
    result = run("ingest", str(folder), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Ingesting" in result.stderr
    assert result.stdout.strip() == "8 ingested, 0 unchanged, 0 failed"


def test_migrate_and_bad_database_url(env: dict[str, str], tmp_path: Path) -> None:
    ok = run("migrate", env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert ok.returncode == 0 and f"revision {SCHEMA_HEAD}" in ok.stdout

    bad = run("episodes", env={**env, "DATABASE_URL": "postgres://nope"}, cwd=tmp_path)
    assert bad.returncode == 1 and "DATABASE_URL" in bad.stderr
    assert "Traceback" not in bad.stderr

    not_a_db = tmp_path / "not.db"
    not_a_db.write_bytes(b"this is not a database" * 100)
    broken = run("episodes", env={**env, "DATABASE_URL": f"sqlite:///{not_a_db}"}, cwd=tmp_path)
    assert broken.returncode == 1 and "Cannot open the database" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_ask_with_a_key_prints_claudes_answer_and_stores_its_trace(
    env: dict[str, str], tmp_path: Path
) -> None:
    key = "sk-ant-api03-cli-test-key-5c4d"
    claude = AnthropicStandIn(api_key=key).start()
    try:
        claude_env = {**env, "ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": claude.url}
        result = run("ask", "--episode", SEED_SLUG, "Who is Boris?", env=claude_env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "From the episode" in result.stdout and "[1]" in result.stdout
        claude.fail_next("401")
        refused = run("ask", "Who is Boris?", env=claude_env, cwd=tmp_path)
    finally:
        claude.stop()
    assert refused.returncode == 0
    assert "Anthropic refused the API key" in refused.stdout
    assert "quoted from the transcript" in refused.stdout
    assert key not in refused.stdout + refused.stderr
    database = tmp_path / "data" / "episode-bot" / "episode-bot.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT answerer, fallback_reason FROM answer_traces").fetchall()
    assert rows == [("claude", None), ("offline (fallback)", "HTTP 401")]


def test_doctor_says_what_works(env: dict[str, str], tmp_path: Path) -> None:
    slack = SlackApiStandIn().start()
    claude = AnthropicStandIn(api_key="sk-ant-api03-doctor-key-1234").start()
    try:
        offline = run("doctor", env=env, cwd=tmp_path)
        assert offline.returncode == 0, offline.stdout
        assert "✓ database: SQLite 3." in offline.stdout
        assert "- slack: not configured" in offline.stdout
        assert "- claude: no ANTHROPIC_API_KEY" in offline.stdout
        configured = {
            **env,
            "SLACK_BOT_TOKEN": "xoxb-doctor-token",
            "SLACK_SIGNING_SECRET": "doctordoctordoctor1234",
            "SLACK_API_URL": slack.url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-doctor-key-1234",
            "ANTHROPIC_BASE_URL": claude.url,
        }
        working = run("doctor", env=configured, cwd=tmp_path)
        assert working.returncode == 0, working.stdout
        assert "✓ slack: token accepted" in working.stdout
        assert "✓ claude: key accepted, model claude-sonnet-5-5" in working.stdout
        wrong = {**configured, "ANTHROPIC_API_KEY": "sk-ant-api03-wrong", "ANTHROPIC_MODEL": "x"}
        broken = run("doctor", env=wrong, cwd=tmp_path)
        assert broken.returncode == 1
        assert "✗ claude: Anthropic refused ANTHROPIC_API_KEY" in broken.stdout
        assert "sk-ant-api03" not in broken.stdout + broken.stderr
        unknown = run("doctor", env={**configured, "ANTHROPIC_MODEL": "gpt-4o"}, cwd=tmp_path)
        assert unknown.returncode == 1 and "✗ claude: no model 'gpt-4o'" in unknown.stdout
    finally:
        slack.stop()
        claude.stop()


def test_with_a_library_per_workspace_ingest_and_eval_name_the_workspace(
    env: dict[str, str], tmp_path: Path
) -> None:
    own = {**env, "LIBRARY_PER_WORKSPACE": "true"}
    questions = str(Path(__file__).parents[1] / "data" / "dev_questions.jsonl")
    refused = run("ingest", str(SEED), env=own, cwd=tmp_path)
    assert refused.returncode == 1 and "--team TEAM_ID" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert run("ingest", "--team", "T0SEED", str(SEED), env=own, cwd=tmp_path).returncode == 0
    ada = str(FORMATS_DIR / "archive-episode.md")
    assert run("ingest", "--team", "T0ADA", ada, env=own, cwd=tmp_path).returncode == 0

    scored = run(
        "eval",
        questions,
        "--team",
        "T0SEED",
        "--episode",
        SEED_SLUG,
        "--json",
        env=own,
        cwd=tmp_path,
    )
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["recall"]["5"] >= 0.95
    # The other workspace's library does not hold the seed: said in one sentence.
    elsewhere = run(
        "eval", questions, "--team", "T0ADA", "--episode", SEED_SLUG, env=own, cwd=tmp_path
    )
    assert (
        elsewhere.returncode == 1 and f"no episode has the slug '{SEED_SLUG}'" in elsewhere.stderr
    )

    listed = run("episodes", "--team", "T0ADA", env=own, cwd=tmp_path)
    assert listed.stdout.split()[0] == "archive-episode" and SEED_SLUG not in listed.stdout
    everything = run("episodes", env=own, cwd=tmp_path)
    assert SEED_SLUG in everything.stdout and "archive-episode" in everything.stdout
