"""PostgreSQL: each passage's words (their stems) as rows, so the counts and ids of a word's
passages come from an index alone instead of a scan of the GIN index's matches (retrieval
asks for them about twenty times a question). Kept by statement triggers on `segments`;
nothing on SQLite, whose FTS5 answers these from its own index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STATEMENTS = (
    "CREATE TABLE segment_lexemes ("
    "lexeme TEXT NOT NULL, "
    "segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE, "
    "PRIMARY KEY (lexeme, segment_id))",
    "CREATE INDEX ix_segment_lexemes_segment_id ON segment_lexemes (segment_id)",
    "CREATE FUNCTION add_segment_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO segment_lexemes (lexeme, segment_id) "
    "SELECT DISTINCT u.lexeme, n.id FROM new_rows AS n, unnest(n.search) AS u; "
    "RETURN NULL; END $$",
    "CREATE FUNCTION replace_segment_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM segment_lexemes WHERE segment_id IN (SELECT id FROM new_rows); "
    "INSERT INTO segment_lexemes (lexeme, segment_id) "
    "SELECT DISTINCT u.lexeme, n.id FROM new_rows AS n, unnest(n.search) AS u; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER segments_lexemes_insert AFTER INSERT ON segments "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION add_segment_lexemes()",
    "CREATE TRIGGER segments_lexemes_update AFTER UPDATE ON segments "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION replace_segment_lexemes()",
    # Passages stored before this revision.
    "INSERT INTO segment_lexemes (lexeme, segment_id) "
    "SELECT DISTINCT u.lexeme, s.id FROM segments AS s, unnest(s.search) AS u",
)
DROPS = (
    "DROP TRIGGER IF EXISTS segments_lexemes_update ON segments",
    "DROP TRIGGER IF EXISTS segments_lexemes_insert ON segments",
    "DROP FUNCTION IF EXISTS replace_segment_lexemes()",
    "DROP FUNCTION IF EXISTS add_segment_lexemes()",
    "DROP TABLE IF EXISTS segment_lexemes",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DROPS:
        op.execute(statement)
