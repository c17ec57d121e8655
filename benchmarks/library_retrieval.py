"""Library-wide retrieval at archive scale: ingest time, recall@1/5/10/20, MRR and latency.

    .venv/bin/python benchmarks/library_retrieval.py ARCHIVE_PATH [--questions FILE]...
        [--halves] [--misses] [--own-library]

ARCHIVE_PATH is a local copy of github.com/ChatPRD/lennys-podcast-transcripts (the repository
or its `episodes/` folder). Its licence allows personal and educational use, so it is never
committed here. Into a throwaway SQLite file with the real migrations, the seed episode is
ingested first and then the archive, with the real parser. The archive's own copy of the seed
(and its other duplicates) are recognised and reported, not stored twice; a duplicate's
folder name stays an alias of the episode stored, so a question naming it is scored there.

Then, with the same code as `episode-bot eval`:
- the seed's dev questions (shared/dev_questions.jsonl) scoped to the seed, as
  `eval --episode SEED` does, and across the whole library (`eval --all`);
- the library dev questions (shared/library_dev_questions.jsonl), across the whole library;
- each `--questions FILE` (lines with their "episode"), across the whole library.
Each set is broken down by style (direct / paraphrase) where its lines have one; `--halves`
adds the odd and even lines apart (tune on one, check on the other), `--misses` the
questions whose gold turn is not first; `--own-library` stores and searches the library as
one workspace's own (LIBRARY_PER_WORKSPACE=true), so the figures show what the shelf costs.
Latency covers every library-wide search: each
question once cold, then REPEATS more times.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.evaluation.recall import (  # noqa: E402
    Evaluation,
    GoldQuestion,
    by_style,
    evaluate,
    read_questions,
    render,
)
from bot.ingest.pipeline import expand_paths, ingest_file, ingest_files  # noqa: E402
from bot.retrieval import retrieve  # noqa: E402
from bot.services.library import sample_episode_path  # noqa: E402
from db.engine import open_database  # noqa: E402
from db.episodes import count_episodes  # noqa: E402
from db.shelves import LIBRARY_OF  # noqa: E402

SHARED = REPO.parent / "shared"
# The team's shared copy wins; the bundled copy keeps a lone clone measurable.
SEED_QUESTIONS = (
    SHARED / "dev_questions.jsonl"
    if (SHARED / "dev_questions.jsonl").exists()
    else REPO / "tests" / "data" / "dev_questions.jsonl"
)
LIBRARY_QUESTIONS = SHARED / "library_dev_questions.jsonl"
KS = (1, 5, 10, 20)
REPEATS = 9
BENCH = "T0BENCH"  # the workspace of --own-library


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _figures(label: str, result: Evaluation) -> str:
    recall = "  ".join(f"@{k} {v:.2f}" for k, v in result.recall.items())
    return f"  {label:<24} n={result.questions:<3} recall {recall}  MRR {result.mrr:.3f}"


def _report(
    session: Session,
    title: str,
    questions: Sequence[GoldQuestion],
    *,
    episode: str | None,
    gold_episode: str | None,
    halves: bool,
    misses: bool,
) -> None:
    """One set's figures: all of it, per style, and (with `halves`) odd and even lines."""

    def score(items: Sequence[GoldQuestion]) -> Evaluation:
        return evaluate(session, items, episode=episode, gold_episode=gold_episode, ks=KS)

    print(title)
    whole = score(questions)
    print(_figures("all", whole))
    for style, items in by_style(questions).items():
        print(_figures(style, score(items)))
    if halves:
        for name, parity in (("odd lines", 1), ("even lines", 0)):
            half = [q for q in questions if q.line % 2 == parity]
            if not half:
                continue
            print(_figures(name, score(half)))
            for style, items in by_style(half).items():
                print(_figures(f"  {name}, {style}", score(items)))
    if misses and whole.misses:
        lines = render(whole).splitlines()
        print("\n".join("  " + line for line in lines[lines.index("gold turn not first:") :]))


def main(argv: Sequence[str] | None = None) -> int:
    """Ingest the archive and the seed, then print recall@k, MRR and latency per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="the archive checkout or its episodes/")
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        default=[],
        help="another questions file to score library-wide (may be given again)",
    )
    parser.add_argument("--halves", action="store_true", help="odd and even lines apart")
    parser.add_argument("--misses", action="store_true", help="list the questions missed")
    parser.add_argument(
        "--own-library",
        action="store_true",
        help="store the library as one workspace's own (LIBRARY_PER_WORKSPACE=true) and "
        "search it as that workspace does",
    )
    parser.add_argument(
        "--database-url",
        help="an empty database to build the library in (default: a temporary SQLite file); "
        "postgresql://... measures PostgreSQL",
    )
    args = parser.parse_args(argv)
    archive = args.archive
    if (archive / "episodes").is_dir():
        archive = archive / "episodes"
    seed_questions = read_questions(SEED_QUESTIONS)
    paths = [LIBRARY_QUESTIONS] if LIBRARY_QUESTIONS.exists() else []
    extra = [(path, read_questions(path)) for path in [*paths, *args.questions]]
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/library.db"
        session_factory = open_database(Settings(database_url=url).database_url)
        if args.own_library:  # every session reads (and every ingest fills) BENCH's shelf
            session_factory = sessionmaker(**{**session_factory.kw, "info": {LIBRARY_OF: BENCH}})
        with session_factory() as session:
            if count_episodes(session):
                print("The database given is not empty: give an empty one.")
                return 2
            print(
                f"backend: {session.get_bind().dialect.name}"
                + (f", workspace {BENCH}'s own library" if args.own_library else "")
            )
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

        library_wide = seed_questions + [q for _, questions in extra for q in questions]
        latencies: list[float] = []
        first_times: list[float] = []
        with session_factory() as session:
            for item in library_wide:
                for _ in range(1 + REPEATS):
                    started = time.perf_counter()
                    retrieve(session, item.question, limit=max(KS))
                    latencies.append((time.perf_counter() - started) * 1000)
                first_times.append(latencies[-1 - REPEATS])
            stored = 1 + statuses["ingested"]
            print("\nrecall by set, searched with `retrieve` as `episode-bot eval` does:")
            options = {"halves": args.halves, "misses": args.misses}
            _report(
                session,
                f"{SEED_QUESTIONS.name}, scoped to the seed ({seed})",
                seed_questions,
                episode=seed,
                gold_episode=None,
                **options,
            )
            _report(
                session,
                f"{SEED_QUESTIONS.name}, across all {stored} episodes",
                seed_questions,
                episode=None,
                gold_episode=seed,
                **options,
            )
            for path, questions in extra:
                _report(
                    session,
                    f"{path.name}, across all {stored} episodes",
                    questions,
                    episode=None,
                    gold_episode=None,
                    **options,
                )
    print(
        f"\nsearch latency over {len(latencies)} library-wide searches: "
        f"p50 {statistics.median(latencies):.1f} ms  p99 {_percentile(latencies, 0.99):.1f} ms"
        f"  max {max(latencies):.1f} ms"
    )
    print(
        f"  the first search of each question: p50 {statistics.median(first_times):.1f} ms"
        f"  max {max(first_times):.1f} ms (the very first also builds the episode index)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
