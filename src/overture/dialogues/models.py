"""Dialogues and reusable flows, their editable draft and their frozen published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from overture.db import Base, UTCDateTime, utcnow

# draft: never published; published: live; paused: published but not shown; archived: retired, read-only.
STATUSES = ("draft", "published", "paused", "archived")


class Dialogue(Base):
    __tablename__ = "dialogues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="dialogue")  # dialogue | flow
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # The document being edited, in its YAML/JSON form; publishing freezes a copy as a version.
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The draft as the marketer wrote it in YAML (comments, order, layout), when it was written as YAML.
    draft_text: Mapped[str | None] = mapped_column(Text, default=None)
    draft_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Compare-and-set counter: two editors saving at once cannot silently overwrite each other.
    revision: Mapped[int] = mapped_column(Integer, default=1)

    versions: Mapped[list[DialogueVersion]] = relationship(
        back_populates="dialogue", order_by="DialogueVersion.number", cascade="all, delete-orphan"
    )


class DialogueVersion(Base):
    __tablename__ = "dialogue_versions"
    __table_args__ = (UniqueConstraint("dialogue_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    dialogue: Mapped[Dialogue] = relationship(back_populates="versions")
