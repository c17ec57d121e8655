"""Settings that look right but are not, as a new user meets them: a mistyped name in .env,
a signing secret cut short, a channel given by its name."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run


def test_a_mistyped_setting_is_named_with_the_one_it_looks_like(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKE=xoxb-1-2-3\nANTROPIC_API_KEY=sk-x\nFOO=bar\n")
    listed = run("episodes", env={**env, "DIGEST_TIMEZNE": "UTC"}, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("Warning")]
    assert warnings == [
        "Warning: ANTROPIC_API_KEY is not a setting; did you mean ANTHROPIC_API_KEY?",
        "Warning: DIGEST_TIMEZNE is not a setting; did you mean DIGEST_TIMEZONE?",
        "Warning: SLACK_BOT_TOKE is not a setting; did you mean SLACK_BOT_TOKEN?",
    ]
    # Right names say nothing.
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-1-2-3\nPORT=3001\n")
    assert "Warning" not in run("episodes", env=env, cwd=tmp_path).stderr


def test_a_signing_secret_cut_short_says_so(env: dict[str, str], tmp_path: Path) -> None:
    short = {**env, "SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "0123456789abcde"}
    served = run("serve", env=short, cwd=tmp_path)
    assert served.returncode == 1
    assert "SLACK_SIGNING_SECRET is set but only 15 characters long" in served.stderr
    unset = run("serve", env={**env, "SLACK_BOT_TOKEN": "xoxb-1-2-3"}, cwd=tmp_path)
    assert "SLACK_SIGNING_SECRET must be set" in unset.stderr


def test_a_channel_given_by_its_name_is_refused_in_one_sentence(
    env: dict[str, str], tmp_path: Path
) -> None:
    for name in ("general", "#general"):
        result = run("takeaway", "--channel", name, env=env, cwd=tmp_path)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert "is not a channel id: give the id (C0123ABCD)" in result.stderr
    assert run("takeaway", "--channel", "C0123ABCD", env=env, cwd=tmp_path).returncode == 0


def test_a_search_of_common_words_only_says_there_is_nothing_to_search_for(
    env: dict[str, str], tmp_path: Path
) -> None:
    searched = run("search", "the", "and", "of", env=env, cwd=tmp_path)
    assert searched.returncode == 1 and searched.stdout == ""
    assert "only common words (the, and, of…)" in searched.stderr.splitlines()[-1]
    found = run("search", "the", "merge", "queue", "--json", env=env, cwd=tmp_path)
    assert found.returncode == 0 and '"episode"' in found.stdout
