"""Retrieval evaluation: recall@k and MRR of `retrieve` on questions whose answering turns
are known, in the dev-questions format: one JSON object a line,
`{"q": "question", "gold": [21, 22]}`, optionally with `"episode": "slug"`, the episode the
gold turns are in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from bot.retrieval import EmptyQuery, retrieve
from db.episodes import get_episode

DEFAULT_KS = (1, 5, 10)
MAX_K = 100
SHOWN_PER_MISS = 5  # the turns ranked first for a miss, enough to see what won instead


class QuestionsError(ValueError):
    """The questions file cannot be used; the message says where and why, in one sentence."""


@dataclass(frozen=True)
class GoldQuestion:
    """A question and the turns (transcript turn numbers) that answer it."""

    question: str
    gold: frozenset[int]
    episode: str | None = None
    line: int = 0  # where it is in its file, for messages


@dataclass(frozen=True)
class Miss:
    """A question whose first result is not a gold turn: where the first gold one ranked
    (1-based; None when not in the top max(k)) and what ranked first instead."""

    question: str
    episode: str
    gold: tuple[int, ...]
    rank: int | None
    first: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Evaluation:
    """recall@k for each k, MRR (a miss beyond max(k) counts 0) and the misses."""

    scope: str  # an episode's slug, or "all"
    questions: int
    recall: dict[int, float]
    mrr: float
    misses: list[Miss] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """Plain JSON types, ks as strings."""
        return {
            "scope": self.scope,
            "questions": self.questions,
            "recall": {str(k): round(v, 4) for k, v in self.recall.items()},
            "mrr": round(self.mrr, 4),
            "misses": [
                {
                    "question": m.question,
                    "episode": m.episode,
                    "gold": list(m.gold),
                    "rank": m.rank,
                    "first": [{"episode": e, "turn": t} for e, t in m.first],
                }
                for m in self.misses
            ],
        }


def _gold_question(line: str, number: int) -> GoldQuestion:
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        raise QuestionsError(f"line {number} is not JSON") from None
    if not isinstance(item, dict):
        raise QuestionsError(f'line {number} is not an object like {{"q": ..., "gold": [...]}}')
    question, gold, episode = item.get("q"), item.get("gold"), item.get("episode")
    if not isinstance(question, str) or not question.strip():
        raise QuestionsError(f'line {number} has no question ("q")')
    if (
        not isinstance(gold, list)
        or not gold
        or not all(isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in gold)
    ):
        raise QuestionsError(f'line {number}: "gold" must be a list of turn numbers')
    if episode is not None and not isinstance(episode, str):
        raise QuestionsError(f'line {number}: "episode" must be a slug')
    return GoldQuestion(question, frozenset(gold), episode, number)


def read_questions(path: Path) -> list[GoldQuestion]:
    """Every question of a dev-questions file; blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionsError(f"{path} could not be read ({exc.__class__.__name__})") from None
    questions = [
        _gold_question(line, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not questions:
        raise QuestionsError(f"{path} holds no questions")
    return questions


def parse_ks(text: str) -> tuple[int, ...]:
    """`1,5,10` -> (1, 5, 10): distinct, ascending, each from 1 to MAX_K."""
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise QuestionsError(
            f"--k takes numbers separated by commas, like 1,5,10, not {text!r}"
        ) from None
    if not ks or ks[0] < 1 or ks[-1] > MAX_K:
        raise QuestionsError(f"each k must be from 1 to {MAX_K}")
    return tuple(ks)


def evaluate(
    session: Session,
    questions: Sequence[GoldQuestion],
    *,
    episode: str | None,
    gold_episode: str | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> Evaluation:
    """Search each question in one episode (`episode`) or the whole library (None), and
    score where its first gold turn ranks. The gold turns are in `episode` when searching
    one; library-wide, in the question's own "episode", else in `gold_episode`. Every gold
    episode must exist: a typo would otherwise score as a miss, not as an error."""
    depth = max(ks)
    for item in questions:
        in_episode = episode or item.episode or gold_episode
        if in_episode is None:
            raise QuestionsError(
                f"line {item.line} does not say which episode its gold turns are in: add "
                '"episode" to it, or give --gold-episode'
            )
        if get_episode(session, in_episode) is None:
            raise QuestionsError(
                f"line {item.line}: no episode has the slug {in_episode!r}; "
                "`episode-bot episodes` lists them"
            )
    found_at_k = dict.fromkeys(ks, 0)
    reciprocal = 0.0
    misses: list[Miss] = []
    for item in questions:
        in_episode = str(episode or item.episode or gold_episode)
        try:
            found = retrieve(session, item.question, episode=episode, limit=depth)
        except EmptyQuery:
            raise QuestionsError(
                f"line {item.line}: the question has no words to search for"
            ) from None
        ranked = [(r.hit.episode_slug, r.hit.position) for r in found]
        gold = {(in_episode, turn) for turn in item.gold}
        rank = next((i + 1 for i, moment in enumerate(ranked) if moment in gold), None)
        for k in ks:
            found_at_k[k] += rank is not None and rank <= k
        reciprocal += 1 / rank if rank else 0.0
        if rank != 1:
            misses.append(
                Miss(
                    item.question,
                    in_episode,
                    tuple(sorted(item.gold)),
                    rank,
                    tuple(ranked[:SHOWN_PER_MISS]),
                )
            )
    count = len(questions)
    return Evaluation(
        scope=episode or "all",
        questions=count,
        recall={k: found_at_k[k] / count for k in ks},
        mrr=reciprocal / count,
        misses=misses,
    )


def render(evaluation: Evaluation) -> str:
    """The figures, then one line per miss."""
    scope = "the whole library" if evaluation.scope == "all" else evaluation.scope
    lines = [
        f"{evaluation.questions} questions, searched in {scope}",
        "  ".join(f"recall@{k} {v:.2f}" for k, v in evaluation.recall.items())
        + f"  MRR {evaluation.mrr:.3f}",
    ]
    if evaluation.misses:
        lines.append("gold turn not first:")
        for miss in evaluation.misses:
            rank = f"rank {miss.rank}" if miss.rank else f"not in the top {max(evaluation.recall)}"
            first = ", ".join(
                f"turn {t}" if e == evaluation.scope else f"{e} turn {t}" for e, t in miss.first
            )
            lines.append(
                f"  {rank}: {miss.question}  (gold {list(miss.gold)}; first: {first or 'nothing'})"
            )
    return "\n".join(lines)
