"""What a Claude answer costs in input tokens, first question and repeats, with and without
prompt caching, and with search results instead of the whole episode; then what a
library-wide answer costs when Claude searches the library itself (the tool loop).

    .venv/bin/python benchmarks/answer_cost.py [QUESTIONS.jsonl] [--archive PATH]

With --archive (a local copy of the community archive, never committed), the tool loop is
measured over the seed plus the archive, on the library questions as well.

Runs the real ClaudeAnswerer (real anthropic SDK, real requests) against the loopback
Messages API stand-in, which counts tokens from each request it receives (about four
characters a token, as Claude's tokenizer on English) and simulates the prompt cache. Billed
input is in input-token equivalents: uncached input at 1x, 5-minute cache writes at 1.25x,
cache reads at 0.1x. Also prints, for each way of sending the transcript, the share of
questions whose gold turn was in what Claude was given (it can only cite what it is given).

The stand-in is not a model: in the tool loop it searches once with the question's words,
then answers. The loop's figures are the cost of that pattern (the first search up front,
one more search, the answer), about what a model that searches once more pays; a model that
searches more pays about one round's tokens more for each.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.answering.claude.answerer import ClaudeAnswerer  # noqa: E402
from bot.answering.claude.client import build_client  # noqa: E402
from bot.answering.offline import OfflineAnswerer  # noqa: E402
from bot.answering.prepare import prepare  # noqa: E402
from bot.ingest.pipeline import expand_paths, ingest_file, ingest_files  # noqa: E402
from bot.services.library import Library, sample_episode_path  # noqa: E402
from bot.services.library_reader import LibraryReader  # noqa: E402
from db.engine import open_database  # noqa: E402
from db.traces import Trace  # noqa: E402
from tests.fakes.anthropic_api import AnthropicStandIn  # noqa: E402

SHARED_QUESTIONS = REPO.parent / "shared" / "dev_questions.jsonl"
LIBRARY_QUESTIONS = REPO.parent / "shared" / "library_dev_questions.jsonl"
KEY = "sk-ant-benchmark-key"
MODEL = "claude-sonnet-5-5"
GOAL_REPEAT_SHARE = 0.25


def billed(trace: Trace) -> float:
    """Input-token equivalents as billed: writes 1.25x, reads 0.1x."""
    return (
        trace.input_tokens
        + 1.25 * trace.cache_creation_input_tokens
        + 0.1 * trace.cache_read_input_tokens
    )


def run_mode(
    api: AnthropicStandIn, session_factory: object, slug: str, questions: list[dict], mode: str
) -> tuple[list[Trace], float]:
    """Every question once, in order, in one mode; traces and the share with gold given."""
    answerer = ClaudeAnswerer(
        build_client(KEY, api.url),
        MODEL,
        OfflineAnswerer(),
        prompt_caching=(mode == "whole episode, cached"),
    )
    traces: list[Trace] = []
    gold_given = 0
    for item in questions:
        with session_factory() as session:  # type: ignore[operator]
            request = prepare(session, item["q"], answerer, episode=slug)
        if mode == "search results":
            request = replace(request, episode=None)
        answer = answerer.answer(request)
        assert answer.trace is not None and answer.answerer == "claude", answer.notice
        traces.append(answer.trace)
        given = {int(p.split("#turn-")[1].split(".")[0]) for p in answer.trace.passages}
        gold_given += bool(given & set(item["gold"]))
    return traces, gold_given / len(questions)


def run_loop(
    api: AnthropicStandIn, session_factory: object, questions: list[dict], seed: str
) -> None:
    """Every question library-wide through the tool loop: billed tokens, round trips, the
    bot's own time per answer (retrieval and the tools; the stand-in answers at once), and
    the share whose gold turn was among the passages given."""
    library = Library(session_factory)  # type: ignore[arg-type]
    answerer = ClaudeAnswerer(build_client(KEY, api.url), MODEL, OfflineAnswerer())
    traces: list[Trace] = []
    took: list[float] = []
    gold_given = 0
    for item in questions:
        started = time.perf_counter()
        with session_factory() as session:  # type: ignore[operator]
            request = prepare(session, item["q"], answerer, reader=LibraryReader(library))
        answer = answerer.answer(request)
        took.append((time.perf_counter() - started) * 1000)
        assert answer.trace is not None and answer.answerer == "claude", answer.notice
        traces.append(answer.trace)
        gold = {f"{item.get('episode', seed)}#turn-{turn}" for turn in item["gold"]}
        gold_given += bool(gold & {p.split(".")[0] for p in answer.trace.passages})
    costs = [billed(t) for t in traces]
    print(
        f"  {len(questions)} questions: billed input p50 {statistics.median(costs):,.0f}, "
        f"max {max(costs):,.0f}; output p50 "
        f"{statistics.median(t.output_tokens for t in traces):,.0f}; round trips "
        f"{statistics.mean(t.round_trips for t in traces):.1f} a question; searches "
        f"{statistics.mean(len(t.tool_calls) for t in traces):.1f}; passages given "
        f"{statistics.mean(len(t.passages) for t in traces):.1f}; gold given "
        f"{gold_given / len(questions):.0%}; the bot's own time p50 "
        f"{statistics.median(took):.0f} ms"
    )


def main() -> int:
    """Print tokens per question in each mode and check the repeat-question goal."""
    args = sys.argv[1:]
    archive: Path | None = None
    if "--archive" in args:
        at = args.index("--archive")
        archive = Path(args[at + 1])
        del args[at : at + 2]
    path = Path(args[0]) if args else SHARED_QUESTIONS
    questions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(f"{len(questions)} questions from {path.name}, one episode (the bundled sample)")
    print(
        f"{'':28}{'first q':>10}{'repeat q':>10}{'repeat/first':>14}"
        f"{'all, total':>12}{'gold given':>12}"
    )
    share_cached = 1.0
    with tempfile.TemporaryDirectory() as folder:
        session_factory = open_database(f"sqlite:///{folder}/cost.db")
        slug = str(ingest_file(session_factory, sample_episode_path()).slug)
        for mode in ("whole episode, cached", "whole episode, no cache", "search results"):
            api = AnthropicStandIn(api_key=KEY).start()
            try:
                traces, gold = run_mode(api, session_factory, slug, questions, mode)
            finally:
                api.stop()
            first = billed(traces[0])
            repeat = statistics.median(billed(t) for t in traces[1:])
            total = sum(billed(t) for t in traces)
            if mode == "whole episode, cached":
                share_cached = repeat / first
                detail = traces[1]
            print(
                f"{mode:28}{first:>10,.0f}{repeat:>10,.0f}{repeat / first:>14.0%}"
                f"{total:>12,.0f}{gold:>12.0%}"
            )
        print("library-wide, Claude searching the library (tool loop):")
        print(f"  seed dev questions over {'the seed and the archive' if archive else 'the seed'}")
        if archive is not None:
            episodes = archive / "episodes" if (archive / "episodes").is_dir() else archive
            ingest_files(session_factory, expand_paths([episodes])[0])
        api = AnthropicStandIn(api_key=KEY).start()
        try:
            run_loop(api, session_factory, questions, slug)
            if archive is not None and LIBRARY_QUESTIONS.exists():
                print(f"  {LIBRARY_QUESTIONS.name} over the seed and the archive")
                library_questions = [
                    json.loads(line) for line in LIBRARY_QUESTIONS.read_text().splitlines()
                ]
                run_loop(api, session_factory, library_questions, slug)
        finally:
            api.stop()
    print(
        f"cached repeat question: {detail.input_tokens:,} input + "
        f"{detail.cache_read_input_tokens:,} cache-read tokens (billed {billed(detail):,.0f})"
    )
    ok = share_cached <= GOAL_REPEAT_SHARE
    print(
        f"goal: a repeat question costs <= {GOAL_REPEAT_SHARE:.0%} of the first: "
        f"{share_cached:.0%} {'ok' if ok else 'MISS'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
