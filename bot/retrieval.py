"""Question -> ranked passages, scoped to one episode or the whole library.

User text never reaches FTS5 as syntax: it is cut into words, each word is quoted, and the
words are OR-ed together, so quotes, `-`, `*`, `AND`/`NOT`, parentheses and emoji are all
just text. Ranking is FTS5's bm25, then kind weights so ads, teasers and the host's intro
never outrank conversation that matches as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from bot.episode_evidence import LibraryIndex, episode_scores, library_index
from bot.rerank import KIND_WEIGHTS, SPONSOR_INTENT_WEIGHT, RankedPassage, rerank
from bot.text import light_stem, query_terms
from db.episodes import get_episode
from db.library_stats import matching_ids, turn_context_ids
from db.search import (
    Scope,
    SearchHit,
    episode_scope,
    newest_segments,
    search_segments,
    speaker_name_tokens,
)

CANDIDATES = 40
# Library-wide, the episodes most about the question are searched with every one of its
# words, this many passages each, and their passages are weighted up by up to
# 1 + EPISODE_PRIOR (see bot.episode_evidence; both measured on the dev questions).
EPISODES_SEARCHED = 3
PER_EPISODE = 15
EPISODE_PRIOR = 4.0
# A term in this many passages or more says little about which episode or turn is meant.
EVIDENCE_CAP = 5000
# Library-wide, a term found in this many passages or more is "common" (see
# _library_query). Counting stops at the cap, so telling costs well under a millisecond.
RARE_TERM_CAP = 1000

# Speech-to-text spells some names as ordinary words: "Cloud Code" for Claude Code,
# "MTV" for MCP. A question that names the real thing must find the misheard turns.
ASR_ALIASES: dict[str, tuple[str, ...]] = {
    "claude": ("cloud",),
    "mcp": ("mtv",),
    "cursor": ("kursor",),
    "swe": ("sweet", "suite"),
    "dario": ("daria",),
    "daniela": ("danielle",),
}
# Speech-to-text writes most numbers as words ("opus four", "three seven").
NUMBER_WORDS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
)
# A few concepts people ask about by a word the speakers never say.
CONCEPT_ALIASES: dict[str, tuple[str, ...]] = {
    "pronoun": ("gender", "he", "she", "they"),
    "pronouns": ("gender", "he", "she", "they"),
    "ads": ("sponsor", "brought"),
    "sponsors": ("sponsor", "brought"),
}

SPONSOR_INTENT = re.compile(r"\b(?:sponsor\w*|ads?|advert\w*|promo\w*)\b", re.IGNORECASE)


class EmptyQuery(ValueError):
    """The question has no words to search for."""


class UnknownEpisode(LookupError):
    """No episode has the requested slug."""


def variants(term: str) -> tuple[str, ...]:
    """The term and the spellings that mean the same in a transcript."""
    extra = ASR_ALIASES.get(term, ()) + CONCEPT_ALIASES.get(term, ())
    # ASCII and short: "²".isdigit() is true but int() refuses it, and int() of a
    # 5,000-digit paste is refused too.
    if term.isascii() and term.isdigit() and len(term) <= 2 and int(term) in NUMBER_WORDS:
        extra += (NUMBER_WORDS[int(term)],)
    return (term, *extra)


def term_expression(term: str) -> str:
    """One term as FTS5 syntax: its quoted variants, OR-ed."""
    return "(" + " OR ".join(f'"{v}"' for v in variants(term)) + ")"


def build_expression(terms: list[str], operator: str = "OR") -> str:
    """An FTS5 expression joining the terms' expressions with OR (or AND)."""
    return f" {operator} ".join(term_expression(term) for term in terms)


def _library_candidates(
    session: Session,
    terms: list[str],
    matches: Mapping[str, Sequence[int] | None],
    best_episodes: Sequence[Scope],
    limit: int,
) -> list[SearchHit]:
    """Candidates from the whole library, from two searches.

    Across the library, bm25 counts every passage each matched term occurs in, and a common
    word occurs in a large share of a big library, so only the rare terms are matched; the
    common ones still count when reranking. A question made only of common words takes the
    newest passages holding all of them, unranked, for the rerank to order.

    Then the episodes the question is most about are searched with every word: inside one
    episode that is cheap, and it finds the passage that says the common words too."""
    present = [t for t in terms if matches[t] is None or matches[t]]
    rare = [t for t in present if (ids := matches[t]) is not None and len(ids) < RARE_TERM_CAP]
    if rare:
        hits = search_segments(session, build_expression(rare), scope=None, limit=limit)
    elif present:
        hits = newest_segments(session, build_expression(present, "AND"), limit=limit)
    else:
        return []
    expression = build_expression(present)
    for scope in best_episodes:
        hits += search_segments(session, expression, scope=scope, limit=PER_EPISODE)
    return list({hit.segment_id: hit for hit in hits}.values())


def _split_names(terms: list[str], names: set[str]) -> tuple[list[str], set[str]]:
    """Terms that name a speaker say whose turns to prefer, not what to search for:
    "Mike" matches every "thanks Mike" in the episode."""
    rest = [t for t in terms if t not in names]
    return (rest, names) if rest else (terms, set())


def term_groups(terms: list[str]) -> list[frozenset[str]]:
    """Per question term, the stems of it and its variants: any one of them is a match."""
    return [frozenset(light_stem(v) for v in variants(t)) for t in terms]


def retrieve(
    session: Session, question: str, *, episode: str | None = None, limit: int = 5
) -> list[RankedPassage]:
    """The best passages for `question`, one per turn, best first."""
    terms = query_terms(question)
    if not terms:
        raise EmptyQuery("the question has no words to search for")
    scope = None
    if episode is not None:
        found = get_episode(session, episode)
        if found is None:
            raise UnknownEpisode(episode)
        scope = episode_scope(session, found.id)
    names_said = speaker_name_tokens(session, terms, scope.episode_id if scope else None)
    search_terms, names = _split_names(terms, names_said)
    candidates = max(CANDIDATES, limit * 4)
    span = (scope.first_id, scope.last_id) if scope else None
    matches = {
        t: matching_ids(session, term_expression(t), cap=EVIDENCE_CAP, span=span) for t in terms
    }
    prior = None
    if scope is None:
        index = library_index(session)
        scores = episode_scores(index, matches, {t: variants(t) for t in terms})
        best = sorted(scores, key=scores.__getitem__, reverse=True)[:EPISODES_SEARCHED]
        scopes = [Scope(e, *index.span(e)) for e in best]
        hits = _library_candidates(session, search_terms, matches, scopes, candidates)
        prior = _episode_prior(index, scores)
    else:
        expression = build_expression(search_terms)
        hits = search_segments(session, expression, scope=scope, limit=candidates)
    wants_sponsors = bool(SPONSOR_INTENT.search(question))

    def kind_weight(kind: str) -> float:
        if wants_sponsors and kind == "sponsor":
            return SPONSOR_INTENT_WEIGHT
        return KIND_WEIGHTS.get(kind, 1.0)

    def is_named_speaker(speaker: str) -> bool:
        return bool(names) and not names.isdisjoint(query_terms(speaker))

    ranked = rerank(
        hits,
        term_groups(search_terms),
        kind_weight=kind_weight,
        is_named_speaker=is_named_speaker,
        in_context=_context_matcher(session, hits, search_terms, matches),
        prior=prior,
    )
    return ranked[:limit]


def _episode_prior(
    index: LibraryIndex, scores: Mapping[int, float]
) -> Callable[[SearchHit], float]:
    """How much a passage's episode is about the question, as a multiplier from 1 (not at
    all) to 1 + EPISODE_PRIOR (the episode most about it)."""
    top = max(scores.values(), default=0.0)

    def prior(hit: SearchHit) -> float:
        episode = index.episode_of(hit.segment_id)
        if not top or episode is None:
            return 1.0
        return 1 + EPISODE_PRIOR * scores.get(episode, 0.0) / top

    return prior


def _context_matcher(
    session: Session,
    hits: Sequence[SearchHit],
    terms: Sequence[str],
    matches: Mapping[str, Sequence[int] | None],
) -> Callable[[SearchHit], list[bool]]:
    """Per question term, whether the rest of a passage's turn or the turn before it holds
    the term. Told from the terms' matching passage ids, so no text is read again; a term too
    common to have its matches fetched is never counted as nearby."""
    context = turn_context_ids(session, [hit.segment_id for hit in hits])
    matched = [frozenset(ids or ()) for ids in (matches.get(t) for t in terms)]

    def in_context(hit: SearchHit) -> list[bool]:
        nearby = context.get(hit.segment_id, ())
        return [any(i in ids for i in nearby) for ids in matched]

    return in_context
