"""Retrieval quality on the dev questions: recall@1/3/5/10 and MRR, scoped to the seed.

    .venv/bin/python benchmarks/recall.py [QUESTIONS.jsonl]

A hit is any gold turn among the top k. Uses a throwaway SQLite file, the real migrations,
the real parser and the real search, so the figures are what `episode-bot search` gives;
the same code as `episode-bot eval QUESTIONS --episode SLUG`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.evaluation.recall import evaluate, read_questions, render  # noqa: E402
from bot.ingest.pipeline import ingest_file  # noqa: E402
from bot.services.library import sample_episode_path  # noqa: E402
from db.engine import open_database  # noqa: E402

SHARED_QUESTIONS = REPO.parent / "shared" / "dev_questions.jsonl"
BUNDLED_QUESTIONS = REPO / "tests" / "data" / "dev_questions.jsonl"
KS = (1, 3, 5, 10)


def main() -> int:
    """Print recall@k, MRR and the questions whose gold turn is not first."""
    default = SHARED_QUESTIONS if SHARED_QUESTIONS.exists() else BUNDLED_QUESTIONS
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    questions = read_questions(path)
    with tempfile.TemporaryDirectory() as folder:
        session_factory = open_database(f"sqlite:///{folder}/recall.db")
        slug = ingest_file(session_factory, sample_episode_path()).slug
        with session_factory() as session:
            result = evaluate(session, questions, episode=slug, ks=KS)
    print(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
