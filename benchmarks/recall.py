"""Retrieval quality on the dev questions: recall@1/3/5/10 and MRR, scoped to the seed.

    .venv/bin/python benchmarks/recall.py [QUESTIONS.jsonl]

A hit is any gold turn among the top k. Uses a throwaway SQLite file, the real migrations,
the real parser and the real search, so the figures are what `episode-bot search` gives.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.ingest.pipeline import ingest_file  # noqa: E402
from bot.library import sample_episode_path  # noqa: E402
from bot.retrieval import retrieve  # noqa: E402
from db.engine import open_database  # noqa: E402

SHARED_QUESTIONS = REPO.parent / "shared" / "dev_questions.jsonl"
BUNDLED_QUESTIONS = REPO / "tests" / "data" / "dev_questions.jsonl"
KS = (1, 3, 5, 10)


def main() -> int:
    """Print recall@k, MRR and the questions whose gold turn is not first."""
    default = SHARED_QUESTIONS if SHARED_QUESTIONS.exists() else BUNDLED_QUESTIONS
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    questions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as folder:
        session_factory = open_database(f"sqlite:///{folder}/recall.db")
        slug = ingest_file(session_factory, sample_episode_path()).slug
        hits = dict.fromkeys(KS, 0)
        reciprocal = 0.0
        misses: list[str] = []
        with session_factory() as session:
            for item in questions:
                ranked = retrieve(session, item["q"], episode=slug, limit=max(KS))
                positions = [r.hit.position for r in ranked]
                ranks = [i for i, p in enumerate(positions) if p in item["gold"]]
                for k in KS:
                    hits[k] += bool(ranks) and ranks[0] < k
                reciprocal += 1 / (ranks[0] + 1) if ranks else 0.0
                if not ranks or ranks[0]:
                    misses.append(f"  {item['q']}  gold {item['gold']}  got {positions[:5]}")
    count = len(questions)
    print(f"{count} questions on {slug}")
    print(
        "  ".join(f"recall@{k} {hits[k] / count:.2f}" for k in KS)
        + f"  MRR {reciprocal / count:.3f}"
    )
    if misses:
        print("not first:")
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
