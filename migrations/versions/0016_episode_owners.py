"""Episode owners: which workspaces an episode was ingested for. With
LIBRARY_PER_WORKSPACE=true a workspace sees only the episodes it owns; one transcript
ingested for two workspaces is stored once and owned by both.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "episode_owners",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "episode_id"),
    )
    op.create_index("ix_episode_owners_episode_id", "episode_owners", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_episode_owners_episode_id", table_name="episode_owners")
    op.drop_table("episode_owners")
