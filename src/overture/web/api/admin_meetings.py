"""Admin API: the Meetings area. Everything the Meetings page does: the filtered list and its CSV, one meeting with
its routing explanation, the outcome after the end, cancel and reassign. Agents see and change their own meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, Problem
from overture.scheduling import booking, meeting_list
from overture.scheduling import meetings as service
from overture.scheduling.meeting_list import MeetingPage, MeetingRow
from overture.scheduling.models import Agent
from overture.users.roles import Role
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import MeetingsApiUser
from overture.web.shared_transaction import outside_transaction

router = APIRouter(prefix="/api/v1/admin", tags=["meetings"], responses=API_ERROR_RESPONSES)
PublicId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$", description="The meeting's public id.")]
Status = Literal["booked", "rescheduled", "awaiting_outcome", "held", "no_show", "cancelled"]
AgentFilter = Annotated[int | None, Query(ge=1, le=2_147_483_647, description="Only this agent's meetings.")]
StatusFilter = Annotated[Status | None, Query(description="The status shown (awaiting_outcome: ended, unmarked).")]
StartFilter = Annotated[datetime | None, Query(description="Meetings starting at or after this time (with zone).")]
EndFilter = Annotated[datetime | None, Query(description="Meetings starting before this time (with zone).")]


def filters(
    agent_id: AgentFilter = None, status: StatusFilter = None, start: StartFilter = None, end: EndFilter = None
) -> meeting_list.Filters:
    """The list's filters as the query names them (for the list and its CSV)."""
    return meeting_list.Filters(agent_id, status, start, end)


Filters = Annotated[meeting_list.Filters, Depends(filters)]


class Outcome(BaseModel):
    outcome: Literal["held", "no_show"]


class Reassignment(BaseModel):
    agent_id: int = Field(ge=1, le=2_147_483_647, description="The agent who takes the meeting.")


@router.get("/meetings", summary="Meetings, latest first (agents: their own), with filters")
def list_meetings(
    session: DbSession,
    user: MeetingsApiUser,
    chosen: Filters,
    limit: Annotated[int, Query(ge=1, le=meeting_list.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MeetingPage:
    return meeting_list.list_meetings(session, viewer=user, now=utcnow(), filters=chosen, limit=limit, offset=offset)


@router.get(
    "/meetings.csv",
    summary="Every meeting of the filter as CSV (times in UTC)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_meetings(session: DbSession, user: MeetingsApiUser, chosen: Filters) -> Response:
    text = meeting_list.export_csv(session, viewer=user, now=utcnow(), filters=chosen)
    return Response(text, media_type="text/csv; charset=utf-8")


@router.get("/meetings/{public_id}", summary="One meeting with its routing explanation")
def get_meeting(session: DbSession, user: MeetingsApiUser, public_id: PublicId) -> MeetingRow:
    return meeting_list.meeting_row(session, meeting_list.get(session, public_id, user), utcnow())


@router.post("/meetings/{public_id}/outcome", summary="Mark held or no-show (after the end)")
def mark_outcome(session: DbSession, user: MeetingsApiUser, public_id: PublicId, body: Outcome) -> MeetingRow:
    meeting = meeting_list.get(session, public_id, user)
    now = utcnow()
    service.mark_outcome(session, meeting, body.outcome, user, now)
    return meeting_list.meeting_row(session, meeting, now)


@router.post("/meetings/{public_id}/cancel", summary="Cancel a meeting still to come (both sides are emailed)")
def cancel_meeting(request: Request, session: DbSession, user: MeetingsApiUser, public_id: PublicId) -> MeetingRow:
    context = request.app.state.context
    meeting = meeting_list.get(session, public_id, user)
    service.require_may_change(session, meeting, user)
    now = utcnow()
    by = "agent" if Role(user.role) == Role.agent else "admin"
    service.cancel(session, meeting, by=by, now=now, base_url=context.settings.base_url,
                   secret_key=context.secret_key, actor=user)  # fmt: skip
    return meeting_list.meeting_row(session, meeting, now)


@router.post("/meetings/{public_id}/reassign", summary="Give a meeting to another agent (checked for availability)")
def reassign_meeting(
    request: Request, session: DbSession, user: MeetingsApiUser, public_id: PublicId, body: Reassignment
) -> MeetingRow:
    context = request.app.state.context
    now = utcnow()
    meeting_list.require_manager(user)
    meeting = meeting_list.get(session, public_id, user)
    service.require_upcoming(meeting, now)
    target = session.get(Agent, body.agent_id)
    if target is None:
        raise NotFound("There is no such agent.")
    start, end, meeting_id = meeting.starts_at, meeting.ends_at, meeting.id
    free = outside_transaction(session, lambda: booking.agent_is_free(
        context.calendar_world, target.id, start, end, now, ignore_meeting_id=meeting_id))  # fmt: skip
    if not free:
        raise InvalidInput(f"{target.name} is not free at that time.", [Problem("agent_id", "not free then.")])
    service.reassign(session, meeting, target, by=user, now=now, base_url=context.settings.base_url,
                     secret_key=context.secret_key)  # fmt: skip
    return meeting_list.meeting_row(session, meeting, now)
