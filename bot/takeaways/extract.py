"""An episode's takeaways, ready to post: each with its supporting passage, a verbatim quote
from it and a question that invites discussion. Never from sponsor reads or the cold open.

Offline (no key), two sources, in this order of posting:
- the episode's own key-takeaway bullets, each located by searching for it in the
  conversation and quoting the passage's sentence that shares most of its words;
- self-contained, quotable lines from the guest: whole sentences (or clauses) of 12 to 40
  words, cut by the offline answer's quote rules (bot/answering/quotes.py), that do not lean
  on what came before ("And that...", "It was..."), are not questions, and say something
  general ("I think", "the biggest", "you have to") more than they hedge.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering import quotes
from bot.retrieval import retrieve
from bot.retrieval.query import term_groups
from bot.retrieval.words import query_terms
from db.search import SearchHit

MIN_WORDS, MAX_WORDS = 12, quotes.MAX_WORDS
# A quote does not end on these: it would stop mid-thought.
FUNCTION_WORDS = quotes.HANGING
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
REPORTED_SPEECH = re.compile(r'"[^"]*"|\u201c[^\u201d]*\u201d')
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
    """Verbatim stretches of `text` that could stand as quotes, MIN_WORDS to MAX_WORDS
    words long: whole sentences, or whole clauses where there is no punctuation, never
    starting inside a quotation or ending on a comma (the offline answer's quote rules)."""
    return quotes.candidate_quotes(text, min_words=MIN_WORDS, max_words=MAX_WORDS)


def quotability(sentence: str) -> float:
    """How well a sentence stands alone as a quote; below zero it should not be used."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or sentence.endswith("?"):
        return -1.0
    if words[0].lower().strip(",") in LEANING or words[-1].lower() in FUNCTION_WORDS:
        return -1.0
    # What the guest reports someone else saying ("People say, "I think..."") is not the
    # guest's own claim: its markers do not count.
    lowered = f" {REPORTED_SPEECH.sub(' ', sentence.lower())} "
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
    return quotes.best_matching(text, groups, min_words=MIN_WORDS, max_words=MAX_WORDS)


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
