"""Static lists: a name and its members. `add_to_list` and `remove_from_list` are what automations call (issue 15):
idempotent (adding a member or removing a non-member writes nothing), each change a history row and a
`list.added` or `list.removed` activity in the caller's transaction. An addition is inserted in a savepoint, so
two at once leave one member and one history row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.errors import Conflict, InvalidInput, Problem
from overture.people.models import Person
from overture.programs.models import ListMember, ListMemberChange, StaticList
from overture.programs.schemas import ListOutcome
from overture.programs.service import check_description, check_name, clean_name, get_row, name_key
from overture.programs.source import Source


def get_list(session: Session, list_id: int) -> StaticList:
    return get_row(session, StaticList, list_id, "list")


def all_lists(session: Session) -> list[StaticList]:
    return list(session.scalars(select(StaticList).order_by(StaticList.name_key)))


def member_counts(session: Session) -> dict[int, int]:
    query = select(ListMember.list_id, func.count()).group_by(ListMember.list_id)
    return {list_id: count for list_id, count in session.execute(query)}


def _taken(name: str) -> Conflict:
    return Conflict(
        f"A list named {clean_name(name)} exists already.",
        [Problem("name", f"A list named {clean_name(name)} exists already: choose another name.")],
    )


def _save(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise _taken(name) from None


def _check(session: Session, name: str | None, description: str | None, own_id: int | None) -> None:
    problems: list[Problem] = []
    if name is not None:
        check_name(name, "list", problems)
    if description is not None:
        check_description(description, problems)
    if problems:
        raise InvalidInput("The list was not saved.", problems)
    if name is not None:
        taken = session.scalar(
            select(StaticList.id).where(StaticList.name_key == name_key(name), StaticList.id != (own_id or 0))
        )
        if taken is not None:
            raise _taken(name)


def create_list(session: Session, name: str, now: datetime, description: str = "") -> StaticList:
    """Adds an empty list. Raises InvalidInput (`name`, `description`) or Conflict (the name is taken)."""
    _check(session, name, description, None)
    row = StaticList(
        name=clean_name(name), name_key=name_key(name), description=description.strip(), created_at=now, updated_at=now
    )
    session.add(row)
    _save(session, name)
    return row


def update_list(
    session: Session, row: StaticList, now: datetime, *, name: str | None = None, description: str | None = None
) -> StaticList:
    _check(session, name, description, row.id)
    if name is not None:
        row.name, row.name_key = clean_name(name), name_key(name)
    if description is not None:
        row.description = description.strip()
    row.updated_at = now
    _save(session, row.name)
    return row


def delete_list(session: Session, row: StaticList) -> int:
    """Deletes the list, its members and their history; returns how many members it had."""
    count = session.scalar(select(func.count()).where(ListMember.list_id == row.id)) or 0
    session.delete(row)
    session.flush()
    return count


def is_member(session: Session, list_id: int, person_id: int) -> bool:
    found = session.scalar(
        select(ListMember.id).where(ListMember.list_id == list_id, ListMember.person_id == person_id)
    )
    return found is not None


def add_to_list(session: Session, row: StaticList, person: Person, source: Source, now: datetime) -> ListOutcome:
    """Adds the person to the list: "added", or "already a member" (nothing written)."""
    if is_member(session, row.id, person.id):
        return "already a member"
    session.flush()
    try:
        with session.begin_nested():
            session.add(ListMember(list_id=row.id, person_id=person.id, added_at=now))
            session.flush()
    except IntegrityError:
        return "already a member"  # added by another transaction at once
    _changed(session, row, person, "added", source, now)
    return "added"


def remove_from_list(session: Session, row: StaticList, person: Person, source: Source, now: datetime) -> ListOutcome:
    """Takes the person off the list: "removed", or "not a member" (nothing written)."""
    gone = session.execute(
        delete(ListMember)
        .where(ListMember.list_id == row.id, ListMember.person_id == person.id)
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return "not a member"
    _changed(session, row, person, "removed", source, now)
    return "removed"


def _changed(session: Session, row: StaticList, person: Person, action: str, source: Source, now: datetime) -> None:
    session.add(
        ListMemberChange(
            list_id=row.id,
            person_id=person.id,
            action=action,
            changed_at=now,
            source_kind=source.kind.value,
            source_ref=source.ref,
        )
    )
    kind = ActivityType.list_added if action == "added" else ActivityType.list_removed
    record(session, person, kind, now, {"list_id": row.id, "list": row.name, **source.as_attributes()})
    session.flush()
