"""Automations and the log of their runs.

A run is written in the transaction that does its actions (program statuses, lists, fields, and the rows of the
outboxes that carry mail and webhooks out), and a run is unique per (automation, activity): an activity read again
after a crash is run once, never twice, and never dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime, utcnow

NAME_MAX = 120
DESCRIPTION_MAX = 500


class Automation(Base):
    __tablename__ = "automations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    # The name folded to lower case: unique, so two automations never differ only by case.
    name_key: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The activity type that triggers it (activities/service.py ActivityType), indexed for the runner's lookup.
    activity_type: Mapped[str] = mapped_column(String(60), index=True)
    # The trigger's filters and the actions, as the API takes them (automations/schemas.py): validated on save.
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AutomationRun(Base):
    """One automation run for one activity: what it was given and what each action did."""

    __tablename__ = "automation_runs"
    __table_args__ = (
        UniqueConstraint("automation_id", "activity_id", name="uq_automation_runs_automation_activity"),
        Index("ix_automation_runs_automation_id_id", "automation_id", "id"),
        Index("ix_automation_runs_person_id_id", "person_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    # No foreign key: the log outlives the activity's purge (90 days), and says which one it was.
    activity_id: Mapped[int] = mapped_column(Integer)
    # The person's data (their answers may be in `inputs`): deleted with them, moved by a merge.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), default=None)
    status: Mapped[str] = mapped_column(String(20))  # "done" or "failed" (an action failed; the others ran)
    # The activity as it was run: its type, time and attributes, the person's name and email.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One entry per action: {"action": type, "status": "done" | "failed", "said": what it did or why not}.
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
