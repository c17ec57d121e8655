"""The migrations on a real PostgreSQL server: a fresh database ends at the models' schema
(the full-text column and index aside, written by hand), its library generation moves with
every change to the episodes, and downgrading leaves nothing behind."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from db.engine import SCHEMA_HEAD, create_engine_for, include_object, migrate
from db.models import Base


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
