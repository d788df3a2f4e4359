"""What needs attention: the failures Overture already tracks, read for one viewer, as Home lists them.

Three kinds, each shown only to the roles that can act on it (users/roles.py):

- an agent's calendar that failed or was disconnected (`Agent.attention`, set by scheduling/attention.py): routing
  skips the agent until it is fixed. The agent sees their own; admins and sales admins see every agent's.
- a meeting whose calendar event keeps failing to be written (`Meeting.calendar_state` "failed", retried by
  scheduling/calendar_sync.py): the agent sees their own meetings; admins and sales admins every one.
- mail that failed (given up after its attempts, in the last week: older failures are history the Outbox keeps) or
  keeps being retried after an error: admins only, who open the Outbox.

Nothing here writes or adds tracking: it reads the rows the rest of Overture keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from overture.mail.models import OutboxMessage
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User
from overture.users.roles import Area, Role, can_open

# How many of each kind are listed one by one; the rest are counted, on the page that lists them all.
SHOWN = 5
# A failed message older than this is no longer news: the Outbox keeps it, Home does not repeat it forever.
RECENT_FAILURES = timedelta(days=7)
MANAGERS = frozenset({Role.admin, Role.sales_admin})
T = TypeVar("T")


@dataclass(frozen=True)
class FailingCalendar:
    """An agent routing skips because their calendar failed; `own`: the viewer is this agent."""

    agent_id: int
    agent_name: str
    own: bool
    problem: str
    since: datetime | None


@dataclass(frozen=True)
class FailingCalendarWrite:
    """A meeting whose event could not be written to (or removed from) its agent's calendar."""

    public_id: str
    title: str
    agent_name: str
    starts_at: datetime
    error: str | None


@dataclass(frozen=True)
class FailingMessage:
    """An outbox message that failed or is being retried after an error."""

    id: int
    subject: str
    to: list[str]
    attempts: int
    error: str | None
    last_tried: datetime


@dataclass(frozen=True)
class Some(Generic[T]):
    """The first SHOWN items of a kind, and how many there are in all."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Attention:
    calendars: list[FailingCalendar]
    calendar_writes: Some[FailingCalendarWrite]
    failed_mail: Some[FailingMessage]
    retrying_mail: Some[FailingMessage]

    @property
    def empty(self) -> bool:
        return not (self.calendars or self.calendar_writes.total or self.failed_mail.total or self.retrying_mail.total)


def needing_attention(session: Session, viewer: User, now: datetime) -> Attention:
    """What `viewer` can act on, each kind as their role allows (see the module's docstring)."""
    agents = _agents_condition(session, viewer)
    nothing: Some[FailingMessage] = Some([], 0)
    return Attention(
        calendars=_calendars(session, viewer, agents) if agents is not None else [],
        calendar_writes=_calendar_writes(session, agents) if agents is not None else Some([], 0),
        failed_mail=_failed_mail(session, now) if can_open(viewer.role, Area.outbox) else nothing,
        retrying_mail=_retrying_mail(session) if can_open(viewer.role, Area.outbox) else nothing,
    )


def _agents_condition(session: Session, viewer: User) -> ColumnElement[bool] | None:
    """The agents whose calendar troubles the viewer can act on: every agent for a manager, an agent's own profile,
    none (None) for other roles."""
    if Role(viewer.role) in MANAGERS:
        return true()
    if Role(viewer.role) == Role.agent:
        return Agent.user_id == viewer.id
    return None


def _calendars(session: Session, viewer: User, agents: ColumnElement[bool]) -> list[FailingCalendar]:
    found = session.scalars(
        select(Agent)
        .join(User, User.id == Agent.user_id)
        .where(Agent.attention.is_not(None), User.is_active.is_(True), agents)
        .order_by(Agent.attention_since, Agent.id)
    ).all()
    return [
        FailingCalendar(agent.id, agent.name, agent.user_id == viewer.id, agent.attention or "", agent.attention_since)
        for agent in found
    ]


def _calendar_writes(session: Session, agents: ColumnElement[bool]) -> Some[FailingCalendarWrite]:
    conditions = (Meeting.calendar_state == "failed", agents)
    total = session.scalar(select(func.count(Meeting.id)).join(Agent, Agent.id == Meeting.agent_id).where(*conditions))
    rows = session.execute(
        select(Meeting, Agent)
        .join(Agent, Agent.id == Meeting.agent_id)
        .where(*conditions)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(SHOWN)
    ).all()
    items = [
        FailingCalendarWrite(meeting.public_id, meeting.title, agent.name, meeting.starts_at, meeting.calendar_error)
        for meeting, agent in rows
    ]
    return Some(items, total or 0)


def _messages(session: Session, *conditions: ColumnElement[bool]) -> Some[FailingMessage]:
    total = session.scalar(select(func.count(OutboxMessage.id)).where(*conditions))
    rows = session.scalars(
        select(OutboxMessage).where(*conditions).order_by(OutboxMessage.next_attempt_at.desc()).limit(SHOWN)
    ).all()
    items = [
        FailingMessage(row.id, row.subject, list(row.to), row.attempts, row.last_error, row.next_attempt_at)
        for row in rows
    ]
    return Some(items, total or 0)


def _failed_mail(session: Session, now: datetime) -> Some[FailingMessage]:
    # A message is claimed with next_attempt_at set to the claim's time, so for a failed one it is the last try.
    return _messages(session, OutboxMessage.status == "failed", OutboxMessage.next_attempt_at >= now - RECENT_FAILURES)


def _retrying_mail(session: Session) -> Some[FailingMessage]:
    """Waiting for another try after a failed one, or being tried again right now (a message queued again by hand
    starts from no attempts, and shows here only once it fails again)."""
    return _messages(session, OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.attempts > 0)
