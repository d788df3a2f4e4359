"""Conversations: one visitor running one dialogue version, with the engine's state and the transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime

# active: waiting for the visitor; completed: reached an end; dismissed: closed by the visitor;
# dropped: abandoned (no reply for a whole visitor session).
STATUSES = ("active", "completed", "dismissed", "dropped")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_person_dialogue_status", "person_id", "dialogue_id", "status"),
        # The reports' funnel reads a dialogue's conversations by the day they started.
        Index("ix_conversations_dialogue_started_at", "dialogue_id", "started_at"),
        # The Conversations inbox (conversations/inbox.py) lists newest first, paged by (started_at, id), alone or
        # by one outcome: each of these reads a page in order without scanning the rows that do not match.
        Index("ix_conversations_started_at_id", "started_at", "id"),
        Index("ix_conversations_status_started_at", "status", "started_at", "id"),
        Index("ix_conversations_engaged_started_at", "engaged", "started_at", "id"),
        Index("ix_conversations_goal_started_at", "reached_goal", "started_at", "id"),
        Index("ix_conversations_meeting_started_at", "booked_meeting", "started_at", "id"),
        # A person's conversations newest first; the inbox's search reads those of the people it found by it,
        # without reading the rows (migration 0017).
        Index("ix_conversations_person_started_at", "person_id", "started_at", "id"),
        # The reports' funnel counts again the hours of the conversations that changed since it last read
        # (analytics/funnel_rollups.py, migration 0022).
        Index("ix_conversations_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    # SHA-256 of the secret the widget sends with every call; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64))
    # None once the person was deleted for privacy (the transcript is erased, the anonymised row stays).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The browser that started it (the widget's first-party id); emptied when the person is deleted.
    # info["personal"]: what people.privacy writes here when the person is deleted (no migration: Python-only).
    visitor_id: Mapped[str | None] = mapped_column(String(64), default=None, info={"personal": None})
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id", ondelete="CASCADE"))
    # The version it started on, and the version of every reusable flow it may call: it finishes on these.
    version_id: Mapped[int] = mapped_column(ForeignKey("dialogue_versions.id", ondelete="RESTRICT"))
    flow_version_ids: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Holds the transcript and the answers: erased (to {}) when the person is deleted.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, info={"personal": {}})
    # Each answer must name the step it answers: a replayed or out-of-order reply is refused.
    step: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    page_url: Mapped[str] = mapped_column(String(2000), default="")
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    region: Mapped[str | None] = mapped_column(String(2), default=None)
    # The visitor's IANA time zone as the widget reported it: meeting slots and emails use it.
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    # Every card the conversation entered, once each in the order first entered ("card", or "flowkey:card" in a
    # called flow), and the card it is at: the reports' funnel. Kept apart from `state`, whose path going back or
    # restarting shortens and which a privacy deletion erases; card keys say nothing about the visitor.
    cards: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_card: Mapped[str | None] = mapped_column(String(200), default=None)
    # The variant of its dialogue's experiment the visitor was assigned (conversations/assignment.py); None when
    # the version it runs has no experiment. The experiment report counts by it.
    variant: Mapped[str | None] = mapped_column(String(80), default=None)
    # What the conversation came to, for the inbox's outcome filter (docs/conversations.md), set by service.py when
    # it happens and never unset: the visitor answered at least once; a goal card was reached; a meeting was booked.
    engaged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reached_goal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    booked_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
