"""Retrieval evaluation: recall@k and MRR of `retrieve` on questions whose answering turns
are known, in the dev-questions format: one JSON object a line,
`{"q": "question", "gold": [21, 22]}`, optionally with `"episode": "slug"`, the episode the
gold turns are in, and `"style": "direct"` or `"paraphrase"` (asked in the transcript's words
or in other words), for figures per style."""

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
    style: str | None = None  # "direct" or "paraphrase", when the file says


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
class Figures:
    """recall@k and MRR of some of the questions (those of one style, say)."""

    questions: int
    recall: dict[int, float]
    mrr: float


@dataclass(frozen=True)
class Evaluation:
    """recall@k for each k, MRR (a miss beyond max(k) counts 0) and the misses."""

    scope: str  # an episode's slug, or "all"
    questions: int
    recall: dict[int, float]
    mrr: float
    misses: list[Miss] = field(default_factory=list)
    # The same figures per question style ("direct", "paraphrase"), when the file has styles.
    styles: dict[str, Figures] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """Plain JSON types, ks as strings."""
        return {
            "scope": self.scope,
            "questions": self.questions,
            "recall": {str(k): round(v, 4) for k, v in self.recall.items()},
            "mrr": round(self.mrr, 4),
            "styles": {
                style: {
                    "questions": f.questions,
                    "recall": {str(k): round(v, 4) for k, v in f.recall.items()},
                    "mrr": round(f.mrr, 4),
                }
                for style, f in self.styles.items()
            },
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
    style = item.get("style")
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
    if style is not None and not isinstance(style, str):
        raise QuestionsError(f'line {number}: "style" must be a word such as "paraphrase"')
    return GoldQuestion(question, frozenset(gold), episode, number, style)


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


def by_style(questions: Sequence[GoldQuestion]) -> dict[str, list[GoldQuestion]]:
    """The questions grouped by their style, in order of first appearance; {} when no
    question has one (a file without styles has nothing to break down)."""
    groups: dict[str, list[GoldQuestion]] = {}
    if not any(item.style for item in questions):
        return groups
    for item in questions:
        groups.setdefault(item.style or "unstyled", []).append(item)
    return groups


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
    stored: list[str] = []  # each question's gold episode by its stored slug (not an alias)
    for item in questions:
        in_episode = episode or item.episode or gold_episode
        if in_episode is None:
            raise QuestionsError(
                f"line {item.line} does not say which episode its gold turns are in: add "
                '"episode" to it, or give --gold-episode'
            )
        found_episode = get_episode(session, in_episode)
        if found_episode is None:
            raise QuestionsError(
                f"line {item.line}: no episode has the slug {in_episode!r}; "
                "`episode-bot episodes` lists them"
            )
        stored.append(found_episode.slug)
    ranks: list[int | None] = []
    misses: list[Miss] = []
    for item, in_episode in zip(questions, stored, strict=True):
        try:
            found = retrieve(session, item.question, episode=episode, limit=depth)
        except EmptyQuery:
            raise QuestionsError(
                f"line {item.line}: the question has no words to search for"
            ) from None
        ranked = [(r.hit.episode_slug, r.hit.position) for r in found]
        gold = {(in_episode, turn) for turn in item.gold}
        rank = next((i + 1 for i, moment in enumerate(ranked) if moment in gold), None)
        ranks.append(rank)
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
    recall, mrr = _figures(ranks, ks)
    rank_of = dict(zip(map(id, questions), ranks, strict=True))
    styles = {
        style: Figures(len(group), *_figures([rank_of[id(q)] for q in group], ks))
        for style, group in by_style(questions).items()
    }
    return Evaluation(
        scope=episode or "all",
        questions=len(questions),
        recall=recall,
        mrr=mrr,
        misses=misses,
        styles=styles,
    )


def _figures(ranks: Sequence[int | None], ks: Sequence[int]) -> tuple[dict[int, float], float]:
    """recall@k for each k and MRR of the first gold turn's ranks (None: not in the top)."""
    count = max(1, len(ranks))
    recall = {k: sum(r is not None and r <= k for r in ranks) / count for k in ks}
    return recall, sum(1 / r for r in ranks if r) / count


def _figures_line(recall: dict[int, float], mrr: float) -> str:
    return "  ".join(f"recall@{k} {v:.2f}" for k, v in recall.items()) + f"  MRR {mrr:.3f}"


def render(evaluation: Evaluation) -> str:
    """The figures, then one line per miss."""
    scope = "the whole library" if evaluation.scope == "all" else evaluation.scope
    lines = [
        f"{evaluation.questions} questions, searched in {scope}",
        _figures_line(evaluation.recall, evaluation.mrr),
    ]
    width = max(map(len, evaluation.styles), default=0)
    lines += [
        f"  {style:<{width}}  {f.questions:>3} questions  {_figures_line(f.recall, f.mrr)}"
        for style, f in evaluation.styles.items()
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
