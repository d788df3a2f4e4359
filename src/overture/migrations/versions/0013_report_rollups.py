"""The reports' rollups (analytics/models.py): figures by dialogue, version and UTC hour, the dashboard's sums, the
people each dialogue acquired, and the checkpoints of the job that keeps them.

Nothing is counted here: with no checkpoint, the rollups job (every minute, and the first report read on a small
database) counts every existing activity and conversation from the first, in steps of one transaction each.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 500


def _counts() -> list[sa.Column[int]]:
    names = ("conversations", "triggered", "engaged", "completed", "dismissed", "people_acquired", "meetings_booked")
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _page_counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in ("triggered", "engaged", "people_acquired")]


def upgrade() -> None:
    op.create_table(
        "report_hours",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        *_counts(),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("dialogue_id", "hour", "version_id", name=op.f("pk_report_hours")),
    )
    op.create_index("ix_report_hours_hour", "report_hours", ["hour"])
    op.create_table(
        "report_total_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        *_counts(),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_report_total_hours")),
    )
    op.create_table(
        "report_days",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_counts(),
        sa.PrimaryKeyConstraint("dialogue_id", "day", name=op.f("pk_report_days")),
    )
    op.create_index("ix_report_days_day", "report_days", ["day"])
    op.create_table(
        "report_page_hours",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page", sa.String(length=PAGE), nullable=False),
        *_page_counts(),
        sa.PrimaryKeyConstraint("dialogue_id", "hour", "page", name=op.f("pk_report_page_hours")),
    )
    op.create_index("ix_report_page_hours_hour", "report_page_hours", ["hour"])
    op.create_table(
        "report_page_total_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page", sa.String(length=PAGE), nullable=False),
        *_page_counts(),
        sa.PrimaryKeyConstraint("hour", "page", name=op.f("pk_report_page_total_hours")),
    )
    op.create_table(
        "report_page_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("page", sa.String(length=PAGE), nullable=False),
        *_page_counts(),
        sa.PrimaryKeyConstraint("day", "page", name=op.f("pk_report_page_days")),
    )
    op.create_table(
        "report_people",
        sa.Column("dialogue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("page", sa.String(length=PAGE), nullable=False),
        sa.PrimaryKeyConstraint("dialogue_id", "key", name=op.f("pk_report_people")),
    )
    op.create_index("ix_report_people_activity_id", "report_people", ["activity_id"])
    op.create_index("ix_report_people_dialogue_hour", "report_people", ["dialogue_id", "hour"])
    op.create_table(
        "report_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_checkpoints")),
    )
    op.create_index("ix_report_checkpoints_at", "report_checkpoints", ["at"])


def downgrade() -> None:
    for table in ("report_checkpoints", "report_people", "report_page_days", "report_page_total_hours",
                  "report_page_hours", "report_days", "report_total_hours", "report_hours"):  # fmt: skip
        op.drop_table(table)
