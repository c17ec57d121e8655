"""Library-wide candidates: passages worth reranking, from the whole library and from the
episodes the question is most about."""

from __future__ import annotations

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
