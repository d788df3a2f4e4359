"""The activity log: typed records of what happened to a person, written in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime


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
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
