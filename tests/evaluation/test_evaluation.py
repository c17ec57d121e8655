"""`episode-bot eval`: recall@k, MRR and misses for a file of questions with known answers;
on the dev questions it prints the very figures the retrieval test asserts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.evaluation.recall import QuestionsError, evaluate, read_questions
from bot.ingest.pipeline import ingest_file
from tests.cli.test_cli import run
from tests.conftest import SEED, SEED_SLUG
from tests.retrieval.test_retrieval import DEV_QUESTIONS


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "LOG_LEVEL"} and not k.startswith(("ANTHROPIC_", "SLACK_"))
    }
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'library.db'}"
    return clean


def test_eval_prints_the_figures_the_retrieval_test_asserts(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run("ingest", str(SEED), env=env, cwd=tmp_path).returncode == 0
    args = ("eval", str(DEV_QUESTIONS), "--episode", SEED_SLUG)
    shown = run(*args, "--json", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    figures = json.loads(shown.stdout)
    # The same call test_retrieval.test_dev_questions_recall makes, on the same store.
    from db.engine import open_database

    with open_database(env["DATABASE_URL"])() as session:
        measured = evaluate(
            session, read_questions(DEV_QUESTIONS), episode=SEED_SLUG, ks=(1, 5, 10)
        ).as_json()
    assert figures == measured
    assert figures["questions"] == 20
    assert figures["recall"]["1"] >= 0.85 and figures["recall"]["5"] == 1.0
    text = run(*args, env=env, cwd=tmp_path)
    recall = figures["recall"]
    assert text.stdout.splitlines()[:2] == [
        f"20 questions, searched in {SEED_SLUG}",
        f"recall@1 {recall['1']:.2f}  recall@5 {recall['5']:.2f}  recall@10 {recall['10']:.2f}"
        f"  MRR {figures['mrr']:.3f}",
    ]
    # One line per question whose gold turn is not first, with where it ranked.
    misses = text.stdout.splitlines()[3:]
    assert len(misses) == len(figures["misses"]) == round(20 * (1 - recall["1"]))
    assert all(line.startswith("  rank ") for line in misses)


def test_library_wide_eval_needs_to_know_where_the_gold_turns_are(
    seeded: sessionmaker[Session], tmp_path: Path
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Ann: Who is Boris?\nBo: Boris is my cat, and he runs the house.\n")
    assert ingest_file(seeded, other).status == "ingested"
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"q": "Who is Boris?", "gold": [23, 53]})
        + "\n\n"
        + json.dumps({"q": "Who is Boris the cat?", "gold": [2], "episode": "other"})
        + "\n"
    )
    with seeded() as session:
        with pytest.raises(QuestionsError, match=r"line 1 does not say .* give --gold-episode"):
            evaluate(session, read_questions(questions), episode=None)
        result = evaluate(
            session, read_questions(questions), episode=None, gold_episode=SEED_SLUG, ks=(1, 3)
        )
    assert result.scope == "all" and result.questions == 2
    # The cat question finds the cat; "Who is Boris?" finds the seed's Boris in the top 3.
    assert result.recall[3] == 1.0
    assert all(miss.rank is not None and miss.rank <= 3 for miss in result.misses)


@pytest.mark.parametrize(
    ("content", "args", "error"),
    [
        ('{"q": "a", "gold": [1]}\nnot json\n', (), "line 2 is not JSON."),
        ('{"q": "a"}\n', (), 'line 1: "gold" must be a list of turn numbers.'),
        ('{"q": "a", "gold": ["3"]}\n', (), 'line 1: "gold" must be a list of turn numbers.'),
        ('{"gold": [3]}\n', (), 'line 1 has no question ("q").'),
        ('["q", 3]\n', (), "line 1 is not an object"),
        ("\n\n", (), "holds no questions."),
        ('{"q": "a", "gold": [1]}\n', ("--k", "0,5"), "each k must be from 1 to 100."),
        ('{"q": "a", "gold": [1]}\n', ("--k", "five"), "--k takes numbers separated by commas"),
        ('{"q": "a", "gold": [1]}\n', ("--episode", "nope"), "line 1: no episode has the slug"),
        (
            '{"q": "a", "gold": [1]}\n{"q": "b", "gold": [2], "episode": "mike-kreiger"}\n',
            ("--gold-episode", SEED_SLUG),
            "line 2: no episode has the slug 'mike-kreiger'",
        ),
        ('{"q": "a", "gold": [1]}\n', ("--episode", SEED_SLUG, "--all"), "not both"),
        (
            '{"q": "a", "gold": [1]}\n{"q": "?!", "gold": [1]}\n',
            ("--episode", SEED_SLUG),
            "line 2: the question has no words to search for.",
        ),
    ],
)
def test_bad_question_files_and_options_get_one_sentence(
    env: dict[str, str], tmp_path: Path, content: str, args: tuple[str, ...], error: str
) -> None:
    assert run("ingest", str(SEED), env=env, cwd=tmp_path).returncode == 0
    path = tmp_path / "questions.jsonl"
    path.write_text(content)
    result = run("eval", str(path), *args, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and error in result.stderr, result.stderr


def test_a_missing_questions_file_is_named() -> None:
    with pytest.raises(QuestionsError, match="no such file"):
        read_questions(Path("/no/such/questions.jsonl"))
