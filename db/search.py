"""Full-text backend: FTS5 over segments. Takes an already-safe FTS5 expression built by
`bot.retrieval`; nothing here ever sees raw user text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import SpeakerToken


@dataclass(frozen=True)
class SearchHit:
    """One matching passage with its episode and FTS5 bm25 relevance (higher is better)."""

    segment_id: int
    episode_slug: str
    episode_title: str
    position: int
    part: int
    speaker: str
    start_seconds: float | None
    kind: str
    text: str
    relevance: float


_SEARCH_SQL = """
SELECT s.id, e.slug, e.title, s.position, s.part, s.speaker, s.start_seconds, s.kind, s.text,
       -bm25(segments_fts, 1.0, 0.0) AS relevance
FROM segments_fts
JOIN segments AS s ON s.id = segments_fts.rowid
JOIN episodes AS e ON e.id = s.episode_id
WHERE segments_fts MATCH :match
ORDER BY bm25(segments_fts, 1.0, 0.0)
LIMIT :limit
"""


def match_expression(terms_expression: str, episode_id: int | None) -> str:
    """Restrict a text expression to the `text` column and, optionally, one episode."""
    scoped = f"text : ({terms_expression})"
    return f"episode_id : {int(episode_id)} AND {scoped}" if episode_id is not None else scoped


def search_segments(
    session: Session, terms_expression: str, *, episode_id: int | None, limit: int
) -> list[SearchHit]:
    """Best `limit` passages for an FTS5 expression, best first."""
    rows = session.execute(
        text(_SEARCH_SQL),
        {"match": match_expression(terms_expression, episode_id), "limit": limit},
    )
    return [SearchHit(*row) for row in rows]


def speaker_name_tokens(session: Session, terms: Sequence[str], episode_id: int | None) -> set[str]:
    """Which of `terms` are words of a speaker's name, in one episode or the library."""
    if not terms:
        return set()
    query = select(SpeakerToken.token).where(SpeakerToken.token.in_(terms)).distinct()
    if episode_id is not None:
        query = query.where(SpeakerToken.episode_id == episode_id)
    return set(session.scalars(query))
