"""Episode library: episodes, segments with an FTS5 index kept in sync by triggers,
speaker-name tokens, takeaways.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# External-content FTS5 table: the text lives once, in `segments`; the triggers keep the
# index in step with every insert, update and delete, including cascaded deletes.
# One indexed column: a column filter would make FTS5 read every position list of a
# term, and scoping to an episode is a rowid range instead (db/search.py).
FTS_STATEMENTS = (
    """
    CREATE VIRTUAL TABLE segments_fts USING fts5(
        text,
        content='segments',
        content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER segments_fts_ai AFTER INSERT ON segments BEGIN
        INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER segments_fts_ad AFTER DELETE ON segments BEGIN
        INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END
    """,
    """
    CREATE TRIGGER segments_fts_au AFTER UPDATE OF text ON segments BEGIN
        INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
)


# PostgreSQL's own full-text search in FTS5's place: a stored tsvector of each passage with
# a GIN index, under a configuration of the English (Porter 2) stemmer that keeps every word:
# the bot's queries are built of words a question holds, stop words included (a question of
# only those is searched by them).
PG_FTS_STATEMENTS = (
    "CREATE TEXT SEARCH DICTIONARY episode_bot_stem (TEMPLATE = snowball, LANGUAGE = english)",
    "CREATE TEXT SEARCH CONFIGURATION episode_bot (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION episode_bot ALTER MAPPING FOR asciiword, asciihword, "
    "hword_asciipart, word, hword, hword_part WITH episode_bot_stem",
    "ALTER TABLE segments ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (to_tsvector('episode_bot'::regconfig, text)) STORED",
    "CREATE INDEX ix_segments_search ON segments USING gin (search)",
)
PG_FTS_DROPS = (
    "DROP INDEX IF EXISTS ix_segments_search",
    "ALTER TABLE segments DROP COLUMN IF EXISTS search",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS episode_bot",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS episode_bot_stem",
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("audience", sa.Text(), nullable=True),
        sa.Column("guest", sa.String(length=200), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_format", sa.String(length=20), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("turn_count", sa.Integer(), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=200), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "kind IN ('content', 'teaser', 'sponsor', 'intro', 'outro')", name="ck_segments_kind"
        ),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("episode_id", "position", "part", name="uq_segments_episode_position"),
    )
    op.create_index("ix_segments_episode_id", "segments", ["episode_id"])
    op.create_table(
        "speaker_tokens",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", "episode_id"),
    )
    op.create_index("ix_speaker_tokens_episode_id", "speaker_tokens", ["episode_id"])
    op.create_table(
        "takeaways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "origin IN ('summary', 'generated', 'extracted')", name="ck_takeaways_origin"
        ),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_takeaways_episode_id", "takeaways", ["episode_id"])
    for statement in PG_FTS_STATEMENTS if _postgres() else FTS_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if _postgres():
        for statement in PG_FTS_DROPS:
            op.execute(statement)
    else:
        for trigger in ("segments_fts_au", "segments_fts_ad", "segments_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS segments_fts")
    op.drop_index("ix_takeaways_episode_id", table_name="takeaways")
    op.drop_table("takeaways")
    op.drop_index("ix_speaker_tokens_episode_id", table_name="speaker_tokens")
    op.drop_table("speaker_tokens")
    op.drop_index("ix_segments_episode_id", table_name="segments")
    op.drop_table("segments")
    op.drop_table("episodes")
