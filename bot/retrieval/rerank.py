"""Reranking FTS5's candidates: bm25 over every word of the question (given each word's
idf), how much of the question a passage holds (or its turn and the question before it
hold), whether the question's words are said together, what kind of
passage it is, who said it, and how much the episode as a whole is about the question."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from bot.retrieval.words import WORD, light_stem
from db.search import SearchHit

PROXIMITY_WINDOW = 3  # words between two question terms that still count as "said together"
PAIR_BONUS = 0.3
SPEAKER_BOOST = 1.2
# A question word found not in the passage but elsewhere in its turn, or in the question the
# turn answers, counts this much: a long answer is cut into passages, and the word that names
# the topic is often in another part or only in the host's question.
CONTEXT_WEIGHT = 1.0
# Multipliers on bm25: a passage of these kinds must match clearly better to rank first.
KIND_WEIGHTS = {"content": 1.0, "intro": 0.7, "outro": 0.5, "teaser": 0.5, "sponsor": 0.3}
# Asking about the ads makes the ads the answer.
SPONSOR_INTENT_WEIGHT = 3.0


# bm25's usual constants when relevance is scored here, over passages (0.3 to 0.9 for B
# made no difference on the dev questions).
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class RankedPassage:
    """A search hit with its final score (higher is better)."""

    hit: SearchHit
    score: float
    # Share of the question's terms (weighted by rarity) that this passage contains.
    coverage: float
    # How rare each of the question's stems is (bm25's idf), for quoting the passage by the
    # words that matter most; the same mapping for every passage of one search.
    rarity: Mapping[str, float] = field(default_factory=dict, compare=False, hash=False)


def term_positions(text: str, wanted: set[str]) -> dict[str, list[int]]:
    """Where each wanted stem occurs in `text`, by word index."""
    return _positions(text, wanted)[0]


def _positions(text: str, wanted: set[str]) -> tuple[dict[str, list[int]], int]:
    """Where each wanted stem occurs in `text`, and how many words it has."""
    where: dict[str, list[int]] = {}
    # A stem is a prefix of every word it comes from, so a word whose first two letters
    # begin no wanted stem is skipped unstemmed: most words of a passage, and most of the
    # time reranking takes.
    heads = {stem[:2] for stem in wanted}
    words = WORD.findall(text.lower())
    for index, word in enumerate(words):
        if word[:2] in heads and (stem := light_stem(word)) in wanted:
            where.setdefault(stem, []).append(index)
    return where, len(words)


def _bm25(
    groups: Sequence[frozenset[str]],
    where: dict[str, list[int]],
    words: int,
    idf: Sequence[Mapping[str, float]],
    average: float,
) -> float:
    """bm25 of one passage over the question's terms, each spelling of a term weighed by
    its own idf, as FTS5 scores an OR of them: "gender" and "she" both answer "pronoun",
    but "she" alone says little."""
    norm = K1 * (1 - B + B * words / average)
    score = 0.0
    for group, weights in zip(groups, idf, strict=True):
        score += sum(
            weights.get(stem, 0.0) * tf * (K1 + 1) / (tf + norm)
            for stem in group
            if (tf := len(where.get(stem, ())))
        )
    return score


def _matched(groups: Sequence[frozenset[str]], where: dict[str, list[int]]) -> list[bool]:
    return [not group.isdisjoint(where) for group in groups]


def _rarity_weights(matched: list[list[bool]], terms: int) -> list[float]:
    """An idf per question term over the candidate pool. A term no candidate contains gets
    the largest weight: the question asks about something the transcript never mentions."""
    size = len(matched)
    return [math.log(1 + (size + 1) / (1 + sum(row[t] for row in matched))) for t in range(terms)]


def _adjacent_pairs(groups: Sequence[frozenset[str]], where: dict[str, list[int]]) -> int:
    """How many consecutive question-term pairs occur close together, in order."""
    pairs = 0
    for first, second in pairwise(groups):
        starts = [i for stem in first for i in where.get(stem, ())]
        ends = {i for stem in second for i in where.get(stem, ())}
        if any(0 < j - i <= PROXIMITY_WINDOW for i in starts for j in ends):
            pairs += 1
    return pairs


def rerank(
    hits: Sequence[SearchHit],
    groups: Sequence[frozenset[str]],
    *,
    kind_weight: Callable[[str], float],
    is_named_speaker: Callable[[str], bool],
    in_context: Callable[[SearchHit], Sequence[bool]] | None = None,
    prior: Callable[[SearchHit], float] | None = None,
    idf: Sequence[Mapping[str, float]] | None = None,
) -> list[RankedPassage]:
    """Score every hit; the best passage of each turn, best first. `in_context` says, per
    question term, whether the passage's turn or the question before it holds it; `prior`
    multiplies in how much the passage's episode is about the question. With `idf` (one
    weight per stem of each group) relevance is bm25 scored here, so hits from different searches
    compare; without it, each hit's own relevance."""
    if not groups:
        return []
    wanted = set().union(*groups)
    scanned = [_positions(hit.text, wanted) for hit in hits]
    where_of = [where for where, _ in scanned]
    average = max(1.0, sum(n for _, n in scanned) / max(1, len(scanned)))
    matched = [_matched(groups, where) for where in where_of]
    weights = _rarity_weights(matched, len(groups))
    rarity = {stem: w for by_stem in idf or () for stem, w in by_stem.items()}
    best: dict[tuple[str, int], RankedPassage] = {}
    for hit, (where, words), found in zip(hits, scanned, matched, strict=True):
        coverage = sum(w for w, hit_it in zip(weights, found, strict=True) if hit_it) / sum(weights)
        # Ranking uses the plain share: bm25 already weighs rarity, and counting it twice
        # over-rewards one rare word (measured on the dev questions).
        nearby = in_context(hit) if in_context is not None else [False] * len(found)
        only_nearby = sum(n and not f for n, f in zip(nearby, found, strict=True))
        share = (sum(found) + CONTEXT_WEIGHT * only_nearby) / len(groups)
        relevance = hit.relevance if idf is None else _bm25(groups, where, words, idf, average)
        score = (
            relevance
            * kind_weight(hit.kind)
            * (0.5 + 0.5 * share)
            * (1 + PAIR_BONUS * min(_adjacent_pairs(groups, where), 2))
        )
        if is_named_speaker(hit.speaker):
            score *= SPEAKER_BOOST
        if prior is not None:
            score *= prior(hit)
        ranked = RankedPassage(hit, score, coverage, rarity)
        key = (hit.episode_slug, hit.position)
        if key not in best or ranked.score > best[key].score:
            best[key] = ranked
    return sorted(best.values(), key=lambda r: r.score, reverse=True)
