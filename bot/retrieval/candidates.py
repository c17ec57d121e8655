"""Library-wide candidates: passages worth reranking, from the whole library, from the
episodes the question is most about, and those that say most of its rarer words."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from bot.retrieval.evidence import LibraryIndex
from bot.retrieval.query import build_expression
from db.search import Scope, SearchHit, newest_segments, search_segments

# A term found in fewer passages than this is "rare": the whole library is bm25-ranked on
# the question's rare terms only (see library_candidates).
RARE_TERM_CAP = 1000
# A term in this many passages or more says little about which episode or turn is meant:
# its matches are not fetched (matches[term] is None).
EVIDENCE_CAP = 5000


def library_candidates(
    session: Session,
    terms: Sequence[str],
    matches: Mapping[str, Sequence[int] | None],
    *,
    index: LibraryIndex,
    best_episodes: Sequence[int],
    limit: int,
    per_episode: int,
) -> list[SearchHit]:
    """Candidates from two searches. `matches` holds each term's matching passage ids
    (ascending), or None for a term too common to have them fetched.

    Across the library, FTS5's bm25 counts every passage each matched term occurs in, and a
    common word occurs in a large share of a big library, so only the rare terms are matched;
    the common ones still count when reranking. A question made only of common words takes
    the newest passages holding all of them, unranked, for the rerank to order.

    Then the episodes the question is most about are searched with every word, so the
    passage that says the common words too is found. That costs the most: bm25 inside one
    episode still counts each common word's passages across the whole library."""
    present = [t for t in terms if matches[t] is None or matches[t]]
    rare = [t for t in present if (ids := matches[t]) is not None and len(ids) < RARE_TERM_CAP]
    if rare:
        hits = search_segments(session, build_expression(rare), scope=None, limit=limit)
    elif present:
        hits = newest_segments(session, build_expression(present, "AND"), limit=limit)
    else:
        return []
    expression = build_expression(present)
    for episode in best_episodes:
        scope = Scope(episode, *index.span(episode))
        hits += search_segments(session, expression, scope=scope, limit=per_episode)
    return list({hit.segment_id: hit for hit in hits}.values())


# Passages found by what they hold rather than by bm25: this many, each scored by the idf of
# the distinct question words it says. (Adding a share of the words its neighbours say,
# 0.2 or 0.5 of them within 2 or 4 passages, found no more on the dev questions.)
CO_OCCURRING = 20


def co_occurring(
    matches: Mapping[str, Sequence[int] | None], idf: Mapping[str, float]
) -> list[tuple[int, float]]:
    """The passage ids where most of the question's rarer words are said together: a
    passage that talks about the question says several of them, where one that merely
    mentions its topic says one. Common words (matches None) are left out: they say
    nothing about where. The CO_OCCURRING best, as (passage id, score), best first."""
    said: dict[int, float] = {}
    for term, ids in matches.items():
        weight = idf.get(term)
        if not ids or weight is None:
            continue
        for i in ids:
            said[i] = said.get(i, 0.0) + weight
    best = heapq.nlargest(CO_OCCURRING, said, key=said.__getitem__)
    return [(i, said[i]) for i in best]
