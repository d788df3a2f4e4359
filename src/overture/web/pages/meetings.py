"""The Meetings page: every meeting booked through a dialogue (agents see their own), filtered by agent, status and
date, exported as CSV; a meeting's page explains its routing and lets the agent or an admin mark the outcome after
the end, cancel it, or (admins and sales admins) give it to another agent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, OvertureError, Problem
from overture.scheduling import booking, meeting_list
from overture.scheduling import meetings as service
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User
from overture.users.roles import Role
from overture.web.deps import DbSession
from overture.web.guards import MeetingsPageUser
from overture.web.pages.forms import refuse
from overture.web.pages.rendering import page_router, render, succeeded
from overture.web.shared_transaction import outside_transaction

router = page_router()
PublicId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
DateText = Annotated[str, Query(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
PAGE = "/admin/meetings"
PAGE_SIZE = 50


def viewer_zone(session: Session, user: User) -> str:
    """Times show on the viewer's clock: an agent's own zone, UTC for everyone else."""
    agent = meeting_list.agent_of_user(session, user)
    return agent.time_zone if agent is not None else "UTC"


def local_time(zone: str) -> Callable[[datetime | None], str]:
    tz = ZoneInfo(zone)

    def shown(instant: datetime | None) -> str:
        return "" if instant is None else instant.astimezone(tz).strftime("%a %d %b %Y %H:%M")

    return shown


def _day(text: str, zone: str, path: str) -> datetime | None:
    """Midnight of the date `text` (YYYY-MM-DD) on the viewer's clock."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("The date is not valid.", [Problem(path, "use a date such as 2026-03-10.")]) from None
    return datetime.combine(day, time(), ZoneInfo(zone))


def chosen_filters(
    agent: Annotated[str, Query(max_length=10, pattern=r"^\d*$")] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    start: DateText = "",
    end: DateText = "",
) -> dict[str, str]:
    """The filters as the list's form sends them (for the page and its CSV)."""
    return {"agent": agent, "status": status, "start": start, "end": end}


Chosen = Annotated[dict[str, str], Depends(chosen_filters)]


def _filters(session: Session, user: User, chosen: dict[str, str]) -> meeting_list.Filters:
    zone = viewer_zone(session, user)
    last = _day(chosen["end"], zone, "end")
    return meeting_list.Filters(
        agent_id=int(chosen["agent"]) if chosen["agent"] else None,
        status=chosen["status"] or None,
        start=_day(chosen["start"], zone, "start"),
        # The end date is included: the range stops at the next midnight.
        end=datetime.combine(last.date() + timedelta(days=1), time(), last.tzinfo) if last else None,
    )


@router.get(PAGE)
def meetings_page(
    request: Request,
    session: DbSession,
    user: MeetingsPageUser,
    chosen: Chosen,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    now = utcnow()
    zone = viewer_zone(session, user)
    keep = {key: value for key, value in chosen.items() if value}
    error, problems, found = None, {}, None
    try:
        filters = _filters(session, user, chosen)
        found = meeting_list.list_meetings(
            session, viewer=user, now=now, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except InvalidInput as exc:
        refused = refuse(session, exc, chosen)
        error, problems = refused.message, refused.problems
    pages = max(1, -(-found.total // PAGE_SIZE)) if found else 1
    return render(
        request,
        "admin/meetings.html",
        user,
        status=422 if error else 200,
        meetings=found.items if found else [],
        total=found.total if found else 0,
        chosen=chosen,
        error=error,
        problems=problems,
        statuses=meeting_list.DISPLAY_STATUSES,
        status_labels=meeting_list.STATUS_LABELS,
        agents=service.all_agents(session) if Role(user.role) != Role.agent else [],
        zone=zone,
        shown=local_time(zone),
        csv_url=f"{PAGE}.csv" + (f"?{urlencode(keep)}" if keep else ""),
        newer_url=f"?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        older_url=f"?{urlencode({**keep, 'page': page + 1})}" if page < pages else None,
    )


@router.get(PAGE + ".csv")
def meetings_csv(session: DbSession, user: MeetingsPageUser, chosen: Chosen) -> Response:
    now = utcnow()
    text = meeting_list.export_csv(session, viewer=user, now=now, filters=_filters(session, user, chosen))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="meetings-{now:%Y%m%d}.csv"'},
    )


def _detail(
    request: Request, session: Session, user: User, meeting: Meeting, status: int = 200, **extra: object
) -> Response:
    zone = viewer_zone(session, user)
    manager = Role(user.role) in (Role.admin, Role.sales_admin)
    return render(
        request,
        "admin/meetings_detail.html",
        user,
        status=status,
        meeting=meeting_list.meeting_row(session, meeting, utcnow()),
        zone=zone,
        shown=local_time(zone),
        reassign_to=service.agents_for_reassignment(session, meeting) if manager else [],
        **extra,
    )


@router.get(PAGE + "/{public_id}")
def meeting_page(request: Request, session: DbSession, user: MeetingsPageUser, public_id: PublicId) -> Response:
    return _detail(request, session, user, meeting_list.get(session, public_id, user))


def _failed(request: Request, session: Session, user: User, public_id: str, exc: OvertureError) -> Response:
    """The meeting's page again, with what went wrong (nothing of the attempt is kept)."""
    refused = refuse(session, exc, {})
    return _detail(request, session, user, meeting_list.get(session, public_id, user), **refused.shown())


@router.post(PAGE + "/{public_id}/outcome")
def mark_outcome(
    request: Request,
    session: DbSession,
    user: MeetingsPageUser,
    public_id: PublicId,
    outcome: Annotated[str, Form(max_length=20)],
) -> Response:
    meeting = meeting_list.get(session, public_id, user)
    try:
        service.mark_outcome(session, meeting, outcome, user, utcnow())
    except OvertureError as exc:
        return _failed(request, session, user, public_id, exc)
    return succeeded(
        request, f"The meeting is marked {meeting_list.STATUS_LABELS[outcome].lower()}.", f"{PAGE}/{public_id}"
    )


@router.post(PAGE + "/{public_id}/cancel")
def cancel_meeting(request: Request, session: DbSession, user: MeetingsPageUser, public_id: PublicId) -> Response:
    context = request.app.state.context
    meeting = meeting_list.get(session, public_id, user)
    try:
        service.require_may_change(session, meeting, user)
        by = "agent" if Role(user.role) == Role.agent else "admin"
        service.cancel(session, meeting, by=by, now=utcnow(), base_url=context.settings.base_url,
                       secret_key=context.secret_key, actor=user)  # fmt: skip
    except OvertureError as exc:
        return _failed(request, session, user, public_id, exc)
    return succeeded(
        request, "The meeting is cancelled; the visitor and the agent are told by email.", f"{PAGE}/{public_id}"
    )


@router.post(PAGE + "/{public_id}/reassign")
def reassign_meeting(
    request: Request,
    session: DbSession,
    user: MeetingsPageUser,
    public_id: PublicId,
    agent_id: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    context = request.app.state.context
    now = utcnow()
    meeting = meeting_list.get(session, public_id, user)
    try:
        meeting_list.require_manager(user)
        service.require_upcoming(meeting, now)
        target = session.get(Agent, agent_id)
        if target is None:
            raise NotFound("There is no such agent.")
        start, end, meeting_id = meeting.starts_at, meeting.ends_at, meeting.id
        # The busy-time cache the read fills is written by its own transaction.
        free = outside_transaction(session, lambda: booking.agent_is_free(
            context.calendar_world, agent_id, start, end, now, ignore_meeting_id=meeting_id))  # fmt: skip
        if not free:
            raise InvalidInput(f"{target.name} is not free at that time.", [Problem("agent_id", "not free then.")])
        service.reassign(session, meeting, target, by=user, now=now, base_url=context.settings.base_url,
                         secret_key=context.secret_key)  # fmt: skip
        name = target.name
    except OvertureError as exc:
        return _failed(request, session, user, public_id, exc)
    return succeeded(
        request, f"The meeting is now {name}'s; both agents and the visitor are told by email.", f"{PAGE}/{public_id}"
    )
