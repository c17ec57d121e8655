"""Episode title keys: the same episode from two sources is recognised by its title.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# bot.ingest.identity.title_key (once db/titles.py) as it was when this revision was written,
# frozen here: a migration must give the same keys whatever the application code later
# becomes.
QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
GENERIC_TITLES = frozenset(
    {"transcript", "index", "readme", "episode", "captions", "subtitles", "untitled"}
)


def title_key(title: str | None) -> str | None:
    """A title reduced to what two sources of one episode have in common."""
    if not title:
        return None
    text = unicodedata.normalize("NFKC", title).translate(QUOTES).casefold()
    key = NOT_ALPHANUMERIC.sub(" ", text).strip()
    return None if not key or key in GENERIC_TITLES else key


# Caption files never carry a title: theirs was made from the file name.
UNTITLED_FORMATS = ("vtt", "srt")
NUMBERED_SLUG = re.compile(r"^(?P<base>.+)-\d+$")


def _backfilled_key(slug: str, title: str, source_format: str) -> str | None:
    """The key of a stored title, or None when the title was probably made from the file
    name (the store did not record which): a made-up title must never make two episodes
    "the same". Such a title reads as the slug does, perhaps without a `-2` numbering."""
    if source_format in UNTITLED_FORMATS:
        return None
    key = title_key(title)
    if key is None:
        return None
    numbered = NUMBERED_SLUG.match(slug)
    from_file_name = {title_key(slug), title_key(numbered.group("base")) if numbered else None}
    return None if key in from_file_name else key


# Plain ALTER TABLE, not a batch table copy: copying `episodes` would drop the old table,
# which SQLite refuses while its segments refer to it (SQLite has had DROP COLUMN since 3.35).


def upgrade() -> None:
    op.add_column("episodes", sa.Column("title_key", sa.Text(), nullable=True))
    op.create_index("ix_episodes_title_key", "episodes", ["title_key"])
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, slug, title, source_format FROM episodes"))
    keys = [
        {"id": row.id, "key": _backfilled_key(row.slug, row.title, row.source_format)}
        for row in rows
    ]
    if keys:
        connection.execute(sa.text("UPDATE episodes SET title_key = :key WHERE id = :id"), keys)


def downgrade() -> None:
    op.drop_index("ix_episodes_title_key", table_name="episodes")
    op.drop_column("episodes", "title_key")
