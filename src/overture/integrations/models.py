"""The table of integrations: one row per integration ever connected (Marketo), its settings that may be shown,
its secret sealed (sealing.py), its status, the remote fields it last read and the admin's field mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime

CONNECTED, DISCONNECTED = "connected", "disconnected"


class IntegrationConnection(Base):
    """One integration's connection. `name` is its registry name (integrations/registry.py). `settings` may be
    shown (Marketo: REST base URL, Munchkin id, client id); `secret` (the client secret) is a sealed token, never
    in clear, and None once disconnected. `status` is connected or disconnected: every job of the integration
    checks it before working. `remote_fields` are the other system's fields as last read ({object: [{name, label,
    type, updateable}]}); `mapping` what the admin maps them to ({object: {name: "person.email" or None}}).
    `checked_*` is the last check's result (connect or "Test connection")."""

    __tablename__ = "integration_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=CONNECTED)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    remote_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    connected_by: Mapped[str] = mapped_column(String(320), default="")
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    disconnected_by: Mapped[str | None] = mapped_column(String(320), default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    check_ok: Mapped[bool | None] = mapped_column(Boolean, default=None)
    check_message: Mapped[str | None] = mapped_column(String(1000), default=None)
