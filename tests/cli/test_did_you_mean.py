"""`--episode` with a slug nobody has suggests the closest slugs and titles, and `episodes
WORDS` lists only the episodes they name: the real `episode-bot` on a real database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.conftest import SEED, SEED_SLUG


def _archive(folder: Path, slug: str, guest: str, title: str, day: int) -> Path:
    path = folder / f"{slug}.md"
    path.write_text(
        f"---\nguest: {guest}\ntitle: '{title} | {guest}'\npublish_date: 2024-05-{day:02d}\n"
        f"---\n\n# {title}\n\n## Transcript\n\n"
        f"Lenny Rachitsky (00:00:00):\nWelcome {guest}.\n\n"
        f"{guest} (00:00:05):\nThanks. I think about {title.lower()} every day.\n"
    )
    return path


@pytest.fixture
def library_env(tmp_path: Path) -> dict[str, str]:
    """A database of its own holding the seed and two archive episodes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "SLACK_"))}
    env.pop("LOG_LEVEL", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'library.db'}"
    files = [
        SEED,
        _archive(tmp_path, "shreyas-doshi", "Shreyas Doshi", "Product sense and pre-mortems", 2),
        _archive(tmp_path, "marty-cagan", "Marty Cagan", "Product management theater", 9),
    ]
    result = run("ingest", *map(str, files), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return env


def _error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command prints."""
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (("search", "premortem", "--episode", "shreyas-doshii"), "Did you mean shreyas-doshi "),
        (("ask", "--episode", "shreyas", "What is a pre-mortem?"), "Did you mean shreyas-doshi "),
        (("search", "theater", "--episode", "cagan"), "Did you mean marty-cagan "),
    ],
)
def test_an_unknown_slug_suggests_the_closest(
    library_env: dict[str, str], tmp_path: Path, command: tuple[str, ...], shown: str
) -> None:
    line = _error(run(*command, env=library_env, cwd=tmp_path))
    slug = command[command.index("--episode") + 1]
    assert line.startswith(f"Error: No episode has the slug {slug!r}. ")
    assert shown in line and line.endswith(")?")


def test_the_whole_sentence_names_slug_and_title(
    library_env: dict[str, str], tmp_path: Path
) -> None:
    line = _error(
        run("search", "boris", "--episode", "mike-kreiger", env=library_env, cwd=tmp_path)
    )
    assert line == (
        "Error: No episode has the slug 'mike-kreiger'. Did you mean mike-krieger-anthropic-cpo "
        "(Anthropic's CPO on what comes next | Mike Krieger (co-founder of Instagram))?"
    )


def test_nothing_close_keeps_the_old_sentence(library_env: dict[str, str], tmp_path: Path) -> None:
    line = _error(run("search", "boris", "--episode", "zq-xw", env=library_env, cwd=tmp_path))
    assert line == "Error: No episode has the slug 'zq-xw'; `episode-bot episodes` lists them."


def test_episodes_words_filter_the_list(library_env: dict[str, str], tmp_path: Path) -> None:
    product = run("episodes", "PRODUCT", env=library_env, cwd=tmp_path)
    assert product.returncode == 0, product.stderr
    assert [line.split()[0] for line in product.stdout.splitlines()] == [
        "marty-cagan",  # newest first
        "shreyas-doshi",
    ]
    rows = json.loads(run("episodes", "krieger", "--json", env=library_env, cwd=tmp_path).stdout)
    assert [r["slug"] for r in rows] == [SEED_SLUG]
    everything = run("episodes", env=library_env, cwd=tmp_path).stdout.splitlines()
    assert len(everything) == 3

    none = run("episodes", "zebra", "crossing", env=library_env, cwd=tmp_path)
    assert none.returncode == 0
    assert none.stdout == (
        "No episode's title, guest or slug contains 'zebra crossing'; `episode-bot episodes` "
        "lists them all.\n"
    )
