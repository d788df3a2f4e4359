"""The outbox: every message Overture sends is first a row here, written in the transaction that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from overture.db import Base, UTCDateTime, utcnow

# pending: waiting to be sent; sending: claimed by a worker; sent: the SMTP server accepted it;
# failed: gave up after several attempts; kept: no SMTP server is configured, so it stays in the outbox only.
STATUSES = ("pending", "sending", "sent", "failed", "kept")

# How the admin's Outbox names them.
STATUS_LABELS = {
    "pending": "Waiting",
    "sending": "Sending",
    "sent": "Sent",
    "failed": "Failed",
    "kept": "Kept (no SMTP)",
}
KIND_LABELS = {
    "message": "Message",
    "password_reset": "Password link",
    "imip_request": "Meeting invitation",
    "imip_cancel": "Meeting cancellation",
    "meeting_notice": "Meeting notice",
    "calendar_attention": "Calendar needs attention",
    "webhook_disabled": "Webhook endpoint disabled",
}


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    kind: Mapped[str] = mapped_column(String(50), default="message")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Compare-and-set counter: a worker claims a message only if the version it read is still current.
    version: Mapped[int] = mapped_column(Integer, default=0)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
