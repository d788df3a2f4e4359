"""Admin API: static lists and their members (page by page and as CSV), adding and removing one person. Everything
the Lists page does; a change made here records the source "api" with the id of the user whose token made it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from overture.db import utcnow
from overture.people.directory import get_person
from overture.programs import lists, members
from overture.programs.schemas import ListChangeResult, ListCreate, ListMemberPage, ListPublic, ListUpdate
from overture.programs.source import Source
from overture.web.api.admin_programs import AS_CSV, Cursor, Limit, members_csv
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ProgramsApiUser

router = APIRouter(prefix="/api/v1/admin/lists", tags=["lists"], responses=API_ERROR_RESPONSES)


@router.get("", summary="Every static list with its number of members")
def list_lists(session: DbSession, _: ProgramsApiUser) -> list[ListPublic]:
    counts = lists.member_counts(session)
    return [members.list_public(row, counts.get(row.id, 0)) for row in lists.all_lists(session)]


@router.post("", status_code=201, summary="Add an empty static list")
def create_list(session: DbSession, _: ProgramsApiUser, body: ListCreate) -> ListPublic:
    row = lists.create_list(session, body.name, utcnow(), description=body.description)
    return members.list_public(row, 0)


@router.get("/{list_id}", summary="One static list")
def get_list(session: DbSession, _: ProgramsApiUser, list_id: RowId) -> ListPublic:
    row = lists.get_list(session, list_id)
    return members.list_public(row, lists.member_counts(session).get(row.id, 0))


@router.patch("/{list_id}", summary="Rename a list or change its description")
def update_list(session: DbSession, _: ProgramsApiUser, list_id: RowId, body: ListUpdate) -> ListPublic:
    row = lists.update_list(
        session, lists.get_list(session, list_id), utcnow(), name=body.name, description=body.description
    )
    return members.list_public(row, lists.member_counts(session).get(row.id, 0))


@router.delete("/{list_id}", status_code=204, summary="Delete a list, its members and their history")
def delete_list(session: DbSession, _: ProgramsApiUser, list_id: RowId) -> None:
    lists.delete_list(session, lists.get_list(session, list_id))


@router.get("/{list_id}/members", summary="The list's members, newest first, a page at a time")
def list_members(
    session: DbSession,
    _: ProgramsApiUser,
    list_id: RowId,
    cursor: Cursor = None,
    limit: Limit = members.PAGE_SIZE,
) -> ListMemberPage:
    return members.list_members(session, lists.get_list(session, list_id), cursor=cursor, limit=limit)


@router.get(
    "/{list_id}/members.csv",
    summary="Every member as CSV: email, name, company, added at (UTC)",
    **AS_CSV,
)
def list_members_csv(request: Request, session: DbSession, _: ProgramsApiUser, list_id: RowId) -> StreamingResponse:
    lists.get_list(session, list_id)
    return list_csv_response(request, list_id)


def list_csv_response(request: Request, list_id: int) -> StreamingResponse:
    return members_csv(request, f"list-{list_id}", lambda read: members.list_csv(read, lists.get_list(read, list_id)))


@router.put("/{list_id}/members/{person_id}", summary="Add a person to the list (nothing changes if they are on it)")
def add_member(session: DbSession, user: ProgramsApiUser, list_id: RowId, person_id: RowId) -> ListChangeResult:
    row = lists.get_list(session, list_id)
    outcome = lists.add_to_list(session, row, get_person(session, person_id), Source.api(user.id), utcnow())
    return ListChangeResult(outcome=outcome)


@router.delete("/{list_id}/members/{person_id}", summary="Remove a person from the list")
def remove_member(session: DbSession, user: ProgramsApiUser, list_id: RowId, person_id: RowId) -> ListChangeResult:
    row = lists.get_list(session, list_id)
    outcome = lists.remove_from_list(session, row, get_person(session, person_id), Source.api(user.id), utcnow())
    return ListChangeResult(outcome=outcome)
