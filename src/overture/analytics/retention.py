"""Retention: how long raw data is kept, and the purge that deletes what is older (docs/privacy.md).

Two windows, each a setting: raw data (every activity but the outcomes below, page views, the transcripts of
anonymous visitors) is kept `raw_data_retention_days` (90); outcomes (goals reached, meeting activities, an email
captured) are kept `outcome_retention_months` (24), so reports can look back two years after the raw data is gone.
People, companies, meetings and program memberships are never purged here; a person is deleted on request only
(people/privacy.py).

The purge deletes in batches, each its own short transaction: a first purge of millions of rows never holds one
giant transaction nor SQLite's write lock for more than a batch. Each batch's rows are found by a read (no lock),
in primary-key order from where the last batch stopped, then deleted by id with the same condition again, so a
row that changed meanwhile (an anonymous visitor who gave their email) is not deleted on a stale reading.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, exists, func, select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.analytics.models import ROLLUP_TABLES
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import PageView, Person
from overture.scheduling.models import Meeting
from overture.settings import Settings

BATCH_SIZE = 2000
EMAIL_FIELD = "person.email"

# The activities kept as long as outcomes: what reports count beyond the raw data's window.
OUTCOME_TYPES = (
    ActivityType.goal_reached,
    ActivityType.meeting_booked,
    ActivityType.meeting_rescheduled,
    ActivityType.meeting_cancelled,
    ActivityType.meeting_outcome,
)


@dataclass(frozen=True)
class Windows:
    """How long each kind of data is kept; 0 keeps it for ever."""

    raw_days: int = 90
    outcome_months: int = 24

    @classmethod
    def of(cls, settings: Settings) -> Windows:
        return cls(settings.raw_data_retention_days, settings.outcome_retention_months)

    def raw_cutoff(self, now: datetime) -> datetime | None:
        """Raw data from before this instant goes; None when it is kept for ever."""
        return now - timedelta(days=self.raw_days) if self.raw_days else None

    def outcome_cutoff(self, now: datetime) -> datetime | None:
        return months_before(now, self.outcome_months) if self.outcome_months else None


def months_before(instant: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier; the month's last day when it is shorter (24 months
    before 29 February is 28 February)."""
    month_index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def _is_outcome() -> ColumnElement[bool]:
    captured = func.coalesce(Activity.attributes["field"].as_string(), "")
    return Activity.type.in_([kind.value for kind in OUTCOME_TYPES]) | (
        (Activity.type == ActivityType.field_captured.value) & (captured == EMAIL_FIELD)
    )


def _anonymous_transcript(cutoff: datetime) -> ColumnElement[bool]:
    # Anonymous: no person (deleted for privacy) or a person without an email. A conversation that booked a
    # meeting stays with the meeting, which is never purged.
    known = exists().where(Person.id == Conversation.person_id, Person.email.is_not(None))
    booked = exists().where(Meeting.conversation_id == Conversation.id)
    return (Conversation.updated_at < cutoff) & ~known & ~booked


@dataclass(frozen=True)
class Kind:
    """One kind of data the purge deletes: its table, its window and which of its rows are older than a cut-off."""

    name: str
    table: Table
    window: str  # "raw" or "outcome"
    older_than: Callable[[datetime], ColumnElement[bool]]
    # A table keyed by several columns (the rollups) is deleted a week of this column at a time, not by id.
    by_time: Any = None

    def cutoff(self, windows: Windows, now: datetime) -> datetime | None:
        return windows.raw_cutoff(now) if self.window == "raw" else windows.outcome_cutoff(now)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _raw_activity(cutoff: datetime) -> ColumnElement[bool]:
    return (Activity.occurred_at < cutoff) & ~_is_outcome()


def _outcome_activity(cutoff: datetime) -> ColumnElement[bool]:
    return (Activity.occurred_at < cutoff) & _is_outcome()


def _page_view(cutoff: datetime) -> ColumnElement[bool]:
    return PageView.occurred_at < cutoff


def _rollup(model: Any) -> Kind:
    """A table of the reports' rollups (their figures by hour or day, the hashed people they acquired), kept as
    long as outcomes: an hour (or a day) goes once all of it is older than the window."""
    if hasattr(model, "day"):
        return Kind(ROLLUPS, _table(model), "outcome", lambda cutoff: model.day < cutoff.date(), model.day)
    return Kind(ROLLUPS, _table(model), "outcome", lambda cutoff: model.hour <= cutoff - HOUR, model.hour)


ROLLUPS = "report rollups"
HOUR = timedelta(hours=1)
SLICE = timedelta(days=7)

KINDS: tuple[Kind, ...] = (
    Kind("activities", _table(Activity), "raw", _raw_activity),
    Kind("page views", _table(PageView), "raw", _page_view),
    Kind("anonymous transcripts", _table(Conversation), "raw", _anonymous_transcript),
    Kind("outcome activities", _table(Activity), "outcome", _outcome_activity),
    *(_rollup(model) for model in ROLLUP_TABLES),
)


@dataclass(frozen=True)
class Planned:
    """What a purge at `now` deletes of one kind: rows from before `cutoff` (None: this kind is kept for ever)."""

    kind: Kind
    cutoff: datetime | None
    count: int


def plan(session: Session, windows: Windows, now: datetime) -> list[Planned]:
    """How many rows of each kind are older than their window at `now`: what `purge` would delete. Deletes
    nothing (the dry run)."""
    planned: list[Planned] = []
    for kind in KINDS:
        cutoff = kind.cutoff(windows, now)
        count = 0
        if cutoff is not None:
            count = session.scalar(select(func.count()).select_from(kind.table).where(kind.older_than(cutoff))) or 0
        if planned and planned[-1].kind.name == kind.name:  # the rollups: several tables, one kind to a reader
            count += planned.pop().count
        planned.append(Planned(kind, cutoff, count))
    return planned


# Told after each batch: the kind and how many of its rows are deleted so far.
Progress = Callable[[Kind, int], None]


def purge(
    db: Database, windows: Windows, now: datetime, *, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> dict[str, int]:
    """Deletes every row older than its window at `now`, in batches of `batch_size` rows, each in its own
    transaction; returns how many rows of each kind went (by kind name)."""
    deleted: dict[str, int] = {}
    for kind in KINDS:
        cutoff = kind.cutoff(windows, now)
        before = deleted.get(kind.name, 0)  # the rollups' tables add up under one name
        told = None if progress is None else _counting_from(before, progress)
        deleted[kind.name] = before + (0 if cutoff is None else _purge_kind(db, kind, cutoff, batch_size, told))
    return deleted


def _counting_from(before: int, progress: Progress) -> Progress:
    return lambda kind, done: progress(kind, before + done)


def _purge_kind(db: Database, kind: Kind, cutoff: datetime, batch_size: int, progress: Progress | None) -> int:
    if kind.by_time is not None:
        return _purge_by_time(db, kind, cutoff, progress)
    (key,) = kind.table.primary_key.columns
    condition = kind.older_than(cutoff)
    done, after = 0, None
    while True:
        found = select(key).where(condition).order_by(key).limit(batch_size)
        with db.read() as session:
            ids = list(session.scalars(found if after is None else found.where(key > after)))
        if not ids:
            return done
        with db.write() as session:
            result = session.execute(delete(kind.table).where(key.in_(ids), condition))
        done += int(result.rowcount)  # type: ignore[attr-defined]
        after = ids[-1]
        if progress is not None:
            progress(kind, done)


def _purge_by_time(db: Database, kind: Kind, cutoff: datetime, progress: Progress | None) -> int:
    """Deletes a rollup's expired rows a week at a time from the oldest, each week in its own transaction (a
    week of hours of 500 dialogues is 84,000 rows at most)."""
    condition = kind.older_than(cutoff)
    done = 0
    while True:
        with db.read() as session:
            oldest = session.scalar(select(func.min(kind.by_time)).where(condition))
        if oldest is None:
            return done
        with db.write() as session:
            result = session.execute(delete(kind.table).where(condition, kind.by_time < oldest + SLICE))
        done += int(result.rowcount)  # type: ignore[attr-defined]
        if progress is not None:
            progress(kind, done)
