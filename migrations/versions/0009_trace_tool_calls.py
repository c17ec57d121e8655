"""Answer traces record the library tools Claude called and how many API requests an
answer took, so `replay` can show the searches and cost figures count every round.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answer_traces") as table:
        table.add_column(sa.Column("tool_calls", sa.Text(), server_default="[]", nullable=False))
        table.add_column(sa.Column("round_trips", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("answer_traces") as table:
        table.drop_column("round_trips")
        table.drop_column("tool_calls")
