"""Full-text backend: FTS5 over segments on SQLite, the segments' tsvector on PostgreSQL.
Takes already-safe search expressions built by `bot.retrieval` (FTS5's grammar, turned into
a tsquery for PostgreSQL by db/tsquery.py); nothing here ever sees raw user text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any

from sqlalchemy import Result, String, bindparam, func, select, text
from sqlalchemy.orm import Session

from db.dialect import is_postgres
from db.models import Segment
from db.tsquery import tsquery


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
    # The episode's page (a video, say), when its source named one.
    episode_url: str | None = None


@dataclass(frozen=True)
class Scope:
    """One episode, as the rowid range its segments were stored in. An episode is stored in
    one transaction by one writer, so its segment ids are contiguous, and a rowid range is a
    constraint FTS5 applies while matching (a filter on a join comes after ranking)."""

    episode_id: int
    first_id: int
    last_id: int


# Every SearchHit field, selected under its own name from a segment `s` and its episode `e`
# (the query says what relevance is): hits are built by name, so no column list has to be
# kept in the dataclass's order, and the three queries cannot drift apart.
_HIT_COLUMNS = """s.id AS segment_id, e.slug AS episode_slug, e.title AS episode_title,
       s.position AS position, s.part AS part, s.speaker AS speaker,
       s.start_seconds AS start_seconds, s.kind AS kind, s.text AS text,
       {relevance} AS relevance, e.source_url AS episode_url"""


def _ranked(best: str, *, relevance: str, order: str) -> str:
    """A search: the CTEs that rank the few winners (`best`: id, rank), then the winners
    joined to their episodes and kept to the scope's episode."""
    return f"""
WITH {best}
SELECT {_HIT_COLUMNS.format(relevance=relevance)}
FROM best
JOIN segments AS s ON s.id = best.id
JOIN episodes AS e ON e.id = s.episode_id
WHERE CAST(:episode_id AS INTEGER) IS NULL OR s.episode_id = :episode_id
ORDER BY best.rank{order}
"""


# Rank inside FTS5 first, then join the few winners: joining before the LIMIT would look
# up every matching row of the library.
_SEARCH_SQL = _ranked(
    """best AS (
    SELECT rowid AS id, bm25(segments_fts) AS rank
    FROM segments_fts
    WHERE segments_fts MATCH :match AND rowid BETWEEN :first_id AND :last_id
    ORDER BY rank
    LIMIT :limit
)""",
    relevance="-best.rank",
    order="",
)
LAST_ROWID = 2**63 - 1

# PostgreSQL: ts_rank over the GIN index's matches (higher is better, as -bm25 is).
_PG_SEARCH_SQL = _ranked(
    """best AS (
    SELECT id, ts_rank(search, q) AS rank
    FROM segments, to_tsquery('episode_bot', :match) AS q
    WHERE search @@ q AND id BETWEEN :first_id AND :last_id
    ORDER BY rank DESC
    LIMIT :limit
)""",
    relevance="best.rank",
    order=" DESC",
)
# One episode: its few hundred rows read by id first, then matched, which the planner would
# otherwise do the other way round (every match in the library, then the id range).
_PG_SCOPED_SQL = _ranked(
    """episode AS MATERIALIZED (
    SELECT id, search FROM segments WHERE id BETWEEN :first_id AND :last_id
), best AS (
    SELECT id, ts_rank(search, q) AS rank
    FROM episode, to_tsquery('episode_bot', :match) AS q
    WHERE search @@ q
    ORDER BY rank DESC
    LIMIT :limit
)""",
    relevance="best.rank",
    order=" DESC",
)


def marks(session: Session, count: int) -> str:
    """`count` positional placeholders in the driver's own style."""
    return ", ".join(["%s" if is_postgres(session) else "?"] * count)


_HIT_FIELDS = tuple(field.name for field in fields(SearchHit))


def _hits(result: Result[Any]) -> list[SearchHit]:
    """Hits from a result whose columns are named as SearchHit's fields. Matched by name
    once per query, not per row: retrieval reads a few hundred rows per question, and a
    row's mapping costs three times what the hit itself does."""
    names = list(result.keys())
    pick = itemgetter(*(names.index(name) for name in _HIT_FIELDS))
    return [SearchHit(*pick(row)) for row in result]


def episode_scope(session: Session, episode_id: int) -> Scope:
    """The scope of one stored episode."""
    first, last = session.execute(
        select(func.min(Segment.id), func.max(Segment.id)).where(Segment.episode_id == episode_id)
    ).one()
    return Scope(episode_id, first or 0, last or -1)


def search_segments(
    session: Session, expression: str, *, scope: Scope | None, limit: int
) -> list[SearchHit]:
    """Best `limit` passages for an FTS5 expression, best first."""
    first, last = (scope.first_id, scope.last_id) if scope else (0, LAST_ROWID)
    sql = _SEARCH_SQL
    if is_postgres(session):
        sql = _PG_SCOPED_SQL if scope is not None else _PG_SEARCH_SQL
        expression, last = tsquery(expression), min(last, PG_LAST_ID)
    rows = session.execute(
        text(sql),
        {
            "match": expression,
            "first_id": first,
            "last_id": last,
            "limit": limit,
            "episode_id": scope.episode_id if scope else None,
        },
    )
    return _hits(rows)


_NEWEST = f"""
WITH newest AS ({{matches}} LIMIT :limit)
SELECT {_HIT_COLUMNS.format(relevance="1.0")}
FROM newest
JOIN segments AS s ON s.id = newest.id
JOIN episodes AS e ON e.id = s.episode_id
ORDER BY s.id DESC
"""
_NEWEST_SQL = _NEWEST.format(
    matches="SELECT rowid AS id FROM segments_fts WHERE segments_fts MATCH :match "
    "ORDER BY rowid DESC"
)
_PG_NEWEST_SQL = _NEWEST.format(
    matches="SELECT id FROM segments WHERE search @@ to_tsquery('episode_bot', :match) "
    "ORDER BY id DESC"
)
# Segment ids are PostgreSQL integers (32 bits): a range's open end stops there.
PG_LAST_ID = 2**31 - 1


def newest_segments(session: Session, expression: str, *, limit: int) -> list[SearchHit]:
    """The `limit` most recently stored passages that match, all with relevance 1.0.

    For expressions of common words only: bm25 first counts every match of every term in
    the whole library, which is most of a query's time when the terms are common, while
    walking the newest rowids stops after `limit` matches."""
    if is_postgres(session):
        rows = session.execute(text(_PG_NEWEST_SQL), {"match": tsquery(expression), "limit": limit})
    else:
        rows = session.execute(text(_NEWEST_SQL), {"match": expression, "limit": limit})
    return _hits(rows)


def speaker_name_tokens(session: Session, terms: Sequence[str], episode_id: int | None) -> set[str]:
    """Which of `terms` are words of a speaker's name, in one episode or the library."""
    if not terms:
        return set()
    sql = f"SELECT DISTINCT token FROM speaker_tokens WHERE token IN ({marks(session, len(terms))})"
    params: tuple[object, ...] = tuple(terms)
    if episode_id is not None:
        sql += f" AND episode_id = {marks(session, 1)}"
        params += (episode_id,)
    return set(session.connection().exec_driver_sql(sql, params).scalars())


_PASSAGES_SQL = f"""
SELECT {_HIT_COLUMNS.format(relevance="0.0")}
FROM segments AS s
JOIN episodes AS e ON e.id = s.episode_id
WHERE s.episode_id = :episode_id AND s.kind NOT IN :leave_out"""


def episode_passages(
    session: Session,
    episode_id: int,
    *,
    leave_out: Sequence[str] = (),
    turns: tuple[int, int] | None = None,
) -> list[SearchHit]:
    """Every passage of one episode in transcript order, but those of the kinds left out;
    only those of turns `first` to `last` (inclusive) when `turns` is given."""
    sql, params = _PASSAGES_SQL, {"episode_id": episode_id, "leave_out": list(leave_out)}
    if turns is not None:
        sql += " AND s.position BETWEEN :first AND :last"
        params.update(first=turns[0], last=turns[1])
    # Expanding: one placeholder per kind left out (none at all is an empty set).
    statement = text(sql + " ORDER BY s.position, s.part").bindparams(
        bindparam("leave_out", expanding=True, type_=String)
    )
    return _hits(session.execute(statement, params))


def turn_span(session: Session, episode_id: int) -> tuple[int, int] | None:
    """The first and last turn numbers of one episode, or None when it has no passages."""
    first, last = session.execute(
        select(func.min(Segment.position), func.max(Segment.position)).where(
            Segment.episode_id == episode_id
        )
    ).one()
    return None if first is None else (first, last)


_NEXT_TURN_SQL = f"""
SELECT {_HIT_COLUMNS.format(relevance="0.0")}, s.episode_id AS episode_id
FROM segments AS s
JOIN episodes AS e ON e.id = s.episode_id
WHERE s.id IN ({{marks}})
ORDER BY s.id"""


def following_passages(
    session: Session, segment_ids: Sequence[int], *, reach: int = 10
) -> dict[int, list[SearchHit]]:
    """For each passage, the passages after it in its episode, of the next turns (not its
    own), looked for within `reach` rowids after it, in order."""
    wanted = sorted(set(segment_ids))
    if not wanted:
        return {}
    window = sorted({i for s in wanted for i in range(s, s + reach + 1)})
    result = session.connection().exec_driver_sql(
        _NEXT_TURN_SQL.format(marks=marks(session, len(window))), tuple(window)
    )
    names = list(result.keys())
    pick = itemgetter(*(names.index(name) for name in _HIT_FIELDS))
    episode_at = names.index("episode_id")
    rows = {row[0]: (row[episode_at], SearchHit(*pick(row))) for row in result}
    following: dict[int, list[SearchHit]] = {}
    for segment in wanted:
        if segment not in rows:
            continue
        episode, hit = rows[segment]
        following[segment] = [
            other
            for i in range(segment + 1, segment + reach + 1)
            if i in rows and rows[i][0] == episode and (other := rows[i][1]).position > hit.position
        ]
    return following


_BY_ID_SQL = f"""
SELECT {_HIT_COLUMNS.format(relevance="0.0")}
FROM segments AS s
JOIN episodes AS e ON e.id = s.episode_id
WHERE s.id IN ({{marks}})"""


def passages_by_id(session: Session, segment_ids: Sequence[int]) -> list[SearchHit]:
    """The passages with these ids (relevance 0: the caller scores them)."""
    if not segment_ids:
        return []
    result = session.connection().exec_driver_sql(
        _BY_ID_SQL.format(marks=marks(session, len(segment_ids))), tuple(segment_ids)
    )
    return _hits(result)
