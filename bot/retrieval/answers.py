"""A host's question and the answer after it. The host's question often says the question's
words best ("what percentage of Claude Code is written by Claude Code?"), yet what people
want is what the guest said next. So a host's asking turn lends its score to the guest's
turn after it, and that answer ranks just above the question."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot.retrieval.rerank import RankedPassage
from db.search import SearchHit

# A turn asks when it has a question mark or, in unpunctuated speech, a question's words.
ASKS = re.compile(
    r"\?|\b(?:what|how|why|which|who|when|where|do you|did you|can you|could you|would you|"
    r"are you|have you|is there|tell (?:me|us)|talk (?:about|through)|walk (?:me|us)|"
    r"curious|wonder)\b",
    re.IGNORECASE,
)
# The answer ranks this much above the question that lends it its score.
ANSWER_LIFT = 1.01
# The question that lent its score keeps this share of it: it led to the answer, but the
# answer is what was said.
QUESTION_KEEPS = 0.6
# A reply shorter than this ("I love this", "Yeah, we haven't since") acknowledges the
# question; the host's turn then stays the best source of what was said.
ANSWER_MIN_WORDS = 25
# How many of the best passages are looked at: past these, order matters little.
LOOKED_AT = 20


def asks(text: str) -> bool:
    """Whether a host's turn asks something (a statement of theirs lends nothing)."""
    return bool(ASKS.search(text))


def lend_to_answers(
    ranked: Sequence[RankedPassage],
    *,
    host_of: Callable[[SearchHit], str | None],
    next_turns: Callable[[Sequence[SearchHit]], Mapping[int, Sequence[SearchHit]]],
    pick: Callable[[Sequence[SearchHit]], SearchHit],
) -> list[RankedPassage]:
    """`ranked` with each host question among the best followed by its answer (see
    _answer), which scores at least the question's score (times ANSWER_LIFT) and holds at
    least its coverage. `next_turns` gives the passages after each hit, by segment id;
    `pick` chooses the passage of a turn to stand for it."""
    questions = [
        r
        for r in ranked[:LOOKED_AT]
        if (host := host_of(r.hit)) is not None and r.hit.speaker == host and asks(r.hit.text)
    ]
    if not questions:
        return list(ranked)
    following = next_turns([r.hit for r in questions])
    by_turn = {(r.hit.episode_slug, r.hit.position): r for r in ranked}
    for question in questions:
        answer_parts = _answer(following.get(question.hit.segment_id, ()), question.hit.speaker)
        if not answer_parts:
            continue
        key = (question.hit.episode_slug, answer_parts[0].position)
        asked = (question.hit.episode_slug, question.hit.position)
        by_turn[asked] = replace(question, score=question.score * QUESTION_KEEPS)
        current = by_turn.get(key)
        lent = question.score * ANSWER_LIFT
        if current is None:
            by_turn[key] = RankedPassage(
                pick(answer_parts), lent, question.coverage, question.rarity
            )
        elif current.score < lent or current.coverage < question.coverage:
            by_turn[key] = replace(
                current,
                score=max(current.score, lent),
                coverage=max(current.coverage, question.coverage),
            )
    return sorted(by_turn.values(), key=lambda r: r.score, reverse=True)


def _answer(after: Sequence[SearchHit], host: str) -> list[SearchHit]:
    """The passages of the turn that answers: the first turn after the question that says
    something at length, when someone other than the host says it. Short turns between
    ("For reference?" "Yeah.") are passed over."""
    turns: dict[int, list[SearchHit]] = {}
    for hit in after:
        turns.setdefault(hit.position, []).append(hit)
    for parts in turns.values():
        if sum(len(p.text.split()) for p in parts) < ANSWER_MIN_WORDS:
            continue
        return parts if parts[0].speaker != host else []
    return []
