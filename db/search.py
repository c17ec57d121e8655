"""Full-text backend: FTS5 over segments on SQLite, the segments' tsvector on PostgreSQL.
Takes already-safe search expressions built by `bot.retrieval` (FTS5's grammar, turned into
a tsquery for PostgreSQL by db/tsquery.py); nothing here ever sees raw user text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from typing import Any

from sqlalchemy import Result, String, bindparam, func, select, text
from sqlalchemy.orm import Session

from db.dialect import is_postgres
from db.models import Segment
from db.tsquery import any_of_words, tsquery


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

# PostgreSQL, a search for any of some words (all of retrieval's): instead of ts_rank reading
# every match in the table (thousands of rows for a question's rarer words), the passages it
# would rank first are picked from their stems' groups in episode_lexemes (migration 0014),
# and ts_rank reads those alone. For such a query ts_rank is a factor common to every
# passage times the sum, over the query's stems a passage says, of 1/j^2 for j up to the
# times it says each: `weight` (exact to three times, within 1e-4 beyond). So ts_rank's
# first `limit` are among the SHORTLIST * limit heaviest. Ties go to the lower id at both
# steps: the passages are those ts_rank over every match would keep, breaking ties so.
SHORTLIST = 2
_PG_WEIGHT = (
    "CASE p.times WHEN 1 THEN 1 WHEN 2 THEN 1.25 WHEN 3 THEN 1.3611111 "
    "ELSE 1.6449341 - 1 / p.times + 0.5 / p.times ^ 2 - 1 / (6 * p.times ^ 3) END"
)
_PG_SHORTLISTED = f"""said AS (
    SELECT p.id, sum({_PG_WEIGHT}) AS weight
    FROM episode_lexemes AS g, unnest(g.segment_ids, g.occurrences::float8[]) AS p (id, times)
    WHERE g.lexeme = ANY (tsvector_to_array(to_tsvector('episode_bot', :words)))
      AND p.id BETWEEN :first_id AND :last_id{{episode}}
    GROUP BY p.id
    ORDER BY weight DESC, p.id
    LIMIT :shortlist
), best AS (
    SELECT s.id, ts_rank(s.search, q) AS rank
    FROM said JOIN segments AS s ON s.id = said.id, to_tsquery('episode_bot', :match) AS q
    WHERE s.search @@ q
    ORDER BY rank DESC, s.id
    LIMIT :limit
)"""
_PG_SHORTLIST_SEARCH_SQL = _ranked(
    _PG_SHORTLISTED.format(episode=""), relevance="best.rank", order=" DESC, best.id"
)
# One episode: its own groups, one per stem.
_PG_SHORTLIST_SCOPED_SQL = _ranked(
    _PG_SHORTLISTED.format(episode=" AND g.episode_id = :episode_id"),
    relevance="best.rank",
    order=" DESC, best.id",
)


def marks(session: Session, count: int) -> str:
    """`count` positional placeholders in the driver's own style."""
    return ", ".join(["%s" if is_postgres(session) else "?"] * count)


def among(session: Session, ids: Sequence[int]) -> tuple[str, tuple[object, ...]]:
    """A condition that a value is one of `ids`, in the driver's placeholder style, and its
    parameters. On PostgreSQL one array parameter: a statement of a thousand placeholders
    costs psycopg milliseconds to parse and the server to plan, every time anew."""
    if is_postgres(session):
        return "= ANY (%s::integer[])", (list(ids),)
    return f"IN ({marks(session, len(ids))})", tuple(ids)


# Every column of `segments` but PostgreSQL's tsvector (which the models leave out).
_SEGMENT_COLUMNS = ", ".join(column.name for column in Segment.__table__.columns)
# PostgreSQL: the passages of a few id ranges, one index range scan each. A thousand ids as
# `= ANY` cost a descent of the index each, four times as long. OFFSET 0 keeps each range
# its own scan: flattened into a join, a generic plan (which psycopg's prepared statements
# come to) reads the whole table for every range instead.
_PG_RANGES = (
    "unnest(%s::integer[], %s::integer[]) AS w (low, high) CROSS JOIN LATERAL "
    f"(SELECT {_SEGMENT_COLUMNS} FROM segments WHERE id BETWEEN w.low AND w.high OFFSET 0) AS s"
)


def passages_near(
    session: Session, ids: Sequence[int], *, before: int, after: int
) -> tuple[str, str, tuple[object, ...]]:
    """The passages from `before` ids below to `after` ids above any of `ids`, as a FROM
    item named `s`, the condition that keeps it to them, and their parameters."""
    if not is_postgres(session):
        window = sorted({i for x in ids for i in range(x - before, x + after + 1)})
        return "segments AS s", f"s.id IN ({marks(session, len(window))})", tuple(window)
    lows: list[int] = []
    highs: list[int] = []
    for x in sorted(set(ids)):
        if highs and x - before <= highs[-1] + 1:  # overlapping or adjacent: one range
            highs[-1] = x + after
        else:
            lows.append(x - before)
            highs.append(x + after)
    return _PG_RANGES, "TRUE", (lows, highs)


_HIT_FIELDS = tuple(field.name for field in fields(SearchHit))


def _hits(result: Result[Any]) -> list[SearchHit]:
    """Hits from a result whose columns are named as SearchHit's fields. Matched by name
    once per query, not per row: retrieval reads a few hundred rows per question, and a
    row's mapping costs three times what the hit itself does."""
    return _named_hits(list(result.keys()), result)


def _named_hits(names: list[str], rows: Iterable[Sequence[Any]]) -> list[SearchHit]:
    """Hits from rows whose columns are `names`, SearchHit's fields among them."""
    pick = itemgetter(*(names.index(name) for name in _HIT_FIELDS))
    return [SearchHit(*pick(row)) for row in rows]


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
    sql, words = _SEARCH_SQL, None
    if is_postgres(session):
        words = any_of_words(expression)
        if words:
            sql = _PG_SHORTLIST_SCOPED_SQL if scope is not None else _PG_SHORTLIST_SEARCH_SQL
        else:
            sql = _PG_SCOPED_SQL if scope is not None else _PG_SEARCH_SQL
        expression, last = tsquery(expression), min(last, PG_LAST_ID)
    rows = session.execute(
        text(sql),
        {
            "match": expression,
            "words": " ".join(words or ()),
            "first_id": first,
            "last_id": last,
            "limit": limit,
            "shortlist": SHORTLIST * limit,
            "episode_id": scope.episode_id if scope else None,
        },
    )
    return _hits(rows)


_NEWEST = f"""
WITH newest AS ({{matches}} LIMIT {{limit}})
SELECT {_HIT_COLUMNS.format(relevance="1.0")}
FROM newest
JOIN segments AS s ON s.id = newest.id
JOIN episodes AS e ON e.id = s.episode_id
ORDER BY s.id DESC
"""
_NEWEST_SQL = _NEWEST.format(
    matches="SELECT rowid AS id FROM segments_fts WHERE segments_fts MATCH :match "
    "ORDER BY rowid DESC",
    limit=":limit",
)
# In psycopg's own placeholders: it runs on the driver, never prepared (newest_segments).
_PG_NEWEST_SQL = _NEWEST.format(
    matches="SELECT id FROM segments WHERE search @@ to_tsquery('episode_bot', %(match)s) "
    "ORDER BY id DESC",
    limit="%(limit)s",
)
# Segment ids are PostgreSQL integers (32 bits): a range's open end stops there.
PG_LAST_ID = 2**31 - 1


def newest_segments(session: Session, expression: str, *, limit: int) -> list[SearchHit]:
    """The `limit` most recently stored passages that match, all with relevance 1.0.

    For expressions of common words only: bm25 first counts every match of every term in
    the whole library, which is most of a query's time when the terms are common, while
    walking the newest rowids stops after `limit` matches."""
    if is_postgres(session):
        # Planned for its own words each time, never prepared: psycopg prepares a statement
        # run five times, and PostgreSQL may then keep one plan for any words, a walk back
        # from the newest passage. For common words rarely said together that reads most of
        # the table (300 ms on 300 episodes, where the GIN index answers in one); it is the
        # plan taken while the index's pending list is long, as after an ingest.
        driver = session.connection().connection.driver_connection
        params = {"match": tsquery(expression), "limit": limit}
        cursor = driver.execute(_PG_NEWEST_SQL, params, prepare=False)
        return _named_hits([column.name for column in cursor.description], cursor)
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
FROM {{passages}}
JOIN episodes AS e ON e.id = s.episode_id
WHERE {{near}}
ORDER BY s.id"""


def following_passages(
    session: Session, segment_ids: Sequence[int], *, reach: int = 10
) -> dict[int, list[SearchHit]]:
    """For each passage, the passages after it in its episode, of the next turns (not its
    own), looked for within `reach` rowids after it, in order."""
    wanted = sorted(set(segment_ids))
    if not wanted:
        return {}
    passages, near, params = passages_near(session, wanted, before=0, after=reach)
    result = session.connection().exec_driver_sql(
        _NEXT_TURN_SQL.format(passages=passages, near=near), params
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
WHERE s.id {{among}}"""


def passages_by_id(session: Session, segment_ids: Sequence[int]) -> list[SearchHit]:
    """The passages with these ids (relevance 0: the caller scores them)."""
    if not segment_ids:
        return []
    condition, params = among(session, segment_ids)
    result = session.connection().exec_driver_sql(_BY_ID_SQL.format(among=condition), params)
    return _hits(result)
