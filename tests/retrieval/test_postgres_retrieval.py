"""Retrieval on PostgreSQL's full-text search, against the same questions on SQLite: the
seed stored the same way, the dev questions found as well (within 0.05 at every k), one
episode's search kept to that episode, and every question a person could type turned into
a query PostgreSQL accepts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.evaluation.recall import evaluate, read_questions
from bot.ingest.pipeline import ingest_file
from bot.retrieval import EmptyQuery, retrieve
from bot.retrieval.query import term_expression
from db import library_stats
from db.engine import open_database
from db.library_stats import episode_spans, match_count, matching_ids
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


def test_a_words_passages_are_the_same_from_its_stems_as_from_the_search_index(
    on_postgres: sessionmaker[Session],
) -> None:
    with on_postgres() as session:
        driver = session.connection().connection.driver_connection
        for word in ("merge", "queue", "Claude", "pricing", "the", "building", "2024"):
            expression = term_expression(word)
            from_stems = matching_ids(session, expression, cap=10**6)
            from_index = [
                row[0]
                for row in driver.execute(
                    library_stats._PG_IDS_SQL, (tsquery(expression), 0, 2**31 - 1)
                ).fetchall()
            ]
            assert from_stems == from_index, word
            assert match_count(session, expression, cap=10**6) == len(from_index)
