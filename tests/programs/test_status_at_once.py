"""Two writers setting one person's status in one program at once (two automations on two activities): one
membership, and each change in the history exactly once. On PostgreSQL both read "not a member" and insert; the
second waits for the first's commit, is refused by the unique index, reads the first's row and changes its status
with a compare-and-set. On SQLite the second transaction waits for the first at its start."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from overture.db import Database
from overture.people.models import Person
from overture.programs import service
from overture.programs.models import ProgramMember, ProgramMemberChange
from overture.programs.source import Source
from racing import lined_up

from .helpers import NOW, new_person, new_program, person


def set_status(db: Database, program_id: int, person_id: int, status: str) -> str:
    with db.write() as session:
        program = service.get_program(session, program_id)
        return service.set_program_status(
            session, program, person(session, person_id), status, Source.automation(status), NOW
        ).outcome


def test_two_status_changes_at_once_leave_one_member_and_two_history_rows(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    with ThreadPoolExecutor(2) as pool, lined_up(db, select(Person.id).where(Person.id == person_id), 2):
        engaged = pool.submit(set_status, db, program_id, person_id, "Engaged")
        booked = pool.submit(set_status, db, program_id, person_id, "Meeting booked")
    outcomes = {engaged.result(timeout=30), booked.result(timeout=30)}

    assert "joined" in outcomes and outcomes <= {"joined", "progressed", "moved back"}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ProgramMember)) == 1
        changes = list(session.scalars(select(ProgramMemberChange).order_by(ProgramMemberChange.id)))
    assert [c.from_status for c in changes] == [None, changes[0].to_status]
    assert {c.to_status for c in changes} == {"Engaged", "Meeting booked"}
