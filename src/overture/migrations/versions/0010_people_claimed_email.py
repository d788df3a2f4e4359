"""People get `claimed_email`: an email typed in chat that belongs to another person is a claim, not a merge.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("claimed_email", sa.String(length=254), nullable=True))
        batch.create_index(batch.f("ix_people_claimed_email"), ["claimed_email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_index(batch.f("ix_people_claimed_email"))
        batch.drop_column("claimed_email")
