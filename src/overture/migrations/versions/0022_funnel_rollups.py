"""The funnel's rollups (docs/reports.md "How reports stay fast"): a dialogue's cards reached, dropped and answers
chosen, and its meetings booked, held and no-show, by the UTC hour its conversations started and their version;
the checkpoint's newest conversation and meeting change read; an index of the changes of each.

The rollups start empty: the reports' job counts every conversation kept into them on its next runs.
Indexes only on `meetings` (no table copy), so SQLite keeps the trigger that refuses overlapping meetings (0009).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_funnel_cards",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("card", sa.String(length=200), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("dialogue_id", "hour", "version_id", "card", name=op.f("pk_report_funnel_cards")),
    )
    op.create_index("ix_report_funnel_cards_hour", "report_funnel_cards", ["hour"])
    op.create_table(
        "report_funnel_meetings",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dialogue_id", "hour", "version_id", name=op.f("pk_report_funnel_meetings")),
    )
    op.create_index("ix_report_funnel_meetings_hour", "report_funnel_meetings", ["hour"])
    op.add_column("report_checkpoints", sa.Column("conversation_changed_at", sa.DateTime(timezone=True)))
    op.add_column(
        "report_checkpoints", sa.Column("conversation_changed_id", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("report_checkpoints", sa.Column("meeting_changed_at", sa.DateTime(timezone=True)))
    op.add_column(
        "report_checkpoints", sa.Column("meeting_changed_id", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_index("ix_conversations_updated_at_id", "conversations", ["updated_at", "id"])
    op.create_index("ix_meetings_updated_at_id", "meetings", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_meetings_updated_at_id", table_name="meetings")
    op.drop_index("ix_conversations_updated_at_id", table_name="conversations")
    with op.batch_alter_table("report_checkpoints") as batch:
        for column in ("meeting_changed_id", "meeting_changed_at", "conversation_changed_id"):
            batch.drop_column(column)
        batch.drop_column("conversation_changed_at")
    op.drop_table("report_funnel_meetings")
    op.drop_table("report_funnel_cards")
