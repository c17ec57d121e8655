"""PostgreSQL: each stem's passages as one row per episode (`episode_lexemes`), in place of
one row per passage (`segment_lexemes`, migration 0013), with how often each passage says it.

Keeping 0013's rows cost twice what the rest of an ingest does: a row and two index entries
per stem of each passage (2.8 million for 300 episodes), each row checked against its
foreign key one at a time. Grouped by episode there are six times fewer rows, one index, and
deletes are followed by a statement trigger instead of a foreign key. The occurrences are
what ts_rank counts, so a search can pick its few possible winners from this table before
ts_rank reads them (db/search.py). Nothing on SQLite, whose FTS5 answers these itself.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib
from types import ModuleType

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Groups made from passages `p` and their stems `u` (unnest(p.search)): one per stem and
# episode, its passages' ids in no particular order (ordering each group would cost a good
# part of the grouping again; a query orders what it reads) and the times each says the
# stem, in the same order. A stem without positions (a stripped tsvector) counts once, as
# ts_rank counts it.
GROUPED = (
    "INSERT INTO episode_lexemes (lexeme, episode_id, segment_ids, occurrences) "
    "SELECT u.lexeme, p.episode_id, array_agg(p.id), "
    "array_agg(coalesce(cardinality(u.positions), 1)::smallint) "
    "FROM {passages} AS p, unnest(p.search) AS u {where} GROUP BY p.episode_id, u.lexeme"
)

STATEMENTS = (
    # The stem in the "C" collation: it is only ever compared for equality, and byte order
    # is cheaper to keep an index in than a language's.
    'CREATE TABLE episode_lexemes (lexeme TEXT COLLATE "C" NOT NULL, '
    "episode_id INTEGER NOT NULL, segment_ids INTEGER[] NOT NULL, "
    "occurrences SMALLINT[] NOT NULL, PRIMARY KEY (lexeme, episode_id))",
    # The groups of `lexemes` in `episodes` made again from the passages stored now (none,
    # once they are gone).
    "CREATE FUNCTION regroup_episode_lexemes(episodes INTEGER[], lexemes TEXT[]) "
    "RETURNS void LANGUAGE sql AS $$ "
    "DELETE FROM episode_lexemes WHERE lexeme = ANY (lexemes) AND episode_id = ANY (episodes); "
    + GROUPED.format(
        passages="segments",
        where="WHERE p.episode_id = ANY (episodes) AND u.lexeme IN (SELECT unnest(lexemes))",
    )
    + " $$",
    # New passages are grouped from the new rows alone: an episode's passages are stored in
    # one statement (db/episodes.py). An episode that had passages before is regrouped.
    "CREATE FUNCTION add_episode_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE grown INTEGER[]; BEGIN "
    "SELECT array_agg(n.episode_id) INTO grown FROM (SELECT episode_id, count(*) AS added "
    "FROM new_rows GROUP BY episode_id) AS n WHERE n.added < "
    "(SELECT count(*) FROM segments AS s WHERE s.episode_id = n.episode_id); "
    + GROUPED.format(
        passages="new_rows", where="WHERE grown IS NULL OR p.episode_id <> ALL (grown)"
    )
    + "; IF grown IS NOT NULL THEN PERFORM regroup_episode_lexemes(grown, "
    "(SELECT array_agg(DISTINCT u) FROM segments AS p, unnest(tsvector_to_array(p.search)) "
    "AS u WHERE p.episode_id = ANY (grown))); END IF; RETURN NULL; END $$",
    # Also for the deletes cascaded from `episodes`: they fire statement triggers too.
    "CREATE FUNCTION drop_episode_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM regroup_episode_lexemes((SELECT array_agg(DISTINCT episode_id) FROM old_rows), "
    "(SELECT array_agg(DISTINCT u) FROM old_rows AS o, "
    "unnest(tsvector_to_array(o.search)) AS u)); RETURN NULL; END $$",
    # Changed passages (the app never changes one): regrouped, as they were and as they are.
    "CREATE FUNCTION replace_episode_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM regroup_episode_lexemes((SELECT array_agg(DISTINCT episode_id) FROM "
    "(SELECT episode_id FROM old_rows UNION ALL SELECT episode_id FROM new_rows) AS e), "
    "(SELECT array_agg(DISTINCT u) FROM (SELECT search FROM old_rows UNION ALL "
    "SELECT search FROM new_rows) AS r, unnest(tsvector_to_array(r.search)) AS u)); "
    "RETURN NULL; END $$",
    "CREATE FUNCTION clear_episode_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "TRUNCATE episode_lexemes; RETURN NULL; END $$",
    "CREATE TRIGGER segments_episode_lexemes_insert AFTER INSERT ON segments "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION add_episode_lexemes()",
    "CREATE TRIGGER segments_episode_lexemes_delete AFTER DELETE ON segments "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION drop_episode_lexemes()",
    "CREATE TRIGGER segments_episode_lexemes_update AFTER UPDATE ON segments "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION replace_episode_lexemes()",
    "CREATE TRIGGER segments_episode_lexemes_truncate AFTER TRUNCATE ON segments "
    "FOR EACH STATEMENT EXECUTE FUNCTION clear_episode_lexemes()",
    # Passages stored before this revision.
    GROUPED.format(passages="segments", where=""),
)
DROPS = (
    "DROP TRIGGER IF EXISTS segments_episode_lexemes_truncate ON segments",
    "DROP TRIGGER IF EXISTS segments_episode_lexemes_update ON segments",
    "DROP TRIGGER IF EXISTS segments_episode_lexemes_delete ON segments",
    "DROP TRIGGER IF EXISTS segments_episode_lexemes_insert ON segments",
    "DROP FUNCTION IF EXISTS clear_episode_lexemes()",
    "DROP FUNCTION IF EXISTS replace_episode_lexemes()",
    "DROP FUNCTION IF EXISTS drop_episode_lexemes()",
    "DROP FUNCTION IF EXISTS add_episode_lexemes()",
    "DROP FUNCTION IF EXISTS regroup_episode_lexemes(INTEGER[], TEXT[])",
    "DROP TABLE IF EXISTS episode_lexemes",
)


def _revision_0013() -> ModuleType:
    """Migration 0013, whose statements this one undoes and its downgrade redoes (its file
    name is no Python identifier, so it is imported by name)."""
    return importlib.import_module("migrations.versions.0013_segment_lexemes")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (*_revision_0013().DROPS, *STATEMENTS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Back to 0013's rows, rebuilt from the passages.
    for statement in (*DROPS, *_revision_0013().STATEMENTS):
        op.execute(statement)
