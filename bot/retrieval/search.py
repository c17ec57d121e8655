"""Question -> ranked passages, scoped to one episode or the whole library.

The question becomes quoted search terms (query.py). Candidates come from FTS5 (one
episode: bm25 over every term; the library: see candidates.py, and the passages that say
most of the rarer words together), then the rerank (rerank.py) scores each by bm25 over
every term with the idf of the passages searched (so candidates of different searches
compare) and weighs how much of the question the passage, its turn and the question before
it hold, words said together, kind (ads, teasers and intros never outrank conversation that
matches as well), the speaker named, and library-wide how much the passage's episode is
about the question (evidence.py). Last, a host's question lends its score to the guest's
answer after it (answers.py). A session for one workspace's own library (db/shelves.py)
searches only its episodes: the index and each term's matches are cut to them, and no
candidate of another episode reaches the rerank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from bot.retrieval.answers import lend_to_answers
from bot.retrieval.candidates import (
    EVIDENCE_CAP,
    co_occurring,
    library_candidates,
)
from bot.retrieval.evidence import LibraryIndex, episode_scores, library_index
from bot.retrieval.query import (
    SPONSOR_INTENT,
    build_expression,
    term_expression,
    term_groups,
    variants,
)
from bot.retrieval.rerank import (
    KIND_WEIGHTS,
    SPONSOR_INTENT_WEIGHT,
    RankedPassage,
    rerank,
    term_positions,
)
from bot.retrieval.words import light_stem, query_terms
from db.episodes import get_episode
from db.library_stats import match_count, matching_ids, turn_context_ids
from db.search import (
    SearchHit,
    episode_scope,
    following_passages,
    passages_by_id,
    search_segments,
    speaker_name_tokens,
)
from db.shelves import shelf

CANDIDATES = 40
# Library-wide, the episodes most about the question are searched with every one of its
# words, this many passages each, and their passages are weighted up by up to
# 1 + EPISODE_PRIOR (see evidence.py; both measured on the dev questions).
EPISODES_SEARCHED = 3
PER_EPISODE = 15
EPISODE_PRIOR = 4.0


class EmptyQuery(ValueError):
    """The question has no words to search for."""


class OnlyCommonWords(EmptyQuery):
    """A search of common words only ("the and of"): every passage matches it as well as
    any other, so there is nothing to search for."""


class UnknownEpisode(LookupError):
    """No episode has the requested slug."""


def _split_names(terms: list[str], names: set[str]) -> tuple[list[str], set[str]]:
    """Terms that name a speaker say whose turns to prefer, not what to search for:
    "Mike" matches every "thanks Mike" in the episode."""
    rest = [t for t in terms if t not in names]
    return (rest, names) if rest else (terms, set())


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
    candidates = max(CANDIDATES, limit * 2)
    span = (scope.first_id, scope.last_id) if scope else None
    matches = {
        t: matching_ids(session, term_expression(t), cap=EVIDENCE_CAP, span=span) for t in terms
    }
    prior = None
    index = library_index(session)
    visible = shelf(session) if scope is None else None
    if visible is not None and not visible:
        return []
    if visible is not None:  # one workspace's own library: only its episodes' passages
        index = index.within(visible)
        matches = {t: _kept(ids, index) for t, ids in matches.items()}
    if scope is None:
        total = sum(index.passages.values())
        idf = _idf(session, search_terms, matches, total, span)
        rarity = {t: max(w.values()) for t, w in zip(search_terms, idf, strict=True)}
        together = co_occurring(matches, rarity)
        scores = episode_scores(index, matches, {t: variants(t) for t in terms})
        best = sorted(scores, key=scores.__getitem__, reverse=True)[:EPISODES_SEARCHED]
        hits = library_candidates(
            session,
            search_terms,
            matches,
            index=index,
            best_episodes=best,
            limit=candidates,
            per_episode=PER_EPISODE,
        )
        prior = _episode_prior(index, scores)
        held = {hit.segment_id for hit in hits}
        more = [i for i, _ in together if i not in held]
        hits += passages_by_id(session, more)
        if visible is not None:
            hits = [hit for hit in hits if index.episode_of(hit.segment_id) is not None]
    else:
        total = scope.last_id - scope.first_id + 1
        idf = _idf(session, search_terms, matches, total, span)
        expression = build_expression(search_terms)
        hits = search_segments(session, expression, scope=scope, limit=candidates)
    wants_sponsors = bool(SPONSOR_INTENT.search(question))

    def kind_weight(kind: str) -> float:
        if wants_sponsors and kind == "sponsor":
            return SPONSOR_INTENT_WEIGHT
        return KIND_WEIGHTS.get(kind, 1.0)

    def is_named_speaker(speaker: str) -> bool:
        return bool(names) and not names.isdisjoint(query_terms(speaker))

    groups = term_groups(search_terms)
    ranked = rerank(
        hits,
        groups,
        kind_weight=kind_weight,
        is_named_speaker=is_named_speaker,
        in_context=_context_matcher(session, hits, search_terms, matches),
        prior=prior,
        idf=idf,
    )
    ranked = lend_to_answers(
        ranked,
        host_of=lambda hit: index.hosts.get(index.episode_of(hit.segment_id) or -1),
        next_turns=lambda asked: following_passages(session, [h.segment_id for h in asked]),
        pick=lambda parts: _best_part(parts, groups),
    )
    return ranked[:limit]


def _kept(ids: list[int] | None, index: LibraryIndex) -> list[int] | None:
    """The passage ids (ascending) of the episodes `index` holds; None stays None."""
    if ids is None:
        return None
    return [i for i in ids if index.episode_of(i) is not None]


def _best_part(parts: Sequence[SearchHit], groups: Sequence[frozenset[str]]) -> SearchHit:
    """The passage of a turn that holds most of the question's terms; the first on a tie."""
    wanted = set().union(*groups)

    def held(hit: SearchHit) -> int:
        where = term_positions(hit.text, wanted)
        return sum(not group.isdisjoint(where) for group in groups)

    return max(parts, key=held)


def _idf(
    session: Session,
    terms: Sequence[str],
    matches: Mapping[str, Sequence[int] | None],
    total: int,
    span: tuple[int, int] | None,
) -> list[dict[str, float]]:
    """bm25's idf of each term's stems over the passages searched (one episode or the
    library), from their match counts; a term too common to have them counted is taken as
    found in EVIDENCE_CAP passages, the least it can be. A term with other spellings has
    each counted: "he" says far less than "gender", though either answers "pronoun"."""
    total = max(1, total)

    def weight(found: int) -> float:
        found = min(total, found)
        return math.log(1 + (total - found + 0.5) / (found + 0.5))

    weights = []
    for term in terms:
        spellings = variants(term)
        if len(spellings) == 1:
            ids = matches.get(term)
            weights.append({light_stem(term): weight(EVIDENCE_CAP if ids is None else len(ids))})
            continue
        counted = {
            light_stem(v): weight(match_count(session, f'"{v}"', cap=EVIDENCE_CAP, span=span))
            for v in spellings
        }
        weights.append(counted)
    return weights


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
