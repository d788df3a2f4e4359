"""The People and Companies pages: search people, read a person's profile and conversations, export or delete a
person (with a confirmation step), list companies and open one."""

from __future__ import annotations

import json
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from overture.automations import service as automations
from overture.conversations import history
from overture.db import utcnow
from overture.people import directory, privacy
from overture.programs.members import memberships_of
from overture.web.deps import DbSession, RowId
from overture.web.guards import PeoplePageUser
from overture.web.pages.rendering import flash, page_router, redirect, render

router = page_router()
Search = Annotated[str, Query(max_length=200)]
# The filter as the page's select sends it: everyone, people with an email, or anonymous visitors.
Known = Annotated[Literal["", "known", "anonymous"], Query()]
KNOWN_FILTER: dict[str, bool | None] = {"": None, "known": True, "anonymous": False}


@router.get("/admin/people")
def people_page(
    request: Request,
    session: DbSession,
    user: PeoplePageUser,
    q: Search = "",
    known: Known = "",
    cursor: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = directory.search_people(session, q, known=KNOWN_FILTER[known], cursor=cursor or None)
    keep = {key: value for key, value in (("q", q), ("known", known)) if value}
    next_url = f"?{urlencode({**keep, 'cursor': found.next_cursor})}" if found.next_cursor else None
    first_url = f"?{urlencode(keep)}" if cursor else None
    return render(
        request,
        "admin/people.html",
        user,
        people=found.items,
        q=q,
        known=known,
        next_url=next_url,
        first_url=first_url,
    )


PERSON_RUNS = 20  # the automations' newest runs a person's page shows


@router.get("/admin/people/{person_id}")
def person_page(request: Request, session: DbSession, user: PeoplePageUser, person_id: RowId) -> Response:
    person = history.person_profile(session, person_id)
    return render(
        request, "admin/person.html", user, person=person, memberships=memberships_of(session, person_id),
        automation_runs=automations.runs(session, person_id=person_id, limit=PERSON_RUNS),
    )  # fmt: skip


@router.get("/admin/people/{person_id}/conversations/{conversation_id}")
def conversation_page(
    request: Request, session: DbSession, user: PeoplePageUser, person_id: RowId, conversation_id: RowId
) -> Response:
    person = directory.profile(session, person_id)
    conversation = history.transcript(session, person_id, conversation_id)
    return render(request, "admin/person_conversation.html", user, person=person, conversation=conversation)


@router.post("/admin/people/{person_id}/export")
def export_person(session: DbSession, user: PeoplePageUser, person_id: RowId) -> Response:
    """A download of everything about the person (a POST: the export is recorded in the privacy log)."""
    data = privacy.export_person(session, person_id, actor=user.email, now=utcnow())
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="person-{person_id}.json"'},
    )


@router.get("/admin/people/{person_id}/delete")
def confirm_delete_page(request: Request, session: DbSession, user: PeoplePageUser, person_id: RowId) -> Response:
    return render(request, "admin/person_delete.html", user, person=history.person_profile(session, person_id))


# What the tables of a deletion report hold, in words, one and many (a table added later shows under its name).
TABLE_WORDS = {
    "page_views": ("page view", "page views"),
    "visitor_identities": ("visitor id", "visitor ids"),
    "person_merges": ("merge record", "merge records"),
    "conversations": ("conversation", "conversations"),
    "activities": ("activity", "activities"),
}


def _counted(counts: dict[str, int]) -> str:
    def words(table: str, n: int) -> str:
        one, many = TABLE_WORDS.get(table, (table.replace("_", " "), table.replace("_", " ")))
        return f"{n} {one if n == 1 else many}"

    return ", ".join(words(table, n) for table, n in sorted(counts.items()))


def deletion_summary(name: str, report: privacy.DeletionReport) -> str:
    """What a deletion did, for the flash message: 'Jane Doe (person 7) is deleted, with 3 page views, 1 visitor
    id. Kept anonymised for reports: 5 activities, 2 conversations.'"""
    deleted = {table: n for table, n in report.deleted.items() if table != "people"}
    message = f"{name} is deleted" + (f", with {_counted(deleted)}." if deleted else ".")
    if report.anonymised:
        message += f" Kept anonymised for reports: {_counted(report.anonymised)}."
    return message


@router.post("/admin/people/{person_id}/delete")
def delete_person(request: Request, session: DbSession, user: PeoplePageUser, person_id: RowId) -> Response:
    name = directory.display_name(directory.get_person(session, person_id))
    report = privacy.delete_person(session, person_id, actor=user.email, now=utcnow())
    flash(request, deletion_summary(f"{name} (person {person_id})", report), "success")
    return redirect("/admin/people")


@router.get("/admin/companies")
def companies_page(
    request: Request,
    session: DbSession,
    user: PeoplePageUser,
    q: Search = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = directory.list_companies(session, q, page=page)
    keep = {"q": q} if q else {}
    return render(
        request,
        "admin/companies.html",
        user,
        companies=found,
        q=q,
        newer_url=f"?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        older_url=f"?{urlencode({**keep, 'page': page + 1})}" if page < found.pages else None,
    )


@router.get("/admin/companies/{company_id}")
def company_page(request: Request, session: DbSession, user: PeoplePageUser, company_id: RowId) -> Response:
    return render(request, "admin/company.html", user, company=directory.company_detail(session, company_id))
