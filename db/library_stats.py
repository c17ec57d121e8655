"""Library-wide statistics for ranking: which episodes hold which passages, what each
episode is about, and which passages match a term. Like `db.search`, these take already-safe
search expressions (FTS5's grammar; a tsquery on PostgreSQL) and never see raw user text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy.orm import Session

from db.dialect import is_postgres
from db.search import LAST_ROWID, PG_LAST_ID, passages_near
from db.tsquery import any_of_words, tsquery

_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM segments_fts WHERE segments_fts MATCH ? "
    "AND rowid BETWEEN ? AND ? LIMIT ?)"
)
_IDS_SQL = (
    "SELECT rowid FROM segments_fts WHERE segments_fts MATCH ? "
    "AND rowid BETWEEN ? AND ? ORDER BY rowid"
)
_PG_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM segments WHERE search @@ to_tsquery('episode_bot', %s) "
    "AND id BETWEEN %s AND %s LIMIT %s) AS matched"
)
_PG_IDS_SQL = (
    "SELECT id FROM segments WHERE search @@ to_tsquery('episode_bot', %s) "
    "AND id BETWEEN %s AND %s ORDER BY id"
)
# Any of some words, on PostgreSQL: their stems' groups of episode_lexemes (migration 0014),
# one row per stem and episode, read by its key instead of visiting each match of the GIN
# index in the table. A stem's groups never share a passage, so the sum of their sizes is
# how many passages say it: a common word is known to reach the cap from that alone.
_PG_STEMS = "lexeme = ANY (tsvector_to_array(to_tsvector('episode_bot', %(words)s)))"
_PG_FOUND = f"""
WITH found AS MATERIALIZED (
    SELECT lexeme, segment_ids FROM episode_lexemes WHERE {_PG_STEMS}
), stems AS (
    SELECT sum(cardinality(segment_ids)) AS passages FROM found GROUP BY lexeme
)"""
# How many passages say any of them, counted up to the cap.
_PG_LIBRARY_COUNT_SQL = f"""{_PG_FOUND}
SELECT CASE
    WHEN (SELECT max(passages) FROM stems) >= %(cap)s THEN %(cap)s
    WHEN (SELECT count(*) FROM stems) = 1 THEN (SELECT max(passages) FROM stems)
    ELSE (SELECT count(*) FROM (
        SELECT DISTINCT id FROM found, unnest(segment_ids) AS id LIMIT %(cap)s
    ) AS matched)
END"""
# Their groups' ids, or a single NULL when one stem alone is said in `cap` passages or more.
# Merged and sorted by the caller: arrays in binary cost half what unnesting and aggregating
# them here does.
_PG_LIBRARY_GROUPS_SQL = f"""{_PG_FOUND}, common AS (
    SELECT coalesce(max(passages) >= %(cap)s, false) AS common FROM stems
)
SELECT segment_ids FROM found WHERE NOT (SELECT common FROM common)
UNION ALL
SELECT NULL WHERE (SELECT common FROM common)"""
# Within a span: the groups of the episodes it reaches into (a few hundred passages each).
_PG_SPAN_GROUPS_SQL = f"""
SELECT segment_ids FROM episode_lexemes WHERE {_PG_STEMS} AND episode_id IN (
    SELECT DISTINCT episode_id FROM segments WHERE id BETWEEN %(first)s AND %(last)s
)"""


def _driver(session: Session) -> Any:
    """The session's own DB-API connection. These queries run several times per question
    and return thousands of plain integers; SQLAlchemy's result handling would cost a
    microsecond or two a row on top, more than the query."""
    return session.connection().connection.driver_connection


def _matching(
    session: Session, expression: str, span: tuple[int, int] | None
) -> tuple[str, str, str, int, int]:
    """The full-text index's count and ids queries for `expression` on this backend, what
    they match, and the id range to look in."""
    first, last = span or (0, LAST_ROWID)
    if not is_postgres(session):
        return _COUNT_SQL, _IDS_SQL, expression, first, last
    return _PG_COUNT_SQL, _PG_IDS_SQL, tsquery(expression), first, min(last, PG_LAST_ID)


def _stem_words(session: Session, expression: str) -> list[str] | None:
    """On PostgreSQL, the words of an expression that only ORs words (all that retrieval
    counts): its matches are their stems' groups. None otherwise, and on SQLite."""
    return any_of_words(expression) if is_postgres(session) else None


def _stem_passages(
    session: Session, words: list[str], *, cap: int, span: tuple[int, int] | None
) -> list[int] | None:
    """PostgreSQL, any of `words`: the ids of the passages that say them (within `span`, if
    given) ascending; None, library-wide, when one of their stems alone is said in `cap`
    passages or more."""
    params: dict[str, object] = {"words": " ".join(words), "cap": cap}
    sql = _PG_LIBRARY_GROUPS_SQL
    if span is not None:
        sql = _PG_SPAN_GROUPS_SQL
        params.update(first=span[0], last=min(span[1], PG_LAST_ID))
    groups = [row[0] for row in _driver(session).execute(sql, params, binary=True)]
    if None in groups:
        return None
    found = set(chain.from_iterable(groups))
    if span is not None:
        first, last = span
        found = {i for i in found if first <= i <= last}
    return sorted(found)


@dataclass(frozen=True)
class EpisodeSpan:
    """One episode's passages: a contiguous rowid range (one writer stores an episode in one
    transaction) and how many passages it holds."""

    episode_id: int
    first_id: int
    last_id: int
    passages: int


@dataclass(frozen=True)
class EpisodeAbout:
    """What an episode says it is about: its title, guest and summary."""

    episode_id: int
    text: str


@dataclass(frozen=True)
class SpeakerShare:
    """How much one speaker says in one episode: turns and characters of content, and the
    episode's named guest (if its source names one)."""

    episode_id: int
    speaker: str
    turns: int
    characters: int
    guest: str | None


def speaker_shares(session: Session) -> list[SpeakerShare]:
    """Every speaker of every episode with how many content turns and characters they have."""
    rows = session.connection().exec_driver_sql(
        "SELECT s.episode_id AS episode_id, s.speaker AS speaker, "
        "count(DISTINCT s.position) AS turns, sum(length(s.text)) AS characters, "
        "e.guest AS guest "
        "FROM segments AS s JOIN episodes AS e ON e.id = s.episode_id "
        "WHERE s.kind = 'content' GROUP BY s.episode_id, s.speaker, e.guest"
    )
    return [SpeakerShare(**row._mapping) for row in rows]


def library_version(session: Session) -> tuple[object, ...]:
    """Changes whenever any process adds, replaces, retitles or removes an episode: triggers
    on `episodes` move a counter (migration 0008)."""
    connection = session.connection()
    generation = connection.exec_driver_sql(
        "SELECT generation FROM library_generation WHERE id = 1"
    ).scalar_one()
    return (str(connection.engine.url), generation)


def episode_spans(session: Session) -> list[EpisodeSpan]:
    """Every episode's rowid range, in rowid order."""
    # Built by column name: these run once per library change, not per question.
    rows = session.connection().exec_driver_sql(
        "SELECT episode_id, min(id) AS first_id, max(id) AS last_id, count(*) AS passages "
        "FROM segments GROUP BY episode_id ORDER BY first_id"
    )
    return [EpisodeSpan(**row._mapping) for row in rows]


def episodes_about(session: Session) -> list[EpisodeAbout]:
    """Every episode's title, guest and summary as one text."""
    rows = session.connection().exec_driver_sql(
        "SELECT id AS episode_id, "
        "title || ' ' || coalesce(guest, '') || ' ' || coalesce(summary, '') AS text "
        "FROM episodes"
    )
    return [EpisodeAbout(**row._mapping) for row in rows]


def match_count(
    session: Session, expression: str, *, cap: int, span: tuple[int, int] | None = None
) -> int:
    """How many passages match `expression` (within `span`, a rowid range, if given),
    counted up to `cap`."""
    words = _stem_words(session, expression)
    if words and span is None:
        params = {"words": " ".join(words), "cap": cap}
        return int(_driver(session).execute(_PG_LIBRARY_COUNT_SQL, params).fetchone()[0])
    if words:  # a few episodes' groups: their passages, counted here
        return min(cap, len(_stem_passages(session, words, cap=cap, span=span) or ()))
    sql, _, match, first, last = _matching(session, expression, span)
    return int(_driver(session).execute(sql, (match, first, last, cap)).fetchone()[0])


def matching_ids(
    session: Session, expression: str, *, cap: int, span: tuple[int, int] | None = None
) -> list[int] | None:
    """The rowids of every passage matching `expression` (within `span`, a rowid range, if
    given), ascending, or None when there are `cap` or more (a common word: fetching its
    matches would cost more than it tells)."""
    words = _stem_words(session, expression)
    if words:
        found = _stem_passages(session, words, cap=cap, span=span)
        return None if found is None or len(found) >= cap else found
    # Counting inside the database first: for a common word that is all there is to do,
    # and it costs a third of handing its rows to Python.
    if match_count(session, expression, cap=cap, span=span) >= cap:
        return None
    _, sql, match, first, last = _matching(session, expression, span)
    return [row[0] for row in _driver(session).execute(sql, (match, first, last)).fetchall()]


def turn_context_ids(
    session: Session, segment_ids: Iterable[int], *, reach: int = 6
) -> dict[int, list[int]]:
    """For each passage, the other passages of its turn and those of the turn before it
    (usually the question it answers), looked for within `reach` rowids either side."""
    wanted = sorted(set(segment_ids))
    if not wanted:
        return {}
    passages, near, params = passages_near(session, wanted, before=reach, after=reach)
    sql = f"SELECT s.id, s.episode_id, s.position FROM {passages} WHERE {near}"
    rows = _driver(session).execute(sql, params)
    where = {row[0]: (row[1], row[2]) for row in rows}
    context: dict[int, list[int]] = {}
    for segment in wanted:
        if segment not in where:
            continue
        episode, position = where[segment]
        context[segment] = [
            other
            for other in range(segment - reach, segment + reach + 1)
            if other != segment
            and other in where
            and where[other][0] == episode
            and where[other][1] in (position, position - 1)
        ]
    return context
