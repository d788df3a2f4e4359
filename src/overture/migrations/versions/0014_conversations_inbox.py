"""What each conversation came to (`engaged`, `reached_goal`, `booked_meeting`), for the Conversations inbox's
outcome filter, and the indexes that read the inbox newest first, alone or by outcome, at a million conversations.

Conversations of before are filled from what they left: engaged when their transcript has an answer of the visitor
or an engagement was recorded for them (a conversation whose person was deleted keeps no transcript), a goal when a
goal activity names them, a meeting when a meeting was booked in them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
FLAGS = ("engaged", "reached_goal", "booked_meeting")
INDEXES = {
    "ix_conversations_started_at_id": ["started_at", "id"],
    "ix_conversations_status_started_at": ["status", "started_at", "id"],
    "ix_conversations_engaged_started_at": ["engaged", "started_at", "id"],
    "ix_conversations_goal_started_at": ["reached_goal", "started_at", "id"],
    "ix_conversations_meeting_started_at": ["booked_meeting", "started_at", "id"],
}

conversations = sa.table(
    "conversations",
    sa.column("id", sa.Integer()),
    sa.column("step", sa.Integer()),
    sa.column("state", sa.JSON()),
    *(sa.column(flag, sa.Boolean()) for flag in FLAGS),
)
activities = sa.table(
    "activities", sa.column("conversation_id", sa.Integer()), sa.column("type", sa.String())
)  # fmt: skip
meetings = sa.table("meetings", sa.column("conversation_id", sa.Integer()))


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        for flag in FLAGS:
            batch.add_column(sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()))
    _fill()
    for name, columns in INDEXES.items():
        op.create_index(name, "conversations", columns)


def _recorded(table: sa.TableClause, *conditions: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(table.c.conversation_id == conversations.c.id, *conditions)


def _fill() -> None:
    connection = op.get_bind()
    connection.execute(
        sa.update(conversations)
        .where(_recorded(activities, activities.c.type == "goal.reached"))
        .values(reached_goal=True)
    )
    connection.execute(sa.update(conversations).where(_recorded(meetings)).values(booked_meeting=True))
    connection.execute(
        sa.update(conversations)
        .where(_recorded(activities, activities.c.type == "dialogue.engaged"))
        .values(engaged=True)
    )
    # An answer takes a step: only conversations past their first step can have one in their transcript.
    after = 0
    while True:
        rows = connection.execute(
            sa.select(conversations.c.id, conversations.c.state)
            .where(conversations.c.id > after, conversations.c.step > 0, conversations.c.engaged == sa.false())
            .order_by(conversations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        answered = [
            row.id
            for row in rows
            if any(entry.get("role") == "visitor" for entry in (row.state or {}).get("transcript") or [])
        ]
        if answered:
            connection.execute(
                sa.update(conversations).where(conversations.c.id.in_(answered)).values(engaged=True)
            )  # fmt: skip
        after = rows[-1].id


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "conversations")
    with op.batch_alter_table("conversations") as batch:
        for flag in FLAGS:
            batch.drop_column(flag)
