"""Episode aliases: the slugs of other sources of an episode that ingest recognised and did
not store, so they still find it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "episode_aliases",
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_index("ix_episode_aliases_episode_id", "episode_aliases", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_episode_aliases_episode_id", table_name="episode_aliases")
    op.drop_table("episode_aliases")
