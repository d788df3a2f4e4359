"""The Programs and Lists pages: programs with their statuses in order (create, edit, delete), their members by
status with the CSV, setting or removing a person's status; static lists the same way, simpler. A change made here
records the signed-in user as its source."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput, OvertureError, Problem
from overture.people.directory import get_person
from overture.people.email_domains import normalize_email
from overture.people.models import Person
from overture.programs import lists, members, service
from overture.programs.models import Program, StaticList
from overture.programs.schemas import (
    CHANNEL_LABELS,
    CHANNEL_STATUSES,
    Channel,
    ListMemberPage,
    ProgramMemberPage,
    StatusIn,
)
from overture.programs.source import Source
from overture.users.models import User
from overture.web.api.admin_lists import list_csv_response
from overture.web.api.admin_programs import program_csv_response
from overture.web.deps import DbSession, RowId
from overture.web.guards import ProgramsPageUser
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()
PROGRAMS = "/admin/programs"
LISTS = "/admin/lists"
NEW_ROWS = 3  # empty status rows under the existing ones, for new statuses
Cursor = Annotated[str, Query(max_length=12)]
StatusFilter = Annotated[str, Query(max_length=60)]  # a status's name: only its members are shown


def _channels() -> list[tuple[str, str]]:
    return [(channel.value, CHANNEL_LABELS[channel]) for channel in Channel]


# --- the statuses' rows ----------------------------------------------------------------------------------------------


def _rows_of(session: Session, program: Program | None, channel: Channel = Channel.chat) -> list[dict[str, Any]]:
    """The status rows of the form: the program's statuses (or the channel's usual ones), then empty rows."""
    if program is not None:
        rows = [
            {"id": s.id, "name": s.name, "position": s.step, "success": s.success, "remove": False}
            for s in service.statuses_of(session, program.id)
        ]
    else:
        rows = [
            {"id": None, "name": name, "position": step, "success": success, "remove": False}
            for step, (name, success) in enumerate(CHANNEL_STATUSES[channel], start=1)
        ]
    start = len(rows) + 1
    rows += [
        {"id": None, "name": "", "position": start + i, "success": False, "remove": False} for i in range(NEW_ROWS)
    ]
    return rows


class ListForm(BaseModel):
    """A list's fields, as typed (a program's begin with them)."""

    name: str = Field("", max_length=200)
    description: str = Field("", max_length=500)


class ProgramForm(ListForm):
    """A program's fields, as typed, with its status rows (one entry a row, in the rows' order)."""

    channel: str = Field("", max_length=20)
    status_id: list[str] = Field([], max_length=60)
    status_name: list[str] = Field([], max_length=60)
    status_position: list[str] = Field([], max_length=60)
    status_success: list[str] = Field([], max_length=60)
    status_remove: list[str] = Field([], max_length=60)

    def rows(self) -> list[dict[str, Any]]:
        """The status rows as typed, to read (`_statuses`) and to show again."""
        rows = []
        for index, name in enumerate(self.status_name):
            row_id = self.status_id[index] if index < len(self.status_id) else ""
            position = self.status_position[index] if index < len(self.status_position) else ""
            rows.append(
                {
                    "id": int(row_id) if row_id.isdigit() else None,
                    "name": name,
                    "position": position,
                    "success": str(index) in self.status_success,
                    "remove": str(index) in self.status_remove,
                }
            )
        return rows


class PersonForm(BaseModel):
    """The person to add, as an admin typed them: an email or an id."""

    person: str = Field("", max_length=254)


class MemberForm(PersonForm):
    status: str = Field("", max_length=60)
    only_forward: bool = False


def _statuses(rows: list[dict[str, Any]]) -> tuple[list[StatusIn], dict[str, str]]:
    """The statuses the rows say, in the order of their positions (a row without a name, or marked removed, is
    none), and which row each one came from, as the refusal's field mapping (`statuses.2.name` -> row 4)."""
    problems: list[Problem] = []
    kept: list[tuple[float, int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        if row["remove"] or not (row["name"] or "").strip():
            continue
        try:
            position = float(row["position"])
        except (TypeError, ValueError):
            problems.append(Problem(f"status_position_{index}", "Give the position as a number (1 is first)."))
            continue
        kept.append((position, index, row))
    if problems:
        raise InvalidInput("The program was not saved.", problems)
    kept.sort(key=lambda item: (item[0], item[1]))
    statuses = [StatusIn(id=row["id"], name=row["name"], success=row["success"]) for _, _, row in kept]
    fields = {"statuses": "statuses"}
    for order, (_, index, _) in enumerate(kept):
        fields[f"statuses.{order}.name"] = f"status_name_{index}"
        fields[f"statuses.{order}"] = f"status_name_{index}"
    return statuses, fields


# --- what programs and lists share -----------------------------------------------------------------------------------


def _pages(page: ProgramMemberPage | ListMemberPage, keep: dict[str, str], cursor: str) -> dict[str, str | None]:
    """The links of a members table's pager: the next page's, and the first's when this is not it."""
    return {
        "next_url": f"?{urlencode({**keep, 'cursor': page.next_cursor})}#members" if page.next_cursor else None,
        "first_url": f"?{urlencode(keep)}#members" if cursor else None,
    }


def _unconfirmed(what: str) -> InvalidInput:
    return InvalidInput(f"Not deleted: tick the box to confirm that the {what} and its members go.",
                        [Problem("confirm", "Tick the box to confirm.")])  # fmt: skip


def _deleted(request: Request, session: Session, confirm: bool, gone: Program | StaticList, home: str) -> Response:
    """Deletes a program or a list with its members, once the box is ticked."""
    what = "program" if isinstance(gone, Program) else "list"
    if not confirm:
        return refuse_with_flash(request, session, _unconfirmed(what), f"{home}/{gone.id}")
    name = gone.name
    count = service.delete_program(session, gone) if isinstance(gone, Program) else lists.delete_list(session, gone)
    return succeeded(request, f"{name} is deleted, with its {count} member{'' if count == 1 else 's'}.", home)


def _removed(
    request: Request, session: Session, user: User, home: str, of: Program | StaticList, person_id: int
) -> Response:
    """Takes a person off a program or a list."""
    try:
        who = get_person(session, person_id)
    except OvertureError as exc:
        return refuse_with_flash(request, session, exc, f"{home}/{of.id}")
    if isinstance(of, Program):
        service.remove_from_program(session, of, who, Source.user(user.id), utcnow())
    else:
        lists.remove_from_list(session, of, who, Source.user(user.id), utcnow())
    return succeeded(request, f"Person {who.email or who.id} is removed from {of.name}.", f"{home}/{of.id}#members")


def find_person(session: Session, given: str) -> Person:
    """The person an admin typed: an id, or an email. Raises InvalidInput on the field `person`."""
    given = given.strip()
    found = None
    if given.isdigit() and int(given) <= 2_147_483_647:
        found = session.get(Person, int(given))
    elif "@" in given:
        found = session.scalar(select(Person).where(Person.email == normalize_email(given)))
    if found is None:
        raise InvalidInput(
            "No such person.",
            [Problem("person", f"No person has the email or id '{given}'. Find them on the People page.")],
        )
    return found


Confirmed = Annotated[bool, Form()]


# --- programs --------------------------------------------------------------------------------------------------------


@router.get(PROGRAMS)
def programs_page(request: Request, session: DbSession, user: ProgramsPageUser) -> Response:
    rows = [members.program_public(session, program) for program in service.all_programs(session)]
    return render(request, "admin/programs.html", user, active_area="programs", programs=rows,
                  channel_labels=CHANNEL_LABELS)  # fmt: skip


def _new_page(request: Request, user: User, rows: list[dict[str, Any]], status: int = 200, **extra: Any) -> Response:
    return render(
        request, "admin/program_new.html", user, status=status, active_area="programs", channels=_channels(),
        rows=rows, **{"form": {"channel": "chat"}, **extra},
    )  # fmt: skip


@router.get(PROGRAMS + "/new")
def new_program_page(
    request: Request, session: DbSession, user: ProgramsPageUser, channel: Annotated[Channel, Query()] = Channel.chat
) -> Response:
    return _new_page(request, user, _rows_of(session, None, channel), form={"channel": channel.value})


@router.post(PROGRAMS)
def create_program(request: Request, session: DbSession, user: ProgramsPageUser, form: Posted[ProgramForm]) -> Response:
    rows = form.rows()
    fields: dict[str, str] = {}
    try:
        statuses, fields = _statuses(rows)
        program = service.create_program(
            session, form.name, form.channel, statuses, utcnow(), description=form.description
        )
    except (InvalidInput, Conflict) as exc:
        return _new_page(request, user, rows, **refuse(session, exc, form.model_dump(), fields).shown())
    done = f"{program.name} is added. Automations and the API can now set its statuses."
    return succeeded(request, done, f"{PROGRAMS}/{program.id}")


def _program_page(
    request: Request,
    session: Session,
    user: User,
    program: Program,
    *,
    status_filter: str = "",
    cursor: str = "",
    rows: list[dict[str, Any]] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    shown = members.program_public(session, program)
    filter_error = None
    try:
        page = members.program_members(session, program, status=status_filter or None, cursor=cursor or None)
    except InvalidInput as exc:
        filter_error = exc.problems[0].message if exc.problems else exc.message
        page = members.program_members(session, program)
        status_filter = ""
    keep = {"status": status_filter} if status_filter else {}
    return render(
        request, "admin/program.html", user, status=status, active_area="programs", program=shown,
        channels=_channels(), channel_labels=CHANNEL_LABELS,
        rows=rows if rows is not None else _rows_of(session, program), members_page=page,
        status_filter=status_filter, filter_error=filter_error, **_pages(page, keep, cursor),
        csv_url=f"{PROGRAMS}/{program.id}/members.csv" + (f"?{urlencode(keep)}" if keep else ""),
        **{"form": {"name": program.name, "channel": program.channel, "description": program.description},
           "member_form": {"only_forward": False}, **extra},
    )  # fmt: skip


@router.get(PROGRAMS + "/{program_id}")
def program_page(
    request: Request,
    session: DbSession,
    user: ProgramsPageUser,
    program_id: RowId,
    status: StatusFilter = "",
    cursor: Cursor = "",
) -> Response:
    program = service.get_program(session, program_id)
    return _program_page(request, session, user, program, status_filter=status, cursor=cursor)


@router.post(PROGRAMS + "/{program_id}")
def update_program(
    request: Request, session: DbSession, user: ProgramsPageUser, program_id: RowId, form: Posted[ProgramForm]
) -> Response:
    program = service.get_program(session, program_id)
    rows = form.rows()
    fields: dict[str, str] = {}
    try:
        statuses, fields = _statuses(rows)
        service.update_program(session, program, utcnow(), name=form.name, channel=form.channel,
                               description=form.description, statuses=statuses)  # fmt: skip
    except (InvalidInput, Conflict) as exc:
        refused = refuse(session, exc, form.model_dump(), fields)
        again = service.get_program(session, program_id)
        return _program_page(request, session, user, again, rows=rows, **refused.shown())
    return succeeded(request, f"{program.name} is saved.", f"{PROGRAMS}/{program.id}")


@router.post(PROGRAMS + "/{program_id}/delete")
def delete_program(
    request: Request, session: DbSession, user: ProgramsPageUser, program_id: RowId, confirm: Confirmed = False
) -> Response:
    return _deleted(request, session, confirm, service.get_program(session, program_id), PROGRAMS)


@router.get(PROGRAMS + "/{program_id}/members.csv")
def program_csv(
    request: Request, session: DbSession, user: ProgramsPageUser, program_id: RowId, status: StatusFilter = ""
) -> Response:
    program = service.get_program(session, program_id)
    if status:
        service.find_status(session, program, status)
    return program_csv_response(request, program.id, status or None)


@router.post(PROGRAMS + "/{program_id}/members")
def set_member_status(
    request: Request, session: DbSession, user: ProgramsPageUser, program_id: RowId, form: Posted[MemberForm]
) -> Response:
    program = service.get_program(session, program_id)
    try:
        who = find_person(session, form.person)
        change = service.set_program_status(
            session, program, who, form.status, Source.user(user.id), utcnow(), only_forward=form.only_forward
        )
    except InvalidInput as exc:
        shown = refuse(session, exc, form.model_dump()).shown("member_")
        return _program_page(request, session, user, service.get_program(session, program_id), **shown)
    said = {
        "joined": f"joined at {change.status.name}",
        "progressed": f"moved on to {change.status.name}",
        "moved back": f"moved back to {change.status.name}",
        "unchanged": f"already at {change.status.name}: nothing changed",
        "not moved back": f"already at {change.status.name}, a later step: nothing changed",
    }[change.outcome]
    return succeeded(request, f"Person {who.email or who.id} {said}.", f"{PROGRAMS}/{program.id}#members")


@router.post(PROGRAMS + "/{program_id}/members/{person_id}/remove")
def remove_member(
    request: Request, session: DbSession, user: ProgramsPageUser, program_id: RowId, person_id: RowId
) -> Response:
    return _removed(request, session, user, PROGRAMS, service.get_program(session, program_id), person_id)


# --- lists -----------------------------------------------------------------------------------------------------------


def _lists_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    counts = lists.member_counts(session)
    rows = [members.list_public(row, counts.get(row.id, 0)) for row in lists.all_lists(session)]
    return render(request, "admin/lists.html", user, status=status, active_area="programs", lists=rows,
                  **{"form": {}, **extra})  # fmt: skip


@router.get(LISTS)
def lists_page(request: Request, session: DbSession, user: ProgramsPageUser) -> Response:
    return _lists_page(request, session, user)


@router.post(LISTS)
def create_list(request: Request, session: DbSession, user: ProgramsPageUser, form: Posted[ListForm]) -> Response:
    try:
        row = lists.create_list(session, form.name, utcnow(), description=form.description)
    except (InvalidInput, Conflict) as exc:
        return _lists_page(request, session, user, **refuse(session, exc, form.model_dump()).shown())
    return succeeded(request, f"{row.name} is added.", f"{LISTS}/{row.id}")


def _list_page(
    request: Request, session: Session, user: User, row: StaticList, cursor: str = "", status: int = 200, **extra: Any
) -> Response:
    page = members.list_members(session, row, cursor=cursor or None)
    return render(
        request, "admin/list.html", user, status=status, active_area="programs",
        static_list=members.list_public(row, page.total), members_page=page, **_pages(page, {}, cursor),
        csv_url=f"{LISTS}/{row.id}/members.csv",
        **{"form": {"name": row.name, "description": row.description}, "member_form": {}, **extra},
    )  # fmt: skip


@router.get(LISTS + "/{list_id}")
def list_page(
    request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId, cursor: Cursor = ""
) -> Response:
    return _list_page(request, session, user, lists.get_list(session, list_id), cursor=cursor)


@router.post(LISTS + "/{list_id}")
def update_list(
    request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId, form: Posted[ListForm]
) -> Response:
    row = lists.get_list(session, list_id)
    try:
        lists.update_list(session, row, utcnow(), name=form.name, description=form.description)
    except (InvalidInput, Conflict) as exc:
        refused = refuse(session, exc, form.model_dump())
        return _list_page(request, session, user, lists.get_list(session, list_id), **refused.shown())
    return succeeded(request, f"{row.name} is saved.", f"{LISTS}/{row.id}")


@router.post(LISTS + "/{list_id}/delete")
def delete_list(
    request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId, confirm: Confirmed = False
) -> Response:
    return _deleted(request, session, confirm, lists.get_list(session, list_id), LISTS)


@router.get(LISTS + "/{list_id}/members.csv")
def list_csv(request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId) -> Response:
    return list_csv_response(request, lists.get_list(session, list_id).id)


@router.post(LISTS + "/{list_id}/members")
def add_list_member(
    request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId, form: Posted[PersonForm]
) -> Response:
    row = lists.get_list(session, list_id)
    try:
        who = find_person(session, form.person)
    except InvalidInput as exc:
        shown = refuse(session, exc, form.model_dump()).shown("member_")
        return _list_page(request, session, user, lists.get_list(session, list_id), **shown)
    outcome = lists.add_to_list(session, row, who, Source.user(user.id), utcnow())
    said = "is added" if outcome == "added" else "was on the list already: nothing changed"
    return succeeded(request, f"Person {who.email or who.id} {said}.", f"{LISTS}/{row.id}#members")


@router.post(LISTS + "/{list_id}/members/{person_id}/remove")
def remove_list_member(
    request: Request, session: DbSession, user: ProgramsPageUser, list_id: RowId, person_id: RowId
) -> Response:
    return _removed(request, session, user, LISTS, lists.get_list(session, list_id), person_id)
