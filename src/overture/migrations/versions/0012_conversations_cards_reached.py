"""The cards each conversation entered and the card it is at (`conversations.cards`, `conversations.last_card`),
for the reports' funnel, and an index to read a dialogue's conversations by the day they started.

Conversations of before are filled from their state's path: the cards their last run went through (an answer
undone or a restart before the upgrade shortened it, so their funnel may miss a card they had passed).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("cards", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("last_card", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_conversations_dialogue_started_at"), ["dialogue_id", "started_at"])
    _fill_from_states()
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("cards", existing_type=sa.JSON(), nullable=False)


def _fill_from_states() -> None:
    conversations = sa.table(
        "conversations",
        sa.column("id", sa.Integer()),
        sa.column("state", sa.JSON()),
        sa.column("cards", sa.JSON()),
        sa.column("last_card", sa.String()),
    )
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(conversations.c.id, conversations.c.state)
            .where(conversations.c.id > after)
            .order_by(conversations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            path: Any = (row.state or {}).get("path") or []
            cards = [str(card) for card in dict.fromkeys(path)]
            connection.execute(
                sa.update(conversations)
                .where(conversations.c.id == row.id)
                .values(cards=cards, last_card=str(path[-1])[:200] if path else None)
            )
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index(batch.f("ix_conversations_dialogue_started_at"))
        batch.drop_column("last_card")
        batch.drop_column("cards")
