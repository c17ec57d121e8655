"""Takeaway of the day: located takeaways, per-channel digest settings, daily posts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("takeaways") as batch:
        batch.add_column(sa.Column("segment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quote", sa.Text(), nullable=True))
        batch.add_column(sa.Column("question", sa.Text(), nullable=True))
        batch.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key(
            "fk_takeaways_segment_id", "segments", ["segment_id"], ["id"], ondelete="SET NULL"
        )
    # Summary bullets stored before this revision all have rank 0: number them in order.
    op.execute(
        "UPDATE takeaways SET rank = (SELECT COUNT(*) FROM takeaways AS earlier "
        "WHERE earlier.episode_id = takeaways.episode_id AND earlier.id < takeaways.id)"
    )
    with op.batch_alter_table("takeaways") as batch:
        batch.create_unique_constraint("uq_takeaways_episode_rank", ["episode_id", "rank"])
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("digest_enabled", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch.add_column(sa.Column("digest_timezone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("digest_days", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("digest_since", sa.DateTime(), nullable=True))
    op.create_table(
        "daily_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("takeaway_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'posted', 'failed', 'skipped')", name="ck_daily_posts_status"
        ),
        sa.ForeignKeyConstraint(["takeaway_id"], ["takeaways.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "local_date", name="uq_daily_posts_channel_date"),
    )
    op.create_index("ix_daily_posts_takeaway_id", "daily_posts", ["takeaway_id"])


def downgrade() -> None:
    op.drop_index("ix_daily_posts_takeaway_id", table_name="daily_posts")
    op.drop_table("daily_posts")
    with op.batch_alter_table("channels") as batch:
        for column in (
            "digest_since",
            "digest_days",
            "digest_timezone",
            "digest_time",
            "digest_enabled",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("takeaways") as batch:
        batch.drop_constraint("uq_takeaways_episode_rank", type_="unique")
        batch.drop_constraint("fk_takeaways_segment_id", type_="foreignkey")
        for column in ("rank", "question", "quote", "segment_id"):
            batch.drop_column(column)
