"""The Meetings list: who may see which meeting, the list filtered and paged, one meeting's row with its routing
explained, and the CSV export. Reads only; the changes (outcome, cancel, reschedule, reassign) are in meetings.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, false, func, select
from sqlalchemy.orm import Session

from overture.dialogues.models import Dialogue
from overture.errors import Forbidden, InvalidInput, NotFound, Problem
from overture.people.directory import display_name
from overture.people.models import Person
from overture.scheduling.models import Agent, Meeting, RoutingDecision, Team
from overture.users.models import User
from overture.users.roles import Role

# What the list shows: the stored statuses, plus "awaiting outcome" for a booked or rescheduled meeting whose end
# has passed and whose agent has not said yet whether it was held.
DISPLAY_STATUSES = ("booked", "rescheduled", "awaiting_outcome", "held", "no_show", "cancelled")
STATUS_LABELS = {
    "booked": "Booked",
    "rescheduled": "Rescheduled",
    "awaiting_outcome": "Awaiting outcome",
    "held": "Held",
    "no_show": "No-show",
    "cancelled": "Cancelled",
}
MODE_LABELS = {
    "round_robin": "round robin (strict)",
    "strict": "round robin (strict)",
    "availability": "round robin (first free)",
    "account": "account owner",
    "agent": "named agent",
    "rule": "routing rule",
    "reassigned": "reassigned",
    "credit_back": "turn given back",
}
DELETED_VISITOR = "deleted visitor"
MAX_PAGE = 500
_OPEN = ("booked", "rescheduled")


class SkippedAgent(BaseModel):
    agent_id: int
    agent_name: str
    reason: str


class RoutingExplanation(BaseModel):
    """Why the meeting went to its agent, from the routing ledger."""

    mode: str
    mode_label: str
    team: str | None = Field(description="The team's name; none for a meeting routed to one agent.")
    pointer_before: str | None = Field(description="The agent who had taken the team's previous meeting.")
    pointer_after: str | None
    skipped: list[SkippedAgent]
    note: str
    decided_at: datetime


class MeetingRow(BaseModel):
    """One meeting as the Meetings page and its CSV show it. Times are UTC."""

    public_id: str
    title: str
    person_id: int | None
    visitor_email: str | None
    visitor_name: str = Field(description='"deleted visitor" when the person was deleted.')
    visitor_zone: str
    agent_id: int
    agent_name: str
    agent_email: str
    starts_at: datetime
    ends_at: datetime
    dialogue_id: int | None
    dialogue_name: str | None
    status: str = Field(description="The stored status: booked, rescheduled, cancelled, held or no_show.")
    display_status: str = Field(description="The status shown: the stored one, or awaiting_outcome.")
    status_label: str
    calendar_state: str
    calendar_error: str | None
    cancelled_at: datetime | None
    outcome_at: datetime | None
    routing: RoutingExplanation | None
    can_mark_outcome: bool = Field(description="The end has passed and no outcome is marked yet.")
    can_change: bool = Field(description="Not cancelled and not started: may be cancelled or moved.")


class MeetingPage(BaseModel):
    items: list[MeetingRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Filters:
    """The list's filters; `start`/`end` bound the meeting's start ([start, end), aware datetimes)."""

    agent_id: int | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None


# --- who may see and change -----------------------------------------------------------------------------------


def agent_of_user(session: Session, user: User) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.user_id == user.id))


def is_manager(user: User) -> bool:
    return Role(user.role) in (Role.admin, Role.sales_admin)


def require_manager(user: User) -> None:
    """Reassigning is for admins and sales admins. Raises Forbidden."""
    if not is_manager(user):
        raise Forbidden("Only an admin or a sales admin can reassign a meeting.")


def _viewer_condition(session: Session, viewer: User) -> ColumnElement[bool] | None:
    """The meetings the viewer may see (None: all). Agents see only their own; marketers none."""
    if is_manager(viewer):
        return None
    if Role(viewer.role) != Role.agent:
        raise Forbidden("Your role does not give access to meetings.")
    own = agent_of_user(session, viewer)
    return false() if own is None else Meeting.agent_id == own.id


def get(session: Session, public_id: str, viewer: User) -> Meeting:
    """The meeting the viewer may see. Raises NotFound (also for another agent's meeting: agents see their own)."""
    meeting = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
    condition = _viewer_condition(session, viewer)
    if meeting is None or (condition is not None and not _visible(session, meeting, condition)):
        raise NotFound("There is no such meeting, or it is another agent's.")
    return meeting


def _visible(session: Session, meeting: Meeting, condition: ColumnElement[bool]) -> bool:
    return session.scalar(select(Meeting.id).where(Meeting.id == meeting.id, condition)) is not None


def by_public_id(session: Session, public_id: str) -> Meeting:
    """The meeting a signed link names. Raises NotFound."""
    meeting = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
    if meeting is None:
        raise NotFound("This meeting no longer exists.")
    return meeting


# --- the list --------------------------------------------------------------------------------------------------


def _status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    if status == "awaiting_outcome":
        return and_(Meeting.status.in_(_OPEN), Meeting.ends_at <= now)
    if status in _OPEN:
        return and_(Meeting.status == status, Meeting.ends_at > now)
    return Meeting.status == status


def _validate(filters: Filters, limit: int | None, offset: int) -> None:
    problems = []
    if filters.status is not None and filters.status not in DISPLAY_STATUSES:
        problems.append(Problem("status", f"the status must be one of {', '.join(DISPLAY_STATUSES)}."))
    bounds = []
    for name in ("start", "end"):
        value = getattr(filters, name)
        if value is None:
            continue
        if value.utcoffset() is None:
            problems.append(Problem(name, "the time must carry its time zone."))
            continue
        try:
            bounds.append(value.astimezone(UTC))
        except OverflowError:
            problems.append(Problem(name, "the time is out of range."))
    if len(bounds) == 2 and filters.start and filters.end and bounds[0] >= bounds[1]:
        problems.append(Problem("end", "the end of the range must come after its start."))
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        problems.append(Problem("limit", f"the page size must be between 1 and {MAX_PAGE}."))
    if offset < 0:
        problems.append(Problem("offset", "the offset cannot be negative."))
    if problems:
        raise InvalidInput("The meeting filters are not valid.", problems)


def _filtered(session: Session, viewer: User, filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    visible = _viewer_condition(session, viewer)
    if visible is not None:
        conditions.append(visible)
    if filters.agent_id is not None:
        conditions.append(Meeting.agent_id == filters.agent_id)
    if filters.status is not None:
        conditions.append(_status_condition(filters.status, now))
    if filters.start is not None:
        conditions.append(Meeting.starts_at >= filters.start)
    if filters.end is not None:
        conditions.append(Meeting.starts_at < filters.end)
    return conditions


def list_meetings(
    session: Session, *, viewer: User, now: datetime, filters: Filters = Filters(), limit: int = 50, offset: int = 0
) -> MeetingPage:
    """One page of the meetings the viewer may see, latest start first. Raises InvalidInput for bad filters,
    Forbidden for a role without meetings."""
    _validate(filters, limit, offset)
    conditions = _filtered(session, viewer, filters, now)
    total = session.scalar(select(func.count(Meeting.id)).where(*conditions)) or 0
    items = _rows(session, _query(conditions).limit(limit).offset(offset), now)
    return MeetingPage(items=items, total=total, limit=limit, offset=offset)


def meeting_row(session: Session, meeting: Meeting, now: datetime) -> MeetingRow:
    (row,) = _rows(session, _query([Meeting.id == meeting.id]), now)
    return row


# A meeting with its visitor, agent (and user), dialogue name, routing decision and team name.
_RowQuery = Select[Meeting, Person, Agent, User, str, RoutingDecision, str]


def _query(conditions: Sequence[ColumnElement[bool]]) -> _RowQuery:
    return (
        select(Meeting, Person, Agent, User, Dialogue.name, RoutingDecision, Team.name)
        .join(Agent, Agent.id == Meeting.agent_id)
        .join(User, User.id == Agent.user_id)
        .outerjoin(Person, Person.id == Meeting.person_id)
        .outerjoin(Dialogue, Dialogue.id == Meeting.dialogue_id)
        .outerjoin(RoutingDecision, RoutingDecision.id == Meeting.routing_decision_id)
        .outerjoin(Team, Team.id == RoutingDecision.team_id)
        .where(*conditions)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    )


def _rows(session: Session, query: _RowQuery, now: datetime) -> list[MeetingRow]:
    found = session.execute(query).all()
    mentioned = {agent_id for row in found if row[5] is not None for agent_id in _agents_of(row[5])}
    names = _agent_names(session, mentioned)
    return [_row(*row, names=names, now=now) for row in found]


def _agents_of(decision: RoutingDecision) -> Iterable[int]:
    yield from (i for i in (decision.pointer_before, decision.pointer_after) if i is not None)
    yield from (item["agent_id"] for item in decision.skipped or [] if isinstance(item.get("agent_id"), int))


def _agent_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    agents = session.scalars(select(Agent).join(User, User.id == Agent.user_id).where(Agent.id.in_(ids)))
    return {agent.id: agent.name for agent in agents}


def display_status(meeting: Meeting, now: datetime) -> str:
    if meeting.status in _OPEN and meeting.ends_at <= now:
        return "awaiting_outcome"
    return meeting.status


def _row(
    meeting: Meeting,
    person: Person | None,
    agent: Agent,
    _user: User,
    dialogue_name: str | None,
    decision: RoutingDecision | None,
    team_name: str | None,
    *,
    names: dict[int, str],
    now: datetime,
) -> MeetingRow:
    shown = display_status(meeting, now)
    return MeetingRow(
        public_id=meeting.public_id,
        title=meeting.title,
        person_id=meeting.person_id,
        visitor_email=person.contact_email if person else None,
        visitor_name=display_name(person) if person else DELETED_VISITOR,
        visitor_zone=meeting.visitor_zone,
        agent_id=agent.id,
        agent_name=agent.name,
        agent_email=agent.email,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        dialogue_id=meeting.dialogue_id,
        dialogue_name=dialogue_name,
        status=meeting.status,
        display_status=shown,
        status_label=STATUS_LABELS[shown],
        calendar_state=meeting.calendar_state,
        calendar_error=meeting.calendar_error,
        cancelled_at=meeting.cancelled_at,
        outcome_at=meeting.outcome_at,
        routing=_explanation(decision, team_name, names) if decision else None,
        can_mark_outcome=shown == "awaiting_outcome",
        can_change=meeting.status in _OPEN and meeting.starts_at > now,
    )


def _explanation(decision: RoutingDecision, team_name: str | None, names: dict[int, str]) -> RoutingExplanation:
    def name(agent_id: int | None) -> str | None:
        return None if agent_id is None else names.get(agent_id, f"agent {agent_id} (removed)")

    skipped = [
        SkippedAgent(agent_id=item["agent_id"], agent_name=name(item["agent_id"]) or "", reason=str(item["reason"]))
        for item in decision.skipped or []
        if isinstance(item.get("agent_id"), int)
    ]
    return RoutingExplanation(
        mode=decision.mode,
        mode_label=MODE_LABELS.get(decision.mode, decision.mode.replace("_", " ")),
        team=team_name,
        pointer_before=name(decision.pointer_before),
        pointer_after=name(decision.pointer_after),
        skipped=skipped,
        note=decision.note,
        decided_at=decision.decided_at,
    )


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "meeting", "title", "visitor_email", "visitor_name", "agent", "agent_email", "start (UTC)", "end (UTC)",
    "visitor_time_zone", "dialogue", "status", "calendar", "calendar_error", "routing",
)  # fmt: skip


def utc_text(instant: datetime | None) -> str:
    """An instant as the CSV and the activity log write it: 2026-03-02T09:00:00Z ("" for none)."""
    return "" if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ would make it a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _routing_text(routing: RoutingExplanation | None) -> str:
    if routing is None:
        return ""
    parts = [routing.mode_label] + ([f"team {routing.team}"] if routing.team else [])
    parts += [f"skipped {s.agent_name} ({s.reason})" for s in routing.skipped]
    return "; ".join(parts + ([routing.note] if routing.note else []))


def export_csv(session: Session, *, viewer: User, now: datetime, filters: Filters = Filters()) -> str:
    """Every meeting of the filtered list (not one page) as CSV, times in ISO 8601 UTC ("Z")."""
    _validate(filters, None, 0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _rows(session, _query(_filtered(session, viewer, filters, now)), now):
        writer.writerow(
            csv_cell(value)
            for value in (
                row.public_id,
                row.title,
                row.visitor_email,
                row.visitor_name,
                row.agent_name,
                row.agent_email,
                utc_text(row.starts_at),
                utc_text(row.ends_at),
                row.visitor_zone,
                row.dialogue_name,
                row.display_status,
                row.calendar_state,
                row.calendar_error,
                _routing_text(row.routing),
            )  # fmt: skip
        )
    return out.getvalue()


# --- changes ---------------------------------------------------------------------------------------------------
