"""Sites get the widget's appearance document and the secret that signs identify calls.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appearance", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("identify_secret", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for (site_id,) in connection.execute(sa.text("SELECT id FROM sites")).all():
        connection.execute(
            sa.text("UPDATE sites SET identify_secret = :secret WHERE id = :id"),
            {"secret": secrets.token_hex(32), "id": site_id},
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("identify_secret", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("identify_secret")
        batch_op.drop_column("appearance")
