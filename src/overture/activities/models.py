"""The activity log: typed records of what happened to a person, written in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime

# Attribute keys that may hold what a visitor typed or who they are (field.captured keeps the answer in `value`).
PERSONAL_ATTRIBUTES = frozenset({"value", "answer", "email", "phone", "name", "visitor_id"})


def without_personal_values(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in (attributes or {}).items() if key not in PERSONAL_ATTRIBUTES}


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_person_type_occurred_at", "person_id", "type", "occurred_at"),
        Index("ix_activities_dialogue_type_occurred_at", "dialogue_id", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None once the person was deleted for privacy: the anonymised activity still counts in reports.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The visitor session it happened in: "once per visitor per session" activities are unique per session.
    session_number: Mapped[int] = mapped_column(Integer)
    dialogue_id: Mapped[int | None] = mapped_column(ForeignKey("dialogues.id", ondelete="SET NULL"), default=None)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True
    )
    # When the person is deleted, people.privacy keeps the activity for reports but erases what the visitor gave
    # (info["personal"] is applied to the value; `info` is Python-only, no migration).
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info={"personal": without_personal_values})


class FeedCheckpoint(Base):
    """How far one consumer of the activity feed (activities/feed.py) has read: every activity id up to
    `activity_id`, as seen at `at`. A consumer keeps the checkpoints of the last `feed.LOOKBACK` (and the newest one
    before), because the periodic read starts again from one that old: on PostgreSQL an activity may commit after
    activities with higher ids were read."""

    __tablename__ = "activity_feed_checkpoints"
    __table_args__ = (Index("ix_activity_feed_checkpoints_consumer_id", "consumer", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    activity_id: Mapped[int] = mapped_column(Integer)
