"""Many workspaces: every row that belongs to a workspace carries its team id, the
workspaces the bot is installed in are listed, and slack_sdk's installation and OAuth state
stores get their tables (the shapes of slack_sdk 3.x's SQLAlchemy stores, which read and
write them).

Rows from before this revision get the team id '' ("the workspace from before
installations"); a single-workspace `serve` adopts them into its token's workspace at start.
Pending asks kept the asker's team in `team_id`: it is `recipient_team_id` now (a streamed
answer names it), and `team_id` is the workspace, as everywhere else.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NOW = sa.text("(CURRENT_TIMESTAMP)")
# The tables whose rows belong to one workspace, each of which gains the column.
OWNED = (
    "conversations",
    "conversation_turns",
    "feedback",
    "answer_traces",
    "daily_posts",
    "processed_events",
    "pending_asks",
)


def _team_column() -> sa.Column[str]:
    return sa.Column("team_id", sa.String(length=32), server_default="", nullable=False)


def upgrade() -> None:
    _workspaces()
    _slack_stores()
    _channels_keyed_by_team()
    with op.batch_alter_table("pending_asks") as batch:
        batch.alter_column("team_id", new_column_name="recipient_team_id")
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(_team_column())
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_thread", type_="unique")
        batch.create_unique_constraint(
            "uq_conversations_thread", ["channel", "thread_ts", "team_id"]
        )
    with op.batch_alter_table("daily_posts") as batch:
        batch.drop_constraint("uq_daily_posts_channel_date", type_="unique")
        batch.create_unique_constraint(
            "uq_daily_posts_channel_date", ["channel", "local_date", "team_id"]
        )
    op.create_index(
        "ix_conversation_turns_team_created", "conversation_turns", ["team_id", "created_at"]
    )
    op.create_index("ix_answer_traces_team_created", "answer_traces", ["team_id", "created_at"])


def _workspaces() -> None:
    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("installed_at", sa.DateTime(), server_default=NOW, nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("team_id"),
    )


def _slack_stores() -> None:
    """slack_sdk's SQLAlchemyInstallationStore and SQLAlchemyOAuthStateStore tables."""

    def common() -> list[sa.Column[object]]:
        return [
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("client_id", sa.String(length=32), nullable=False),
            sa.Column("app_id", sa.String(length=32), nullable=False),
            sa.Column("enterprise_id", sa.String(length=32), nullable=True),
            sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        ]

    def bot() -> list[sa.Column[object]]:
        return [
            sa.Column("bot_token", sa.String(length=200), nullable=True),
            sa.Column("bot_id", sa.String(length=32), nullable=True),
            sa.Column("bot_user_id", sa.String(length=32), nullable=True),
            sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
            sa.Column("bot_refresh_token", sa.String(length=200), nullable=True),
            sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        ]

    def team() -> list[sa.Column[object]]:
        return [
            sa.Column("team_id", sa.String(length=32), nullable=True),
            sa.Column("team_name", sa.String(length=200), nullable=True),
        ]

    op.create_table(
        "slack_installations",
        *common(),
        sa.Column("enterprise_url", sa.String(length=200), nullable=True),
        *team(),
        *bot(),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_token", sa.String(length=200), nullable=True),
        sa.Column("user_scopes", sa.String(length=1000), nullable=True),
        sa.Column("user_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        *common(),
        *team(),
        *bot(),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


# The channel settings' columns besides the key's team_id.
CHANNEL_COLUMNS = (
    "id, focus_episode_id, digest_enabled, digest_time, digest_timezone, digest_days, digest_since"
)


def _channels_table(name: str, *, by_team: bool) -> None:
    """The channels table under `name`, keyed by (team_id, id) or, as before 0015, by id."""
    key = [sa.Column("team_id", sa.String(length=32), server_default="", nullable=False)]
    op.create_table(
        name,
        *(key if by_team else []),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("focus_episode_id", sa.Integer(), nullable=True),
        sa.Column("digest_enabled", sa.Boolean(), nullable=True),
        sa.Column("digest_time", sa.String(length=5), nullable=True),
        sa.Column("digest_timezone", sa.String(length=64), nullable=True),
        sa.Column("digest_days", sa.String(length=40), nullable=True),
        sa.Column("digest_since", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["focus_episode_id"], ["episodes.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint(*(["team_id", "id"] if by_team else ["id"])),
    )


def _channels_keyed_by_team() -> None:
    """A channel's settings are its workspace's: the key is (team_id, channel id). The table
    is built anew (a primary key cannot be altered in place on SQLite)."""
    _channels_table("channels_by_team", by_team=True)
    op.execute(
        f"INSERT INTO channels_by_team ({CHANNEL_COLUMNS}) SELECT {CHANNEL_COLUMNS} FROM channels"
    )
    op.drop_table("channels")
    op.rename_table("channels_by_team", "channels")


def downgrade() -> None:
    op.drop_index("ix_answer_traces_team_created", table_name="answer_traces")
    op.drop_index("ix_conversation_turns_team_created", table_name="conversation_turns")
    with op.batch_alter_table("daily_posts") as batch:
        batch.drop_constraint("uq_daily_posts_channel_date", type_="unique")
        batch.create_unique_constraint("uq_daily_posts_channel_date", ["channel", "local_date"])
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_thread", type_="unique")
        batch.create_unique_constraint("uq_conversations_thread", ["channel", "thread_ts"])
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("team_id")
    with op.batch_alter_table("pending_asks") as batch:
        batch.alter_column("recipient_team_id", new_column_name="team_id")
    # A channel id was one workspace's alone before: the first workspace's settings stay.
    _channels_table("channels_by_id", by_team=False)
    op.execute(
        f"INSERT INTO channels_by_id SELECT {CHANNEL_COLUMNS} FROM channels c WHERE team_id = "
        "(SELECT min(team_id) FROM channels d WHERE d.id = c.id)"
    )
    op.drop_table("channels")
    op.rename_table("channels_by_id", "channels")
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
    op.drop_table("workspaces")
