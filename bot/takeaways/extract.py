"""An episode's takeaways, ready to post: each with its supporting passage, a verbatim quote
from it and a question that invites discussion. Never from sponsor reads or the cold open.

Offline (no key), two sources, in this order of posting:
- the episode's own key-takeaway bullets, each located by searching for it in the
  conversation and quoting the passage's sentence that shares most of its words;
- self-contained, quotable sentences from the guest: a full sentence of 12 to 45 words that
  does not lean on what came before ("And that...", "It was..."), is not a question, and
  says something general ("I think", "the biggest", "you have to") more than it hedges.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.retrieval import retrieve
from bot.retrieval.query import term_groups
from bot.retrieval.words import query_terms, stems
from db.search import SearchHit

WORD_SPAN = re.compile(r"\S+")
MIN_WORDS, MAX_WORDS = 12, 40
# Speech-to-text rarely punctuates: a quote then starts where a claim starts ("I think…")
# and ends before a word that opens the next clause.
CLAUSE_BREAK = frozenset("and so but because which then or like".split())
# A quote does not end on these: it would stop mid-thought.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at for with by from and or but so that this is are was were be been "
    "it its it's i i'm i'd i'll you you're we we're we'll they they're my our your their me us "
    "he she them am has have had not can could would will do does did don't what how why when "
    "where who as if then than about into up out all some more most much many one two there "
    "here those these that's there's like just really very kind sort kinda sorta gonna wanna "
    "um uh know mean think say said get got go going thing things stuff way".split()
)
# Where a claim starts: a quote may begin here even without punctuation before it.
CLAIM_STARTS = (
    "i think", "i believe", "what i've learned", "the key", "the biggest", "the lesson",
    "the way to", "the goal", "the trick", "the hardest", "you have to", "you need to",
    "the best", "the most important", "my advice", "the thing i",
)  # fmt: skip
WANTED = 30  # extracted takeaways per episode, besides the bullets
POSTABLE_KINDS = frozenset({"content"})
# A sentence starting with these leans on the one before it.
LEANING = frozenset(
    "and but so because which that this these those it its they them he she his her yeah yes "
    "no um uh like or then also well right okay oh anyway plus there here".split()
)
INSIGHT = (
    "i think", "i believe", "the key", "the most", "the biggest", "the best", "the hardest",
    "the lesson", "what i've learned", "the way to", "you have to", "you need to", "should",
    "important", "never", "always", "the real", "matters", "the trick", "the goal", "the point",
)  # fmt: skip
FILLER = ("you know", "kind of", "sort of", "i mean", " like ", " um", " uh", "i guess")
QUESTIONS = (
    "Where does this hold for our product, and where doesn't it?",
    "If we took this seriously, what would we change first?",
    "What's one example from our own work that agrees or disagrees with this?",
    "Which of our current bets does this challenge?",
    "What would have to be true for this to apply to our team?",
)


@dataclass(frozen=True)
class Prepared:
    """A takeaway to store: its text, where it comes from and what is posted with it."""

    text: str
    origin: str
    segment_id: int
    position: int
    quote: str
    question: str
    rank: int


def discussion_question(rank: int) -> str:
    """One of a few open questions, varied from day to day."""
    return QUESTIONS[rank % len(QUESTIONS)]


def guest_of(passages: Sequence[SearchHit], named: str | None) -> str | None:
    """The guest: as the metadata names them, else whoever says most in the conversation."""
    words: Counter[str] = Counter()
    for hit in passages:
        if hit.kind in POSTABLE_KINDS:
            words[hit.speaker] += len(hit.text.split())
    if named and named in words:
        return named
    return words.most_common(1)[0][0] if words else None


def candidate_quotes(text: str) -> list[str]:
    """Verbatim stretches of `text` that could stand as quotes: each starts at the turn's
    start, at a sentence start or where a claim starts, and ends at a sentence end or before
    the next clause, MIN_WORDS to MAX_WORDS words long."""
    words = list(WORD_SPAN.finditer(text))
    lowered = [w.group(0).lower().strip(",;:") for w in words]
    starts = {0} | {i + 1 for i, w in enumerate(lowered) if words[i].group(0)[-1] in ".!?"}
    for i in range(len(words)):
        ahead = " ".join(lowered[i : i + 4])
        if any(ahead.startswith(marker) for marker in CLAIM_STARTS):
            starts.add(i)
    quotes: list[str] = []
    for first in sorted(starts):
        best_end = None
        for last in range(first + MIN_WORDS - 1, min(first + MAX_WORDS, len(words))):
            ends_sentence = words[last].group(0)[-1] in ".!?"
            next_breaks = last + 1 == len(words) or lowered[last + 1] in CLAUSE_BREAK
            if lowered[last] in FUNCTION_WORDS:
                continue
            if ends_sentence or next_breaks:
                best_end = last
                if ends_sentence:
                    break
        if best_end is not None:
            quotes.append(text[words[first].start() : words[best_end].end()])
    return quotes


def quotability(sentence: str) -> float:
    """How well a sentence stands alone as a quote; below zero it should not be used."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or sentence.endswith("?"):
        return -1.0
    if words[0].lower().strip(",") in LEANING or words[-1].lower() in FUNCTION_WORDS:
        return -1.0
    lowered = f" {sentence.lower()} "
    insights = sum(marker in lowered for marker in INSIGHT)
    if not insights:
        return -1.0  # says nothing general: a story or a pleasantry, not a takeaway
    score = 2.0 * insights
    score -= 1.5 * sum(lowered.count(filler) for filler in FILLER)
    score += 1.0 if 16 <= len(words) <= 32 else 0.0
    return score


def extract(passages: Sequence[SearchHit], guest: str, first_rank: int) -> list[Prepared]:
    """The guest's most quotable sentences, one per turn, best first."""
    best_per_turn: dict[int, tuple[float, str, SearchHit]] = {}
    for hit in passages:
        if hit.kind not in POSTABLE_KINDS or hit.speaker != guest:
            continue
        for sentence in candidate_quotes(hit.text):
            score = quotability(sentence)
            if score >= 0 and score > best_per_turn.get(hit.position, (-1.0, "", hit))[0]:
                best_per_turn[hit.position] = (score, sentence, hit)
    ranked = sorted(best_per_turn.values(), key=lambda item: (-item[0], item[2].position))
    return [
        Prepared(
            text=sentence,
            origin="extracted",
            segment_id=hit.segment_id,
            position=hit.position,
            quote=sentence,
            question=discussion_question(rank),
            rank=rank,
        )
        for rank, (_, sentence, hit) in enumerate(ranked[:WANTED], start=first_rank)
    ]


def best_sentence(text: str, about: str) -> str | None:
    """The candidate quote of `text` sharing most words with `about`, if any shares one."""
    groups = term_groups(query_terms(about))
    scored = [
        (sum(not g.isdisjoint(stems(s)) for g in groups), s)
        for s in candidate_quotes(text)
        if s.split()[-1].lower() not in FUNCTION_WORDS
    ]
    scored = [(score, s) for score, s in scored if score > 0]
    return max(scored, key=lambda item: item[0])[1] if scored else None


def locate(
    session: object, bullet: str, slug: str, guest: str | None, avoid: set[str]
) -> tuple[SearchHit, str] | None:
    """The content passage that best supports a key-takeaway bullet, and its quote: the
    guest's words where they match, since the bullets sum up what the guest said. A quote
    in `avoid` (another bullet's) is passed over for the next best passage."""
    hits = [
        r.hit
        for r in retrieve(session, bullet, episode=slug, limit=10)  # type: ignore[arg-type]
        if r.hit.kind in POSTABLE_KINDS
    ]
    hits.sort(key=lambda hit: hit.speaker != guest)  # stable: the guest's first, by rank
    for hit in hits:
        if (quote := best_sentence(hit.text, bullet)) and quote not in avoid:
            return hit, quote
    return None
