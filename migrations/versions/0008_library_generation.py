"""Library generation: a counter every change to `episodes` moves, from any process, so a
process's cached view of the library (bot/retrieval/evidence.py) knows when to rebuild.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE library_generation SET generation = generation + 1 WHERE id = 1"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.execute(
        "CREATE TABLE library_generation ("
        "id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)"
    )
    op.execute("INSERT INTO library_generation (id, generation) VALUES (1, 0)")
    if _postgres():  # one statement-level trigger, through a function, as PostgreSQL has them
        op.execute(
            "CREATE FUNCTION bump_library_generation() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER episodes_generation AFTER INSERT OR UPDATE OR DELETE ON episodes "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_library_generation()"
        )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER episodes_generation_{event.lower()} AFTER {event} ON episodes "
            f"BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER episodes_generation ON episodes")
        op.execute("DROP FUNCTION bump_library_generation()")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER episodes_generation_{event.lower()}")
    op.execute("DROP TABLE library_generation")
