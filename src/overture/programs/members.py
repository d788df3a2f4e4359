"""Reading members: a program's or a list's members page by page (filtered by status), their CSV, a person's
memberships with their history, and the public shapes of programs and lists.

Pages are keyset-paged on the member row's id, newest member first, so a page never skips rows; the total counts
the filter (an indexed count: `ix_program_members_program_status`, `uq_list_members_list_person`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, Problem
from overture.people.directory import display_name
from overture.people.models import Company, Person
from overture.programs.models import (
    ListMember,
    ListMemberChange,
    Program,
    ProgramMember,
    ProgramMemberChange,
    ProgramStatus,
    StaticList,
)
from overture.programs.schemas import (
    Channel,
    ListChangePublic,
    ListMemberPage,
    ListMemberPublic,
    ListMembership,
    ListPublic,
    ListRef,
    PersonBrief,
    PersonMemberships,
    ProgramChangePublic,
    ProgramMemberPage,
    ProgramMemberPublic,
    ProgramMembership,
    ProgramPublic,
    ProgramRef,
    SourcePublic,
    StatusPublic,
)
from overture.programs.service import find_status, status_counts, statuses_of
from overture.programs.source import SOURCE_LABELS, SourceKind
from overture.users.models import User

PAGE_SIZE = 50
CSV_BATCH = 1000
CURSOR_PATTERN = r"^[0-9]{1,10}$"
PROGRAM_CSV_COLUMNS = ("email", "first_name", "last_name", "company", "status", "step", "changed_at", "joined_at")
LIST_CSV_COLUMNS = ("email", "first_name", "last_name", "company", "added_at")


# --- programs and lists as the API shows them ------------------------------------------------------------------------


def program_public(session: Session, program: Program) -> ProgramPublic:
    counts = status_counts(session, [program.id])
    statuses = [
        StatusPublic(id=s.id, name=s.name, step=s.step, success=s.success, members=counts.get(s.id, 0))
        for s in statuses_of(session, program.id)
    ]
    return ProgramPublic(
        id=program.id,
        name=program.name,
        channel=Channel(program.channel),
        description=program.description,
        statuses=statuses,
        members=sum(s.members for s in statuses),
        created_at=program.created_at,
        updated_at=program.updated_at,
    )


def list_public(row: StaticList, members: int) -> ListPublic:
    return ListPublic(
        id=row.id,
        name=row.name,
        description=row.description,
        members=members,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- pages of members ----------------------------------------------------------------------------------------------


def _after(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not re.fullmatch(CURSOR_PATTERN, cursor) or not 1 <= int(cursor) <= 2_147_483_647:
        raise InvalidInput(
            "The cursor is not one this list gave out. Start again from the first page.",
            [Problem("cursor", "Use the next_cursor of the previous page.")],
        )
    return int(cursor)


def _briefs(session: Session, person_ids: Iterable[int]) -> dict[int, PersonBrief]:
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Person, Company.name, Company.domain)
        .outerjoin(Company, Company.id == Person.company_id)
        .where(Person.id.in_(ids))
    )
    return {
        person.id: PersonBrief(id=person.id, name=display_name(person), email=person.email, company=name or domain)
        for person, name, domain in rows
    }


def _program_query(session: Session, program: Program, status: str | None) -> Select[ProgramMember, ProgramStatus]:
    query = select(ProgramMember, ProgramStatus).join(ProgramStatus, ProgramStatus.id == ProgramMember.status_id)
    query = query.where(ProgramMember.program_id == program.id)
    if status:
        query = query.where(ProgramMember.status_id == find_status(session, program, status).id)
    return query


def program_members(
    session: Session, program: Program, *, status: str | None = None, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ProgramMemberPage:
    """A page of the program's members (of one status when `status` names one), newest member first. Raises
    InvalidInput for a status the program does not have or a cursor it did not give."""
    after = _after(cursor)
    query = _program_query(session, program, status)
    total = session.scalar(select(func.count()).select_from(query.with_only_columns(ProgramMember.id).subquery()))
    if after is not None:
        query = query.where(ProgramMember.id < after)
    rows = list(session.execute(query.order_by(ProgramMember.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    people = _briefs(session, (member.person_id for member, _ in rows))
    return ProgramMemberPage(
        items=[_program_member(people[m.person_id], m, s) for m, s in rows if m.person_id in people],
        total=total or 0,
        next_cursor=str(rows[-1][0].id) if more else None,
    )


def _program_member(person: PersonBrief, member: ProgramMember, status: ProgramStatus) -> ProgramMemberPublic:
    return ProgramMemberPublic(
        person=person,
        status=status.name,
        step=status.step,
        success=status.success,
        joined_at=member.joined_at,
        changed_at=member.changed_at,
    )


def program_member(session: Session, member: ProgramMember) -> ProgramMemberPublic:
    status = session.get(ProgramStatus, member.status_id)
    assert status is not None
    return _program_member(_briefs(session, [member.person_id])[member.person_id], member, status)


def list_members(
    session: Session, row: StaticList, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ListMemberPage:
    after = _after(cursor)
    query = select(ListMember).where(ListMember.list_id == row.id)
    total = session.scalar(select(func.count()).where(ListMember.list_id == row.id))
    if after is not None:
        query = query.where(ListMember.id < after)
    members = list(session.scalars(query.order_by(ListMember.id.desc()).limit(limit + 1)))
    more = len(members) > limit
    members = members[:limit]
    people = _briefs(session, (m.person_id for m in members))
    return ListMemberPage(
        items=[ListMemberPublic(person=people[m.person_id], added_at=m.added_at) for m in members],
        total=total or 0,
        next_cursor=str(members[-1].id) if more else None,
    )


# --- CSV -----------------------------------------------------------------------------------------------------------


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ would make it a formula (CSV injection), as
    scheduling/meeting_list.py writes its cells (a layer above this one)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def utc_text(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(values: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(csv_cell(value) for value in values)
    return out.getvalue()


def _people(session: Session, person_ids: Iterable[int]) -> dict[int, tuple[Person, str]]:
    ids = list(set(person_ids))
    rows = session.execute(
        select(Person, Company.name, Company.domain)
        .outerjoin(Company, Company.id == Person.company_id)
        .where(Person.id.in_(ids))
    )
    return {person.id: (person, name or domain or "") for person, name, domain in rows}


def program_csv(session: Session, program: Program, status: str | None = None) -> Iterator[str]:
    """Every member (of `status` when given) as CSV lines, times in ISO 8601 UTC, read in batches."""
    query = _program_query(session, program, status)
    yield _line(PROGRAM_CSV_COLUMNS)
    after: int | None = None
    while True:
        batch_query = query if after is None else query.where(ProgramMember.id < after)
        rows = list(session.execute(batch_query.order_by(ProgramMember.id.desc()).limit(CSV_BATCH)))
        if not rows:
            return
        people = _people(session, (m.person_id for m, _ in rows))
        for member, state in rows:
            person, company = people[member.person_id]
            yield _line(
                (person.email, person.first_name, person.last_name, company, state.name, state.step,
                 utc_text(member.changed_at), utc_text(member.joined_at))
            )  # fmt: skip
        after = rows[-1][0].id


def list_csv(session: Session, row: StaticList) -> Iterator[str]:
    yield _line(LIST_CSV_COLUMNS)
    after: int | None = None
    while True:
        query = select(ListMember).where(ListMember.list_id == row.id)
        if after is not None:
            query = query.where(ListMember.id < after)
        members = list(session.scalars(query.order_by(ListMember.id.desc()).limit(CSV_BATCH)))
        if not members:
            return
        people = _people(session, (m.person_id for m in members))
        for member in members:
            person, company = people[member.person_id]
            yield _line((person.email, person.first_name, person.last_name, company, utc_text(member.added_at)))
        after = members[-1].id


# --- a person's memberships ----------------------------------------------------------------------------------------


def _sources(session: Session, kinds_refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], SourcePublic]:
    pairs = set(kinds_refs)
    user_ids = {int(ref) for kind, ref in pairs if kind in (SourceKind.user, SourceKind.api) and ref.isdigit()}
    names = (
        {u.id: u.name or u.email for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    found = {}
    for kind, ref in pairs:
        source_kind = SourceKind(kind)
        label = SOURCE_LABELS[source_kind]
        if source_kind in (SourceKind.user, SourceKind.api):
            who = names.get(int(ref)) if ref.isdigit() else None
            text = f"{who or 'user ' + ref} ({label})" if source_kind is SourceKind.api else (who or f"User {ref}")
        elif source_kind is SourceKind.merge:
            text = f"Merge of person {ref}"
        else:
            text = f"{label} {ref}".strip()
        found[(kind, ref)] = SourcePublic(kind=source_kind.value, ref=ref, label=text)
    return found


def memberships_of(session: Session, person_id: int) -> PersonMemberships:
    """Every program and list the person is in, or was in (their history), current ones first."""
    current = {
        member.program_id: status
        for member, status in session.execute(
            select(ProgramMember, ProgramStatus)
            .join(ProgramStatus, ProgramStatus.id == ProgramMember.status_id)
            .where(ProgramMember.person_id == person_id)
        )
    }
    program_changes = list(
        session.scalars(
            select(ProgramMemberChange)
            .where(ProgramMemberChange.person_id == person_id)
            .order_by(ProgramMemberChange.changed_at.desc(), ProgramMemberChange.id.desc())
        )
    )
    on_lists = {m.list_id for m in session.scalars(select(ListMember).where(ListMember.person_id == person_id))}
    list_changes = list(
        session.scalars(
            select(ListMemberChange)
            .where(ListMemberChange.person_id == person_id)
            .order_by(ListMemberChange.changed_at.desc(), ListMemberChange.id.desc())
        )
    )
    sources = _sources(
        session,
        [(c.source_kind, c.source_ref) for c in program_changes + list_changes],
    )
    program_ids = set(current) | {c.program_id for c in program_changes}
    programs = {p.id: p for p in session.scalars(select(Program).where(Program.id.in_(program_ids)))}
    list_ids = on_lists | {c.list_id for c in list_changes}
    lists = {row.id: row for row in session.scalars(select(StaticList).where(StaticList.id.in_(list_ids)))}
    program_rows = []
    for program_id, program in programs.items():
        status = current.get(program_id)
        history = [
            ProgramChangePublic(
                from_status=c.from_status,
                from_step=c.from_step,
                to_status=c.to_status,
                to_step=c.to_step,
                changed_at=c.changed_at,
                source=sources[(c.source_kind, c.source_ref)],
            )
            for c in program_changes
            if c.program_id == program_id
        ]
        program_rows.append(
            ProgramMembership(
                program=ProgramRef(id=program.id, name=program.name, channel=Channel(program.channel)),
                status=status.name if status else None,
                step=status.step if status else None,
                success=status.success if status else False,
                history=history,
            )
        )
    list_rows = [
        ListMembership(
            static_list=ListRef(id=row.id, name=row.name),
            member=row.id in on_lists,
            history=[
                ListChangePublic(
                    action=c.action,
                    changed_at=c.changed_at,
                    source=sources[(c.source_kind, c.source_ref)],
                )
                for c in list_changes
                if c.list_id == row.id
            ],
        )
        for row in lists.values()
    ]
    program_rows.sort(key=lambda m: (m.status is None, m.program.name.casefold()))
    list_rows.sort(key=lambda m: (not m.member, m.static_list.name.casefold()))
    return PersonMemberships(programs=program_rows, lists=list_rows)
