"""Admin API: people and companies. Everything the People page does: search, profiles, export and delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from overture.conversations import history
from overture.db import utcnow
from overture.people import directory, privacy
from overture.people.schemas import (
    CompanyDetail,
    CompanyPage,
    ConversationTranscript,
    PersonDeleted,
    PersonPage,
    PersonProfile,
)
from overture.scheduling import booking_links
from overture.scheduling.schemas import BookingLinkOut
from overture.web.deps import Context, DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import PeopleApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["people"], responses=API_ERROR_RESPONSES)
Search = Annotated[
    str | None,
    Query(max_length=200, description="Words matched by prefix, any case: email, first or last name, company."),
]


@router.get("/people", summary="Search people, most recently seen first")
def list_people(
    session: DbSession,
    _: PeopleApiUser,
    q: Search = None,
    known: Annotated[bool | None, Query(description="true: only people with an email; false: only anonymous.")] = None,
    cursor: Annotated[
        str | None, Query(pattern=directory.CURSOR_PATTERN, description="The next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = directory.PAGE_SIZE,
) -> PersonPage:
    return directory.search_people(session, q, known=known, cursor=cursor, limit=limit)


@router.get("/people/{person_id}", summary="A person's profile: fields, company, visits, conversations, activities")
def get_person(session: DbSession, _: PeopleApiUser, person_id: RowId) -> PersonProfile:
    return history.person_profile(session, person_id)


@router.get("/people/{person_id}/conversations/{conversation_id}", summary="One conversation with its transcript")
def get_conversation(
    session: DbSession, _: PeopleApiUser, person_id: RowId, conversation_id: RowId
) -> ConversationTranscript:
    return history.transcript(session, person_id, conversation_id)


@router.get("/people/{person_id}/export", summary="Everything about one person, as JSON (the export is logged)")
def export_person(session: DbSession, user: PeopleApiUser, person_id: RowId) -> dict[str, Any]:
    return privacy.export_person(session, person_id, actor=user.email, now=utcnow())


@router.get(
    "/people/{person_id}/booking-link",
    summary="A signed booking link for this person: the page skips what their record answers (docs/meetings.md)",
)
def booking_link(
    session: DbSession,
    context: Context,
    _: PeopleApiUser,
    person_id: RowId,
    team: Annotated[str, Query(max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="The team's key.")],
    agent: Annotated[
        str | None, Query(max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$", description="An agent's slug.")
    ] = None,
    type: Annotated[str | None, Query(max_length=80, description="A meeting type's key.")] = None,
    days: Annotated[int | None, Query(description="How many days the link works (1 to 366; 30 by default).")] = None,
) -> BookingLinkOut:
    url, expires_at = booking_links.make_link(
        session, base_url=context.settings.base_url, secret_key=context.secret_key, person_id=person_id,
        team_key=team, slug=agent, meeting_type=type, days=days, now=utcnow(),
    )  # fmt: skip
    return BookingLinkOut(url=url, expires_at=expires_at, person_id=person_id)


@router.delete("/people/{person_id}", summary="Delete a person and anonymise their conversations (logged)")
def delete_person(session: DbSession, user: PeopleApiUser, person_id: RowId) -> PersonDeleted:
    report = privacy.delete_person(session, person_id, actor=user.email, now=utcnow())
    return PersonDeleted(person_id=person_id, deleted=report.deleted, anonymised=report.anonymised)


@router.get("/companies", summary="Search companies by name or domain, with their number of people")
def list_companies(
    session: DbSession,
    _: PeopleApiUser,
    q: Annotated[str | None, Query(max_length=200, description="Words matched by prefix: name or domain.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> CompanyPage:
    return directory.list_companies(session, q, page=page)


@router.get("/companies/{company_id}", summary="A company: fields, domains, owner and its people")
def get_company(session: DbSession, _: PeopleApiUser, company_id: RowId) -> CompanyDetail:
    return directory.company_detail(session, company_id)
