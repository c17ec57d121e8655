"""Library-wide retrieval at archive scale: ingest time, recall@1/5/10/20, MRR and latency.

    .venv/bin/python benchmarks/library_retrieval.py ARCHIVE_PATH [QUESTIONS.jsonl]

ARCHIVE_PATH is a local copy of github.com/ChatPRD/lennys-podcast-transcripts (the repository
or its `episodes/` folder). Its licence allows personal and educational use, so it is never
committed here. Into a throwaway SQLite file with the real migrations, the seed episode is
ingested first and then the archive, with the real parser. The archive's own copy of the seed
is recognised by its title and reported, not stored twice.

Every dev question is then searched across the whole library, as `episode-bot search --all`
does. A hit is a gold turn of the seed among the top k. Latency covers every search: each
question once cold, then REPEATS more times.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.evaluation.recall import evaluate, read_questions, render  # noqa: E402
from bot.ingest.pipeline import expand_paths, ingest_file, ingest_files  # noqa: E402
from bot.retrieval import retrieve  # noqa: E402
from bot.services.library import sample_episode_path  # noqa: E402
from db.engine import open_database  # noqa: E402

SHARED_QUESTIONS = REPO.parent / "shared" / "dev_questions.jsonl"
BUNDLED_QUESTIONS = REPO / "tests" / "data" / "dev_questions.jsonl"
KS = (1, 5, 10, 20)
REPEATS = 9


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    """Ingest the archive and the seed, then print recall@k, MRR, latency and the misses."""
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    archive = Path(sys.argv[1])
    if (archive / "episodes").is_dir():
        archive = archive / "episodes"
    default = SHARED_QUESTIONS if SHARED_QUESTIONS.exists() else BUNDLED_QUESTIONS
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else default
    questions = read_questions(path)
    with tempfile.TemporaryDirectory() as folder:
        session_factory = open_database(f"sqlite:///{folder}/library.db")
        seed = ingest_file(session_factory, sample_episode_path()).slug
        files, missing = expand_paths([archive])
        if missing or not files:
            print(f"No transcripts found under {archive}.")
            return 2
        started = time.perf_counter()
        results = ingest_files(session_factory, files)
        took = time.perf_counter() - started
        statuses = Counter(r.status for r in results)
        print(
            f"archive: {len(files)} files in {took:.1f} s: "
            + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        )
        for result in results:
            if result.status not in ("ingested", "unchanged"):
                print(f"  {result.path.parent.name}/{result.path.name}: {result.message}")
        # Searches are timed as the bot serves them: `serve` freezes what start-up made, so
        # the collector does not walk it again (here, the ingest's leftovers).
        gc.collect()
        gc.freeze()

        latencies: list[float] = []
        first_times: list[float] = []
        with session_factory() as session:
            for item in questions:
                for _ in range(1 + REPEATS):
                    started = time.perf_counter()
                    retrieve(session, item.question, limit=max(KS))
                    latencies.append((time.perf_counter() - started) * 1000)
                first_times.append(latencies[-1 - REPEATS])
            # The same code as `episode-bot eval QUESTIONS --all --gold-episode SEED`.
            result = evaluate(session, questions, episode=None, gold_episode=seed, ks=KS)
    stored = 1 + statuses["ingested"]
    print(f"{len(questions)} questions, each searched across all {stored} episodes")
    print(render(result).splitlines()[1])
    print(
        f"search latency over {len(latencies)} searches: p50 {statistics.median(latencies):.1f} ms"
        f"  p99 {_percentile(latencies, 0.99):.1f} ms  max {max(latencies):.1f} ms"
    )
    print(
        f"  the first search of each question: p50 {statistics.median(first_times):.1f} ms"
        f"  max {max(first_times):.1f} ms (the very first also builds the episode index)"
    )
    print("\n".join(render(result).splitlines()[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
