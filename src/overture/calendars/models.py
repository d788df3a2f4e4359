"""Tables of calendars: each agent's connection to their calendar (secrets encrypted at rest) and the short-lived
cache of the busy times read from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime, utcnow


class CalendarConnection(Base):
    """An agent's calendar. `settings` holds what is not secret (a CalDAV URL and user name, the account's email,
    the zone for floating times, whether to add an online meeting); `secret` holds the rest (app password, OAuth
    tokens, an ICS feed's secret address) as a Fernet token (calendars/secrets.py), never in clear.
    `problem` is set when the calendar failed or was disconnected: the agent then needs attention."""

    __tablename__ = "calendar_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    problem: Mapped[str | None] = mapped_column(String(500), default=None)


class BusyCache(Base):
    """The busy times last read from an agent's calendar for [range_start, range_end), as
    [["2026-12-01T09:00:00+00:00", "2026-12-01T10:00:00+00:00"], ...] in UTC. Kept briefly (settings.busy_cache_seconds)
    and always read again for the chosen agent at booking time."""

    __tablename__ = "calendar_busy_cache"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    range_start: Mapped[datetime] = mapped_column(UTCDateTime)
    range_end: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    intervals: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
