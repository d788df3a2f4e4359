"""Where each meeting was booked (`meetings.channel`): "chat" (a dialogue's book_meeting card) or "link" (a booking
page, docs/meetings.md "Booking links"), so reports count booking links as their own source. Meetings of before
were all booked in the chat.

A plain ADD COLUMN (no table copy), so SQLite keeps the trigger that refuses overlapping meetings (0009).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("meetings", sa.Column("channel", sa.String(length=16), nullable=False, server_default="chat"))


def downgrade() -> None:
    op.drop_column("meetings", "channel")
