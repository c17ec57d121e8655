"""Conversation hashes: the same transcript filed under another title is recognised.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# bot.ingest.identity.conversation_hash (once db/titles.py) as it was when this revision was
# written, frozen here: a migration must give the same fingerprints whatever the application
# code later becomes.
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def conversation_hash(passages: Iterable[tuple[str, str]]) -> str:
    """A fingerprint of who said what, in order."""
    digest = hashlib.sha256()
    for speaker, text in passages:
        for part in (speaker, text):
            digest.update(" ".join(WORD.findall(part.casefold())).encode())
            digest.update(b"\n")
    return digest.hexdigest()


# Plain ALTER TABLE, not a batch table copy: copying `episodes` would drop the old table,
# which SQLite refuses while its segments refer to it (SQLite has had DROP COLUMN since 3.35).


def upgrade() -> None:
    op.add_column("episodes", sa.Column("conversation_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_episodes_conversation_hash", "episodes", ["conversation_hash"])
    connection = op.get_bind()
    episode_ids = connection.execute(sa.text("SELECT id FROM episodes")).scalars().all()
    hashes = [
        {
            "id": episode_id,
            "hash": conversation_hash(
                (row.speaker, row.text)
                for row in connection.execute(
                    sa.text(
                        "SELECT speaker, text FROM segments WHERE episode_id = :id ORDER BY id"
                    ),
                    {"id": episode_id},
                )
            ),
        }
        for episode_id in episode_ids
    ]
    if hashes:
        connection.execute(
            sa.text("UPDATE episodes SET conversation_hash = :hash WHERE id = :id"), hashes
        )


def downgrade() -> None:
    op.drop_index("ix_episodes_conversation_hash", table_name="episodes")
    op.drop_column("episodes", "conversation_hash")
