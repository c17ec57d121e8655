"""The migrations on a real PostgreSQL server: a fresh database ends at the models' schema
(the full-text column and index aside, written by hand), its library generation moves with
every change to the episodes, a library stored before the stems' groups (0014) gets them
and gets 0013's rows back on a downgrade, and downgrading leaves nothing behind."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.orm import sessionmaker

from bot.ingest.pipeline import ingest_file
from db.engine import SCHEMA_HEAD, alembic_config, create_engine_for, include_object, migrate
from db.models import Base
from tests.conftest import FORMATS_DIR, SEED

# Every passage's stems as the search index has them, and as each revision's table has them.
PASSAGE_STEMS = "SELECT u.lexeme, s.id FROM segments AS s, unnest(s.search) AS u"
GROUPED_STEMS = "SELECT g.lexeme, p.id FROM episode_lexemes AS g, unnest(g.segment_ids) AS p (id)"
ROW_STEMS = "SELECT lexeme, segment_id FROM segment_lexemes"


def _rows(connection: Connection, sql: str) -> list[tuple[object, ...]]:
    return sorted(tuple(row) for row in connection.execute(text(sql)))


def test_a_fresh_database_ends_at_the_models_schema(postgres_url: str) -> None:
    engine = create_engine_for(postgres_url)
    assert migrate(engine) is True
    assert migrate(engine) is False  # at head: nothing more to run
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            SCHEMA_HEAD
        )
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": False}
        )
        assert compare_metadata(context, Base.metadata) == []
        columns = {c["name"] for c in inspect(connection).get_columns("segments")}
        assert "search" in columns  # the tsvector the full-text search reads
        zone = connection.execute(text("SHOW timezone")).scalar()
        assert zone == "UTC"  # stored times are naive UTC, as on SQLite
    engine.dispose()


def test_the_library_generation_moves_with_every_change_to_the_episodes(
    postgres_url: str,
) -> None:
    engine = create_engine_for(postgres_url)
    migrate(engine)
    generation = "SELECT generation FROM library_generation WHERE id = 1"
    with engine.begin() as connection:
        before = connection.execute(text(generation)).scalar()
        connection.execute(
            text(
                "INSERT INTO episodes (slug, title, source_format, content_hash, turn_count, "
                "title_key, conversation_hash) VALUES ('a', 'A', 'plain', 'h', 0, 'a', 'c')"
            )
        )
        connection.execute(text("UPDATE episodes SET title = 'B' WHERE slug = 'a'"))
        connection.execute(text("DELETE FROM episodes WHERE slug = 'a'"))
        assert connection.execute(text(generation)).scalar() == before + 3
    engine.dispose()


def test_a_library_stored_before_the_stems_groups_gets_them_and_gives_them_back(
    postgres_url: str,
) -> None:
    engine = create_engine_for(postgres_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
    sessions = sessionmaker(engine)
    for path in (SEED, FORMATS_DIR / "archive-episode.md"):
        assert ingest_file(sessions, path).status == "ingested"
    with engine.connect() as connection:
        assert _rows(connection, ROW_STEMS) == _rows(connection, PASSAGE_STEMS)

    assert migrate(engine) is True
    with engine.connect() as connection:
        assert not inspect(connection).has_table("segment_lexemes")
        assert _rows(connection, GROUPED_STEMS) == _rows(connection, PASSAGE_STEMS)

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    with engine.connect() as connection:
        assert not inspect(connection).has_table("episode_lexemes")
        assert _rows(connection, ROW_STEMS) == _rows(connection, PASSAGE_STEMS)
    with engine.begin() as connection:  # and 0013's triggers keep its rows again
        connection.execute(text("DELETE FROM episodes WHERE id = 1"))
        assert _rows(connection, ROW_STEMS) == _rows(connection, PASSAGE_STEMS)
    engine.dispose()
