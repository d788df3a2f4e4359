"""The experiment variant each conversation runs (`conversations.variant`): which arm of its dialogue's A/B test the
visitor was assigned, for the experiment report (docs/experiments.md). Conversations of before ran no experiment.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("variant", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("variant")
