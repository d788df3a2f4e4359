"""Programs: create, change and delete them with their ordered statuses, and move people through them.

`set_program_status` is what automations call (issue 15). It is idempotent: setting the status a member holds
writes nothing. With `only_forward` (what automations use, as Marketo's "Change Program Status" does) a member at
that step or a later one is left where they are; without it (an admin's choice) a status may move backward. Each
change writes a history row and a `program.status_changed` activity in the caller's transaction.

Two writers setting one member's status at once: the membership is inserted in a savepoint (the unique index on
program and person keeps one; the loser reads the winner's row), and a status changes with a compare-and-set on
the status it was read at, read again and retried when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.models import Person
from overture.programs.models import (
    DESCRIPTION_MAX,
    NAME_MAX,
    STATUS_NAME_MAX,
    Program,
    ProgramMember,
    ProgramMemberChange,
    ProgramStatus,
    StaticList,
)
from overture.programs.schemas import STATUSES_MAX, Channel, StatusIn, StatusOutcome
from overture.programs.source import Source

RETRIES = 5
Row = TypeVar("Row", Program, StaticList)


def name_key(name: str) -> str:
    """How names are compared: trimmed, any case."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    return " ".join(name.split())


# --- programs ------------------------------------------------------------------------------------------------------


def get_row(session: Session, model: type[Row], row_id: int, what: str) -> Row:
    """The program or list with this id, else NotFound naming `what` ("There is no list with id 7.")."""
    found = session.get(model, row_id)
    if found is None:
        raise NotFound(f"There is no {what} with id {row_id}.")
    return found


def get_program(session: Session, program_id: int) -> Program:
    return get_row(session, Program, program_id, "program")


def all_programs(session: Session) -> list[Program]:
    return list(session.scalars(select(Program).order_by(Program.name_key)))


def statuses_of(session: Session, program_id: int) -> list[ProgramStatus]:
    return list(
        session.scalars(
            select(ProgramStatus).where(ProgramStatus.program_id == program_id).order_by(ProgramStatus.step)
        )
    )


def status_counts(session: Session, program_ids: Sequence[int] | None = None) -> dict[int, int]:
    """How many members hold each status, by status id (of the programs given, else of all)."""
    query = select(ProgramMember.status_id, func.count()).group_by(ProgramMember.status_id)
    if program_ids is not None:
        query = query.where(ProgramMember.program_id.in_(program_ids))
    return {status_id: count for status_id, count in session.execute(query)}


def check_name(name: str, what: str, problems: list[Problem]) -> None:
    cleaned = clean_name(name)
    if not cleaned:
        problems.append(Problem("name", f"Give the {what} a name."))
    elif len(cleaned) > NAME_MAX:
        problems.append(Problem("name", f"A {what}'s name is at most {NAME_MAX} characters."))


def _check_statuses(statuses: Sequence[StatusIn], problems: list[Problem]) -> None:
    if not statuses:
        problems.append(Problem("statuses", "A program needs at least one status (for example Invited, Engaged)."))
        return
    if len(statuses) > STATUSES_MAX:
        problems.append(Problem("statuses", f"A program has at most {STATUSES_MAX} statuses."))
    seen: dict[str, int] = {}
    ids: set[int] = set()
    for index, status in enumerate(statuses):
        cleaned = clean_name(status.name)
        if not cleaned:
            problems.append(Problem(f"statuses.{index}.name", "Give the status a name."))
            continue
        if len(cleaned) > STATUS_NAME_MAX:
            problems.append(
                Problem(f"statuses.{index}.name", f"A status name is at most {STATUS_NAME_MAX} characters.")
            )
        key = name_key(cleaned)
        if key in seen:
            problems.append(
                Problem(f"statuses.{index}.name", f"'{cleaned}' is already status {seen[key] + 1}: names are unique.")
            )
        seen.setdefault(key, index)
        if status.id is not None:
            if status.id in ids:
                problems.append(Problem(f"statuses.{index}.id", f"Status id {status.id} is given twice."))
            ids.add(status.id)


def check_description(description: str, problems: list[Problem]) -> None:
    if len(description) > DESCRIPTION_MAX:
        problems.append(Problem("description", f"The description is at most {DESCRIPTION_MAX} characters."))


def _channel(channel: str, problems: list[Problem]) -> Channel | None:
    try:
        return Channel(channel)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        problems.append(Problem("channel", f"'{channel}' is not a channel. Choose one of: {allowed}."))
        return None


def _refuse_taken_name(session: Session, name: str, own_id: int | None) -> None:
    taken = session.scalar(select(Program).where(Program.name_key == name_key(name), Program.id != (own_id or 0)))
    if taken is not None:
        raise Conflict(
            f"A program named {taken.name} exists already.",
            [Problem("name", f"A program named {taken.name} exists already: choose another name.")],
        )


def create_program(
    session: Session, name: str, channel: str, statuses: Sequence[StatusIn], now: datetime, description: str = ""
) -> Program:
    """Adds a program with its statuses in the order given (the first is step 1). Raises InvalidInput (every
    problem by field: `name`, `channel`, `statuses`, `statuses.N.name`) or Conflict (the name is taken)."""
    problems: list[Problem] = []
    check_name(name, "program", problems)
    chosen = _channel(channel, problems)
    check_description(description, problems)
    _check_statuses(statuses, problems)
    if any(status.id is not None for status in statuses):
        problems.append(Problem("statuses", "A new program's statuses are all new: give them no id."))
    if problems or chosen is None:
        raise InvalidInput("The program was not saved.", problems)
    _refuse_taken_name(session, name, None)
    program = Program(
        name=clean_name(name),
        name_key=name_key(name),
        channel=chosen.value,
        description=description.strip(),
        created_at=now,
        updated_at=now,
    )
    session.add(program)
    _flush_unique(session, name)
    for step, status in enumerate(statuses, start=1):
        session.add(_new_status(program.id, status, step))
    session.flush()
    return program


def _flush_unique(session: Session, name: str) -> None:
    """Flushes in a savepoint: a program named the same by another transaction at once is a Conflict, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"A program named {clean_name(name)} exists already.",
            [Problem("name", f"A program named {clean_name(name)} exists already: choose another name.")],
        ) from None


def _new_status(program_id: int, status: StatusIn, step: int) -> ProgramStatus:
    cleaned = clean_name(status.name)
    return ProgramStatus(
        program_id=program_id, name=cleaned, name_key=name_key(cleaned), step=step, success=status.success
    )


def update_program(
    session: Session,
    program: Program,
    now: datetime,
    *,
    name: str | None = None,
    channel: str | None = None,
    description: str | None = None,
    statuses: Sequence[StatusIn] | None = None,
) -> Program:
    """Changes what is given. `statuses` is the whole new list in order: an entry with the id of an existing status
    keeps it (members keep holding it, renamed or moved), one without an id is new, an existing status left out is
    deleted, which is refused while members hold it (with how many). Raises InvalidInput, Conflict."""
    problems: list[Problem] = []
    if name is not None:
        check_name(name, "program", problems)
    chosen = _channel(channel, problems) if channel is not None else None
    if description is not None:
        check_description(description, problems)
    existing = {status.id: status for status in statuses_of(session, program.id)}
    if statuses is not None:
        _check_statuses(statuses, problems)
        for index, status in enumerate(statuses):
            if status.id is not None and status.id not in existing:
                problems.append(Problem(f"statuses.{index}.id", f"Status id {status.id} is not one of this program's."))
    if problems:
        raise InvalidInput("The program was not saved.", problems)
    if name is not None:
        _refuse_taken_name(session, name, program.id)
        program.name, program.name_key = clean_name(name), name_key(name)
    if chosen is not None:
        program.channel = chosen.value
    if description is not None:
        program.description = description.strip()
    if statuses is not None:
        _replace_statuses(session, program, existing, statuses)
    program.updated_at = now
    _flush_unique(session, program.name)
    return program


def _replace_statuses(
    session: Session, program: Program, existing: dict[int, ProgramStatus], statuses: Sequence[StatusIn]
) -> None:
    kept = {status.id for status in statuses if status.id is not None}
    dropped = [row for row_id, row in existing.items() if row_id not in kept]
    if dropped:
        counts = status_counts(session, [program.id])
        held = [(row, counts.get(row.id, 0)) for row in dropped if counts.get(row.id, 0)]
        if held:
            said = "; ".join(f"{row.name} is held by {_members(count)}" for row, count in held)
            raise Conflict(
                f"A status that members hold cannot be deleted: {said}. Move them to another status first.",
                [Problem("statuses", f"{said}: move them to another status first, or keep it.")],
            )
        for row in dropped:
            session.delete(row)
        session.flush()
    # Renames go through a free name first, so that two statuses swapping names never collide in the unique index.
    for status in statuses:
        if status.id is not None and existing[status.id].name_key != name_key(status.name):
            existing[status.id].name_key = f" {status.id}"  # no cleaned name starts with a space
    session.flush()
    for step, status in enumerate(statuses, start=1):
        if status.id is None:
            session.add(_new_status(program.id, status, step))
            continue
        row = existing[status.id]
        row.name, row.name_key = clean_name(status.name), name_key(status.name)
        row.step, row.success = step, status.success
    session.flush()


def _members(count: int) -> str:
    return f"{count} member" + ("" if count == 1 else "s")


def delete_program(session: Session, program: Program) -> int:
    """Deletes the program, its statuses, members and their history; returns how many members it had. Their
    activities stay (they name the program)."""
    count = session.scalar(select(func.count()).where(ProgramMember.program_id == program.id)) or 0
    session.execute(delete(ProgramMember).where(ProgramMember.program_id == program.id))
    session.delete(program)
    session.flush()
    return count


# --- members -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    """What `set_program_status` did: the outcome, and the member as they are now."""

    outcome: StatusOutcome
    member: ProgramMember
    status: ProgramStatus
    previous: ProgramStatus | None


def find_status(session: Session, program: Program, status: str) -> ProgramStatus:
    """The program's status of that name (any case). Raises InvalidInput naming the statuses there are."""
    found = session.scalar(
        select(ProgramStatus).where(ProgramStatus.program_id == program.id, ProgramStatus.name_key == name_key(status))
    )
    if found is None:
        names = ", ".join(s.name for s in statuses_of(session, program.id))
        raise InvalidInput(
            f"{program.name} has no status '{status}'.",
            [Problem("status", f"'{status}' is not a status of {program.name}. Its statuses: {names}.")],
        )
    return found


def member_of(session: Session, program_id: int, person_id: int) -> ProgramMember | None:
    return session.scalar(
        select(ProgramMember).where(ProgramMember.program_id == program_id, ProgramMember.person_id == person_id)
    )


def set_program_status(
    session: Session,
    program: Program,
    person: Person,
    status: str | ProgramStatus,
    source: Source,
    now: datetime,
    only_forward: bool = False,
) -> StatusChange:
    """Makes `person` a member of `program` at `status` (a name, any case, or one of its statuses). Writes a
    history row and a `program.status_changed` activity when something changed; nothing when the member holds the
    status already ("unchanged") or, with `only_forward`, a later one ("not moved back"). Raises InvalidInput for
    a status the program does not have."""
    target = status if isinstance(status, ProgramStatus) else find_status(session, program, status)
    if target.program_id != program.id:
        raise InvalidInput("The status is not one of this program's.", [Problem("status", "Not this program's.")])
    for _ in range(RETRIES):
        member = member_of(session, program.id, person.id)
        if member is None:
            member = _join(session, program, person, target, now)
            if member is None:
                continue  # another transaction added them first: read their row and go on from it
            _changed(session, program, person, None, target, source, now)
            return StatusChange("joined", member, target, None)
        current = session.get(ProgramStatus, member.status_id)
        assert current is not None  # a status members hold cannot be deleted
        if current.id == target.id:
            return StatusChange("unchanged", member, target, current)
        if only_forward and target.step < current.step:
            return StatusChange("not moved back", member, current, current)
        moved = session.execute(
            update(ProgramMember)
            .where(ProgramMember.id == member.id, ProgramMember.status_id == current.id)
            .values(status_id=target.id, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        session.expire(member)
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another writer changed it since we read it: read again
        _changed(session, program, person, current, target, source, now)
        return StatusChange("progressed" if target.step > current.step else "moved back", member, target, current)
    raise Conflict(f"The status of person {person.id} in {program.name} kept changing; try again.")


def _join(
    session: Session, program: Program, person: Person, status: ProgramStatus, now: datetime
) -> ProgramMember | None:
    """Inserts the membership in a savepoint; None when another transaction inserted it first."""
    member = ProgramMember(
        program_id=program.id, person_id=person.id, status_id=status.id, joined_at=now, changed_at=now
    )
    session.flush()
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:
        return None
    return member


def _changed(
    session: Session,
    program: Program,
    person: Person,
    before: ProgramStatus | None,
    after: ProgramStatus | None,
    source: Source,
    now: datetime,
) -> None:
    session.add(
        ProgramMemberChange(
            program_id=program.id,
            person_id=person.id,
            from_status=before.name if before else None,
            from_step=before.step if before else None,
            to_status=after.name if after else None,
            to_step=after.step if after else None,
            changed_at=now,
            source_kind=source.kind.value,
            source_ref=source.ref,
        )
    )
    attributes = {
        "program_id": program.id,
        "program": program.name,
        "channel": program.channel,
        "from_status": before.name if before else None,
        "from_step": before.step if before else None,
        **source.as_attributes(),
    }
    if after is None:
        record(session, person, ActivityType.program_removed, now, attributes)
    else:
        progressed = before is None or after.step > before.step
        attributes |= {"to_status": after.name, "to_step": after.step, "progression": progressed}
        attributes["success"] = after.success
        record(session, person, ActivityType.program_status_changed, now, attributes)
    session.flush()


def remove_from_program(session: Session, program: Program, person: Person, source: Source, now: datetime) -> bool:
    """Ends the person's membership (history and a `program.removed` activity); False when they were not in it."""
    member = member_of(session, program.id, person.id)
    if member is None:
        return False
    status = session.get(ProgramStatus, member.status_id)
    gone = session.execute(
        delete(ProgramMember).where(ProgramMember.id == member.id).execution_options(synchronize_session=False)
    )
    session.expunge(member)
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        return False  # removed by another writer meanwhile: that one recorded it
    _changed(session, program, person, status, None, source, now)
    return True
