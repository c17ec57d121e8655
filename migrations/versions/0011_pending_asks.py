"""Pending asks: every question acknowledged is stored before the acknowledgement and marked
done once answered, so a deploy or a crash loses none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NOW = sa.text("(CURRENT_TIMESTAMP)")


def upgrade() -> None:
    op.create_table(
        "pending_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'working', 'done', 'told')", name="ck_pending_asks_state"
        ),
        sa.CheckConstraint("kind IN ('command', 'event')", name="ck_pending_asks_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_pending_asks_open", "pending_asks", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_asks_open", table_name="pending_asks")
    op.drop_table("pending_asks")
