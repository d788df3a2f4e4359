"""Webhook endpoints, the deliveries queued for them (the outbox pattern: a row first, unique per endpoint and
event) and the log of every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime, utcnow

URL_LENGTH = 2000
EXCERPT_BYTES = 1024  # of each answer's body, kept in the attempt log

STATUS_LABELS = {
    "pending": "Waiting",
    "sending": "Sending",
    "delivered": "Delivered",
    "failed": "Failed",
}


class WebhookEndpoint(Base):
    """Where events go: a URL, the event types it takes, the secret that signs them."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "whsec_" and the base64 of 24 random bytes: the key of every signature (Standard Webhooks).
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # An admin's explicit choice: deliver to a loopback or private address (a receiver on the LAN, tests).
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the failures began (the first failed attempt since the last success); a day of them disables it.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: its body as signed and sent (kept byte for byte), and where its sending is."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # The event's stable id ("msg_..."), the `webhook-id` header receivers deduplicate on.
    event_id: Mapped[str] = mapped_column(String(60))
    event_type: Mapped[str] = mapped_column(String(60))
    activity_id: Mapped[int | None] = mapped_column(Integer, default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sending | delivered | failed
    # Attempts of the current schedule (a manual redelivery starts a new one); the log keeps every attempt.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Compare-and-set: a worker claims a row by moving its version; two workers never send one row at once.
    version: Mapped[int] = mapped_column(Integer, default=0)


class WebhookAttempt(Base):
    """One try at sending a delivery: what came back, how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # The first EXCERPT_BYTES of the answer, or what went wrong before one came (refused address, timeout).
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, default=None)
