"""Library-wide statistics for ranking: which episodes hold which passages, what each
episode is about, and which passages match a term. Like `db.search`, these take already-safe
search expressions (FTS5's grammar; a tsquery on PostgreSQL) and never see raw user text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db.dialect import is_postgres
from db.search import LAST_ROWID, PG_LAST_ID, marks
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
# Any of some words: their stems' rows of segment_lexemes (migration 0013), read from its
# primary key alone, in place of a scan of the GIN index's matches.
_PG_STEMS = "lexeme = ANY(tsvector_to_array(to_tsvector('episode_bot', %s)))"
_PG_STEM_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT DISTINCT segment_id FROM segment_lexemes "
    f"WHERE {_PG_STEMS} AND segment_id BETWEEN %s AND %s LIMIT %s) AS matched"
)
_PG_STEM_IDS_SQL = (
    "SELECT DISTINCT segment_id FROM segment_lexemes "
    f"WHERE {_PG_STEMS} AND segment_id BETWEEN %s AND %s ORDER BY segment_id"
)
_PG_IDS_SQL = (
    "SELECT id FROM segments WHERE search @@ to_tsquery('episode_bot', %s) "
    "AND id BETWEEN %s AND %s ORDER BY id"
)


def _driver(session: Session) -> Any:
    """The session's own DB-API connection. These queries run several times per question
    and return thousands of plain integers; SQLAlchemy's result handling would cost a
    microsecond or two a row on top, more than the query."""
    return session.connection().connection.driver_connection


def _matching(
    session: Session, expression: str, span: tuple[int, int] | None
) -> tuple[str, str, str, int, int]:
    """The count and ids queries for `expression` on this backend, what they match, and
    the id range to look in."""
    first, last = span or (0, LAST_ROWID)
    if not is_postgres(session):
        return _COUNT_SQL, _IDS_SQL, expression, first, last
    last = min(last, PG_LAST_ID)
    words = any_of_words(expression)
    if words:
        return _PG_STEM_COUNT_SQL, _PG_STEM_IDS_SQL, " ".join(words), first, last
    return _PG_COUNT_SQL, _PG_IDS_SQL, tsquery(expression), first, last


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
    sql, _, match, first, last = _matching(session, expression, span)
    return int(_driver(session).execute(sql, (match, first, last, cap)).fetchone()[0])


def matching_ids(
    session: Session, expression: str, *, cap: int, span: tuple[int, int] | None = None
) -> list[int] | None:
    """The rowids of every passage matching `expression` (within `span`, a rowid range, if
    given), or None when there are `cap` or more (a common word: fetching its matches would
    cost more than it tells)."""
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
    window = sorted({i for s in wanted for i in range(s - reach, s + reach + 1)})
    sql = "SELECT id, episode_id, position FROM segments WHERE id IN ({})"
    rows = _driver(session).execute(sql.format(marks(session, len(window))), window)
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
