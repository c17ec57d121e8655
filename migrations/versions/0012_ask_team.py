"""The workspace an ask came from (a streamed answer in a channel names its recipient's
team, as Slack requires), and the message showing its answer being written (a process
that takes the ask over finishes that message rather than posting a second).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_asks") as batch:
        batch.add_column(sa.Column("team_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("answer_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_asks") as batch:
        batch.drop_column("answer_ts")
        batch.drop_column("team_id")
