"""`episode-bot replay`: stored answers asked again with another model, through the real
CLI and the real anthropic SDK against the loopback Messages API stand-in; old and new side
by side with their tokens."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering.offline import OfflineAnswerer
from bot.evaluation.report import render as render_replay
from bot.services.asking import ask
from bot.services.evaluation import replay_recent
from bot.services.library import Library
from tests.cli.test_cli import run
from tests.conftest import SEED, SEED_SLUG
from tests.fakes.anthropic_api import AnthropicStandIn

KEY = "sk-ant-api03-replay-test-key-51c9"
OLD_MODEL = "claude-sonnet-5-5"
NEW_MODEL = "claude-opus-5-1"


@pytest.fixture
def claude_api() -> Iterator[AnthropicStandIn]:
    stand_in = AnthropicStandIn(api_key=KEY).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def env(tmp_path: Path, claude_api: AnthropicStandIn) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "LOG_LEVEL"} and not k.startswith(("ANTHROPIC_", "SLACK_"))
    }
    clean |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'library.db'}",
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": claude_api.url,
        "ANTHROPIC_MODEL": OLD_MODEL,
    }
    return clean


def _answered(env: dict[str, str], tmp_path: Path) -> None:
    assert run("ingest", str(SEED), env=env, cwd=tmp_path).returncode == 0
    for args in (("--episode", SEED_SLUG, "Who is Boris?"), ("--all", "What is cursorbench?")):
        asked = run("ask", *args, env=env, cwd=tmp_path)
        assert asked.returncode == 0, asked.stderr


def test_replay_with_another_model_shows_both_answers_and_their_tokens(
    env: dict[str, str], tmp_path: Path, claude_api: AnthropicStandIn
) -> None:
    _answered(env, tmp_path)
    replayed = run("replay", "--model", NEW_MODEL, "--json", env=env, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    traces = json.loads(replayed.stdout)
    assert [t["question"] for t in traces] == ["Who is Boris?", "What is cursorbench?"]
    assert [t["episode"] for t in traces] == [SEED_SLUG, None]
    for trace in traces:
        before, after = trace["before"], trace["after"]
        assert (before["answerer"], before["model"]) == ("claude", OLD_MODEL)
        assert (after["answerer"], after["model"]) == ("claude", NEW_MODEL)
        assert before["text"] and after["text"]
        assert before["citations"] and after["citations"]
        # Counted, not copied: each side's own request to the API.
        assert before["input_tokens"] + before["cache_read_input_tokens"] > 0
        assert after["input_tokens"] + after["cache_read_input_tokens"] > 0
        assert after["output_tokens"] > 0 and after["latency_ms"] > 0
        assert trace["same_passages"] is True and trace["problem"] is None
    # The library-wide question searched once before answering, both times.
    assert traces[1]["before"]["round_trips"] == traces[1]["after"]["round_trips"] == 2
    for side in (traces[1]["before"], traces[1]["after"]):
        [search] = side["searches"]
        assert search.startswith("search “cursorbench”") and "new passages" in search
    assert traces[0]["before"]["searches"] == traces[0]["after"]["searches"] == []
    sent = [r.body["model"] for r in claude_api.requests_to("/v1/messages")]
    assert sent == [OLD_MODEL, OLD_MODEL, OLD_MODEL, NEW_MODEL, NEW_MODEL, NEW_MODEL]
    # The one-episode question reads the whole episode as a cached document: the replay's
    # request writes its own cache (a new model has its own), counted as such.
    assert traces[0]["after"]["cache_creation_input_tokens"] > 0

    shown = run("replay", "--model", NEW_MODEL, "--limit", "1", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "## 1. Trace 2 · " in text and "the whole library" in text
    assert f"| answered by | claude · {OLD_MODEL} | claude · {NEW_MODEL} |" in text
    assert "| tokens | " in text and " out |" in text
    assert "| searches | search “cursorbench” → " in text and "(2 requests) |" in text
    assert "**Before:**" in text and "**Now:**" in text
    assert "## Totals over 1 answered both times" in text
    assert KEY not in text + shown.stderr + replayed.stderr


def test_replay_offline_against_claude_answers_and_the_refusals(
    env: dict[str, str], tmp_path: Path
) -> None:
    nothing = run("replay", env=env, cwd=tmp_path)
    assert nothing.returncode == 1 and "No stored answers to replay" in nothing.stderr
    _answered(env, tmp_path)
    offline = json.loads(
        run("replay", "--answerer", "offline", "--json", env=env, cwd=tmp_path).stdout
    )
    assert [t["after"]["answerer"] for t in offline] == ["offline", "offline"]
    assert all(t["after"]["quotes"] for t in offline)
    later = run("replay", "--since", "2999-01-01", env=env, cwd=tmp_path)
    assert later.returncode == 1 and "since 2999-01-01" in later.stderr
    both = run("replay", "--model", NEW_MODEL, "--answerer", "offline", env=env, cwd=tmp_path)
    assert both.returncode == 1 and "needs Claude" in both.stderr
    keyless = {k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"}
    refused = run("replay", "--model", NEW_MODEL, env=keyless, cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: Answering with Claude needs ANTHROPIC_API_KEY; set it, or use --answerer offline."
    )


def test_a_trace_whose_episode_is_gone_is_shown_not_replayed(
    env: dict[str, str], tmp_path: Path
) -> None:
    _answered(env, tmp_path)
    from sqlalchemy import text

    from db.engine import open_database

    with open_database(env["DATABASE_URL"]).begin() as session:
        session.execute(text("DELETE FROM episodes"))
    shown = run("replay", "--answerer", "offline", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Not replayed: episode {SEED_SLUG} is no longer in the library." in shown.stdout
    # The library-wide question still runs: nothing left to quote is an answer too.
    assert "No episode seems to cover this" in shown.stdout


def test_both_sides_show_their_quotes_and_an_offline_answer_its_time(
    library: Library, tmp_path: Path
) -> None:
    """The Before side quotes the turns the stored answer cited (a stored answer keeps
    which, not its excerpts), one per turn; an offline answer's latency is its wall clock,
    shown with a decimal under 10 ms, not as 0 ms."""
    ask(library, "Who is Boris?", OfflineAnswerer())
    [replayed] = replay_recent(library, OfflineAnswerer(), since=None, limit=1)
    assert replayed.before.latency_ms > 0 and replayed.after is not None
    text = render_replay([replayed])
    before = text.split("**Before:**", 1)[1].split("**Now:**", 1)[0]
    numbered = [line for line in before.splitlines() if line[:4] in ("> 1.", "> 2.", "> 3.")]
    assert len(numbered) == len(replayed.before.citations) == 2
    assert "(Mike Krieger, mike-krieger-anthropic-cpo turn 23)" in before
    [latency] = [line for line in text.splitlines() if line.startswith("| latency |")]
    assert re.fullmatch(r"\| latency \| \d\.\d ms \| \d\.\d ms \|", latency), latency
