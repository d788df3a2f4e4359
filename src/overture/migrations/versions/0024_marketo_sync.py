"""The Marketo inbound sync (integrations/marketo/sync_models.py): which person or company each Marketo record
became (`integration_records`, unique per integration, kind and remote id), where each phase and window of the
sync stands (`marketo_sync_state`) and the records it skipped with their reason (`marketo_sync_skips`).

Revision ID: 0024
Revises: 0023 (re-chained after the migrations merged before it)
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integration_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("company_remote_id", sa.String(length=100), nullable=True),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_integration_records_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_integration_records_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_records")),
        sa.UniqueConstraint("integration", "kind", "remote_id", name="uq_integration_records_remote"),
    )
    op.create_index("ix_integration_records_person_id", "integration_records", ["person_id"])
    op.create_index("ix_integration_records_company_id", "integration_records", ["company_id"])
    op.create_index(
        "ix_integration_records_company_remote_id", "integration_records", ["integration", "company_remote_id"]
    )
    op.create_table(
        "marketo_sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("export_id", sa.String(length=100), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False),
        sa.Column("rows_applied", sa.Integer(), nullable=False),
        sa.Column("paging_token", sa.String(length=1000), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketo_sync_state")),
        sa.UniqueConstraint("phase", "window_start", name="uq_marketo_sync_state_phase_window"),
    )
    op.create_table(
        "marketo_sync_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketo_sync_skips")),
        sa.UniqueConstraint("kind", "remote_id", name="uq_marketo_sync_skips_record"),
    )


def downgrade() -> None:
    op.drop_table("marketo_sync_skips")
    op.drop_table("marketo_sync_state")
    op.drop_index("ix_integration_records_company_remote_id", table_name="integration_records")
    op.drop_index("ix_integration_records_company_id", table_name="integration_records")
    op.drop_index("ix_integration_records_person_id", table_name="integration_records")
    op.drop_table("integration_records")
