"""Retrieval on PostgreSQL's full-text search, against the same questions on SQLite: the
seed stored the same way, the dev questions found as well (within 0.05 at every k), one
episode's search kept to that episode, and every question a person could type turned into
a query PostgreSQL accepts. The stems' groups (episode_lexemes) hold exactly what the
search index says of every passage through ingest, replace, delete, update and truncate,
and what is read from them (matches, counts, the ranked searches' shortlists) is what the
search index itself answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.evaluation.recall import evaluate, read_questions
from bot.ingest.pipeline import ingest_file, ingest_paths
from bot.retrieval import EmptyQuery, retrieve
from bot.retrieval.query import build_expression, term_expression
from db import library_stats, search
from db.engine import open_database
from db.episodes import refresh_statistics
from db.library_stats import episode_spans, match_count, matching_ids
from db.search import Scope, episode_scope, search_segments
from db.tsquery import tsquery
from tests.conftest import FORMATS_DIR, SEED, SEED_SLUG
from tests.data.hostile_inputs import TYPED
from tests.retrieval.test_retrieval import DEV_QUESTIONS


@pytest.fixture
def on_postgres(postgres_url: str) -> sessionmaker[Session]:
    sessions = open_database(postgres_url)
    assert ingest_file(sessions, SEED).status == "ingested"
    return sessions


@pytest.mark.sqlite_only  # `seeded` is the SQLite side of the comparison
@pytest.mark.parametrize("scope", [SEED_SLUG, None], ids=["one episode", "library-wide"])
def test_the_dev_questions_are_found_as_well_as_on_sqlite(
    on_postgres: sessionmaker[Session], seeded: sessionmaker[Session], scope: str | None
) -> None:
    questions = read_questions(DEV_QUESTIONS)
    with on_postgres() as session:
        postgres = evaluate(session, questions, episode=scope, gold_episode=SEED_SLUG)
    with seeded() as session:
        sqlite = evaluate(session, questions, episode=scope, gold_episode=SEED_SLUG)
    for k, found in sqlite.recall.items():
        assert postgres.recall[k] >= found - 0.05, (k, postgres.recall, sqlite.recall)


def test_any_question_becomes_a_query_postgres_accepts(
    on_postgres: sessionmaker[Session],
) -> None:
    with on_postgres() as session:
        for typed in TYPED:
            question = typed.text.removeprefix("ask ")
            try:
                hits = retrieve(session, question, episode=SEED_SLUG, limit=5)
            except EmptyQuery:
                continue
            assert all(ranked.hit.episode_slug == SEED_SLUG for ranked in hits)


def test_episodes_stored_at_once_each_keep_one_unbroken_id_range(postgres_url: str) -> None:
    sessions = open_database(postgres_url)
    files = [SEED, FORMATS_DIR / "archive-episode.md", FORMATS_DIR / "talk.srt"]
    with ThreadPoolExecutor(len(files)) as pool:
        results = list(pool.map(lambda path: ingest_file(sessions, path), files))
    assert [r.status for r in results] == ["ingested"] * len(files)
    with sessions() as session:
        spans = episode_spans(session)
    assert len(spans) == len(files)
    for span in spans:  # retrieval scopes an episode's searches by this range
        assert span.last_id - span.first_id + 1 == span.passages


def _from_index(session: Session, expression: str, span: tuple[int, int]) -> list[int]:
    """The passages matching `expression` within `span`, as the GIN index finds them."""
    driver = session.connection().connection.driver_connection
    rows = driver.execute(library_stats._PG_IDS_SQL, (tsquery(expression), *span)).fetchall()
    return [row[0] for row in rows]


# Rare and common words, a number, a name, and terms with other spellings (several stems).
WORDS = ("merge", "queue", "Claude", "pricing", "the", "building", "2024", "pronoun", "mcp")


def test_a_words_passages_are_the_same_from_its_stems_as_from_the_search_index(
    on_postgres: sessionmaker[Session],
) -> None:
    with on_postgres() as session:
        scope = episode_scope(session, 1)
        middle = (scope.first_id + 40, scope.last_id - 40)  # not an episode's own range
        for word in WORDS:
            expression = term_expression(word)
            for span in (None, (scope.first_id, scope.last_id), middle):
                from_index = _from_index(session, expression, span or (0, 2**31 - 1))
                found = matching_ids(session, expression, cap=10**6, span=span)
                assert found == from_index, (word, span)
                assert match_count(session, expression, cap=10**6, span=span) == len(found)
                if from_index:  # at the cap: no ids, and the count stopped there
                    cap = len(from_index)
                    assert matching_ids(session, expression, cap=cap, span=span) is None
                    assert match_count(session, expression, cap=cap, span=span) == cap


def _groups_and_passages(session: Session) -> tuple[list[tuple[object, ...]], set[object]]:
    """Every (stem, episode, passage, times said) of the stems' groups, and of the search
    index's own tsvectors."""
    groups = session.execute(
        text(
            "SELECT g.lexeme, g.episode_id, p.id, p.times FROM episode_lexemes AS g, "
            "unnest(g.segment_ids, g.occurrences) AS p (id, times)"
        )
    ).all()
    passages = session.execute(
        text(
            "SELECT u.lexeme, s.episode_id, s.id, coalesce(cardinality(u.positions), 1) "
            "FROM segments AS s, unnest(s.search) AS u"
        )
    ).all()
    return [tuple(row) for row in groups], {tuple(row) for row in passages}


def _assert_groups_hold_the_index(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        groups, passages = _groups_and_passages(session)
        pairs = session.execute(text("SELECT lexeme, episode_id FROM episode_lexemes")).all()
    assert len(groups) == len(set(groups))  # no passage twice in a group
    assert set(groups) == passages
    assert len(pairs) == len(set(pairs))  # one group per stem and episode


def test_the_stems_groups_follow_every_change_to_the_passages(
    postgres_url: str, tmp_path: Path
) -> None:
    sessions = open_database(postgres_url)
    files = [SEED, FORMATS_DIR / "archive-episode.md", FORMATS_DIR / "talk.srt"]
    assert [r.status for r in ingest_paths(sessions, files)] == ["ingested"] * 3
    _assert_groups_hold_the_index(sessions)

    # Replaced: the old episode's passages deleted (cascaded from `episodes`), new ones in.
    changed = tmp_path / f"{SEED_SLUG}.txt"
    changed.write_text(SEED.read_text().replace("merge queue", "zebrafish queue"))
    assert ingest_file(sessions, changed, replace=True).status == "replaced"
    _assert_groups_hold_the_index(sessions)
    with sessions() as session:
        assert matching_ids(session, term_expression("zebrafish"), cap=100)

    with sessions.begin() as session:
        session.execute(text("DELETE FROM episodes WHERE slug = 'talk'"))
    _assert_groups_hold_the_index(sessions)

    with sessions.begin() as session:  # passages changed, one moved to another episode
        session.execute(
            text(
                "UPDATE segments SET text = 'okapi and zebrafish' "
                "WHERE id IN (SELECT id FROM segments ORDER BY id LIMIT 3)"
            )
        )
        session.execute(
            text(
                "UPDATE segments SET episode_id = (SELECT max(id) FROM episodes), "
                "position = -1 WHERE id = (SELECT min(id) FROM segments)"
            )
        )
    _assert_groups_hold_the_index(sessions)

    with sessions.begin() as session:  # passages added to an episode that has some
        session.execute(
            text(
                "INSERT INTO segments (episode_id, position, part, speaker, text, kind) "
                "SELECT episode_id, max(position) + 1, 0, 'Ann', 'okapi merge queue again', "
                "'content' FROM segments GROUP BY episode_id"
            )
        )
        session.execute(text("DELETE FROM segments WHERE text LIKE 'okapi and%'"))
    _assert_groups_hold_the_index(sessions)

    with sessions.begin() as session:
        session.execute(text("TRUNCATE segments CASCADE"))
    with sessions() as session:
        assert session.execute(text("SELECT count(*) FROM episode_lexemes")).scalar() == 0


def test_an_episode_s_passages_stored_at_once_get_ids_in_their_order(
    postgres_url: str,
) -> None:
    sessions = open_database(postgres_url)
    assert ingest_file(sessions, SEED).status == "ingested"
    with sessions() as session:
        rows = session.execute(text("SELECT position, part FROM segments ORDER BY id")).all()
    assert rows == sorted(rows)  # ids follow the transcript, as retrieval's windows expect
    assert len(rows) > 100


def _ranked_by_index(
    session: Session, expression: str, scope: Scope | None, limit: int
) -> list[tuple[int, float]]:
    """(id, rank) of the best passages as ts_rank ranks every match of the GIN index."""
    sql = search._PG_SCOPED_SQL if scope else search._PG_SEARCH_SQL
    first, last = (scope.first_id, scope.last_id) if scope else (0, search.PG_LAST_ID)
    rows = session.execute(
        text(sql),
        {
            "match": tsquery(expression),
            "first_id": first,
            "last_id": last,
            "limit": limit,
            "episode_id": scope.episode_id if scope else None,
        },
    )
    return [(row.segment_id, row.relevance) for row in rows]


@pytest.mark.parametrize("limit", [5, 40])
def test_a_search_s_shortlist_holds_what_ts_rank_ranks_first(
    on_postgres: sessionmaker[Session], limit: int
) -> None:
    questions = [
        ["merge", "queue"],
        ["pricing", "claude", "code"],
        ["the", "and", "building"],  # common words: ties at every rank
        ["pronoun", "mcp", "2024", "teams"],
    ]
    with on_postgres() as session:
        for scope in (None, episode_scope(session, 1)):
            for terms in questions:
                expression = build_expression(terms)
                hits = search_segments(session, expression, scope=scope, limit=limit)
                shortlisted = [(hit.segment_id, hit.relevance) for hit in hits]
                expected = _ranked_by_index(session, expression, scope, limit)
                ranks = [round(rank, 6) for _, rank in shortlisted]
                assert ranks == [round(rank, 6) for _, rank in expected], terms
                # Ties at the last rank may be broken either way; above it, the same passages.
                above = {i for i, rank in expected if round(rank, 6) > ranks[-1]}
                assert above <= {i for i, _ in shortlisted}, terms
                assert len(shortlisted) == len({i for i, _ in shortlisted})


def test_after_an_ingest_the_planner_knows_the_groups_and_the_index_has_no_backlog(
    postgres_url: str,
) -> None:
    sessions = open_database(postgres_url)
    # Storing leaves the GIN index a backlog of new entries; the ingest's end merges it.
    assert ingest_file(sessions, SEED).status == "ingested"
    with sessions.begin() as session:
        refresh_statistics(session)  # and again: nothing to merge, nothing fails
        analysed = "SELECT reltuples FROM pg_class WHERE relname = 'episode_lexemes'"
        assert session.execute(text(analysed)).scalar() > 0
        backlog = "SELECT gin_clean_pending_list('ix_segments_search'::regclass)"
        assert session.execute(text(backlog)).scalar() == 0
