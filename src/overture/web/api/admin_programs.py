"""Admin API: programs (a name, a channel, ordered statuses), their members page by page and as CSV, and setting
or removing one person's status. Everything the Programs page does. A change made here records the source "api"
with the id of the user whose token made it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.people.directory import get_person
from overture.programs import members, service
from overture.programs.schemas import (
    ProgramCreate,
    ProgramMemberPage,
    ProgramPublic,
    ProgramUpdate,
    RemovalResult,
    StatusChangeResult,
    StatusSet,
)
from overture.programs.source import Source
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ProgramsApiUser

router = APIRouter(prefix="/api/v1/admin/programs", tags=["programs"], responses=API_ERROR_RESPONSES)
StatusFilter = Annotated[str | None, Query(max_length=60, description="Only members at this status (its name).")]
Cursor = Annotated[
    str | None, Query(pattern=members.CURSOR_PATTERN, description="The next_cursor of the previous page.")
]
Limit = Annotated[int, Query(ge=1, le=200)]
# How a members.csv route is described: a CSV body, streamed.
AS_CSV: dict[str, Any] = {
    "response_class": StreamingResponse,
    "responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
}


@router.get("", summary="Every program with its statuses and how many members hold each")
def list_programs(session: DbSession, _: ProgramsApiUser) -> list[ProgramPublic]:
    return [members.program_public(session, program) for program in service.all_programs(session)]


@router.post("", status_code=201, summary="Add a program with its statuses in order (the first is step 1)")
def create_program(session: DbSession, _: ProgramsApiUser, body: ProgramCreate) -> ProgramPublic:
    program = service.create_program(
        session, body.name, body.channel.value, body.statuses, utcnow(), description=body.description
    )
    return members.program_public(session, program)


@router.get("/{program_id}", summary="One program with its statuses")
def get_program(session: DbSession, _: ProgramsApiUser, program_id: RowId) -> ProgramPublic:
    return members.program_public(session, service.get_program(session, program_id))


@router.patch(
    "/{program_id}",
    summary="Rename a program, change its channel, or its statuses (the whole list, in order; ids keep statuses)",
)
def update_program(session: DbSession, _: ProgramsApiUser, program_id: RowId, body: ProgramUpdate) -> ProgramPublic:
    program = service.update_program(
        session,
        service.get_program(session, program_id),
        utcnow(),
        name=body.name,
        channel=body.channel.value if body.channel else None,
        description=body.description,
        statuses=body.statuses,
    )
    return members.program_public(session, program)


@router.delete("/{program_id}", status_code=204, summary="Delete a program, its members and their history")
def delete_program(session: DbSession, _: ProgramsApiUser, program_id: RowId) -> None:
    service.delete_program(session, service.get_program(session, program_id))


@router.get("/{program_id}/members", summary="The program's members, newest first, a page at a time")
def program_members(
    session: DbSession,
    _: ProgramsApiUser,
    program_id: RowId,
    status: StatusFilter = None,
    cursor: Cursor = None,
    limit: Limit = members.PAGE_SIZE,
) -> ProgramMemberPage:
    program = service.get_program(session, program_id)
    return members.program_members(session, program, status=status, cursor=cursor, limit=limit)


@router.get(
    "/{program_id}/members.csv",
    summary="Every member as CSV: email, name, company, status, step, changed at (UTC)",
    **AS_CSV,
)
def program_members_csv(
    request: Request, session: DbSession, _: ProgramsApiUser, program_id: RowId, status: StatusFilter = None
) -> StreamingResponse:
    program = service.get_program(session, program_id)
    if status:
        service.find_status(session, program, status)  # a status it lacks is refused before the answer starts
    return program_csv_response(request, program_id, status)


def program_csv_response(request: Request, program_id: int, status: str | None) -> StreamingResponse:
    def lines_of(read: Session) -> Iterator[str]:
        return members.program_csv(read, service.get_program(read, program_id), status)

    return members_csv(request, f"program-{program_id}", lines_of)


def members_csv(request: Request, name: str, lines_of: Callable[[Session], Iterator[str]]) -> StreamingResponse:
    """A program's or a list's members as CSV, `name`-members-<date>.csv, streamed from a session of its own (the
    request's closes before the body is sent)."""
    db = request.app.state.context.db

    def lines() -> Iterator[str]:
        with db.read() as session:
            yield from lines_of(session)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-members-{utcnow():%Y%m%d}.csv"'},
    )


@router.put(
    "/{program_id}/members/{person_id}",
    summary="Set a person's status (adds them when they are not a member); with only_forward, never back",
)
def set_status(
    session: DbSession, user: ProgramsApiUser, program_id: RowId, person_id: RowId, body: StatusSet
) -> StatusChangeResult:
    program = service.get_program(session, program_id)
    change = service.set_program_status(
        session,
        program,
        get_person(session, person_id),
        body.status,
        Source.api(user.id),
        utcnow(),
        only_forward=body.only_forward,
    )
    return StatusChangeResult(outcome=change.outcome, member=members.program_member(session, change.member))


@router.delete("/{program_id}/members/{person_id}", summary="Remove a person from the program")
def remove_member(session: DbSession, user: ProgramsApiUser, program_id: RowId, person_id: RowId) -> RemovalResult:
    program = service.get_program(session, program_id)
    removed = service.remove_from_program(
        session, program, get_person(session, person_id), Source.api(user.id), utcnow()
    )
    return RemovalResult(removed=removed)
