"""Moving people through a program (programs/service.py): joining, progression, moving back only when allowed,
idempotence, the history with its source and the activity, each written in the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.programs import members, service
from overture.programs.models import ProgramMember, ProgramMemberChange
from overture.programs.schemas import StatusIn
from overture.programs.source import Source

from .helpers import LATER, NOW, activities_of, new_person, new_program, person


def set_status(db: Database, program_id: int, person_id: int, status: str, **options: object) -> str:
    with db.write() as session:
        program = service.get_program(session, program_id)
        source = options.pop("source", Source.automation(7))
        at = options.pop("now", NOW)
        change = service.set_program_status(
            session,
            program,
            person(session, person_id),
            status,
            source,
            at,
            **options,  # type: ignore[arg-type]
        )
        return change.outcome


def history(db: Database, person_id: int) -> list[tuple[str | None, str | None, str, str]]:
    with db.read() as session:
        rows = session.scalars(
            select(ProgramMemberChange)
            .where(ProgramMemberChange.person_id == person_id)
            .order_by(ProgramMemberChange.id)
        )
        return [(r.from_status, r.to_status, r.source_kind, r.source_ref) for r in rows]


def test_a_person_joins_then_progresses_with_a_history_row_and_an_activity_for_each_change(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)

    assert set_status(db, program_id, person_id, "Invited") == "joined"
    assert set_status(db, program_id, person_id, "meeting BOOKED", now=LATER) == "progressed"

    assert history(db, person_id) == [
        (None, "Invited", "automation", "7"),
        ("Invited", "Meeting booked", "automation", "7"),
    ]
    recorded = activities_of(db, person_id, "program.")
    assert [a.type for a in recorded] == ["program.status_changed", "program.status_changed"]
    assert recorded[1].attributes == {
        "program_id": program_id, "program": "Spring chat", "channel": "chat", "from_status": "Invited",
        "from_step": 1, "to_status": "Meeting booked", "to_step": 3, "progression": True, "success": False,
        "source": "automation", "source_ref": "7",
    }  # fmt: skip
    with db.read() as session:
        member = session.scalar(select(ProgramMember))
        assert member is not None and (member.joined_at, member.changed_at) == (NOW, LATER)


def test_setting_the_status_a_member_holds_writes_nothing(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Engaged")

    assert set_status(db, program_id, person_id, "Engaged", now=LATER) == "unchanged"

    assert len(history(db, person_id)) == 1
    assert len(activities_of(db, person_id, "program.")) == 1


def test_only_forward_leaves_a_member_at_a_later_step_where_they_are(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Attended")

    assert set_status(db, program_id, person_id, "Engaged", only_forward=True) == "not moved back"
    assert set_status(db, program_id, person_id, "Attended", only_forward=True) == "unchanged"
    with db.read() as session:
        page = members.program_members(session, service.get_program(session, program_id))
    assert [m.status for m in page.items] == ["Attended"]
    assert len(history(db, person_id)) == 1


def test_without_only_forward_an_admin_may_move_a_member_back(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Attended")

    outcome = set_status(db, program_id, person_id, "Invited", source=Source.user(3))

    assert outcome == "moved back"
    assert history(db, person_id)[-1] == ("Attended", "Invited", "user", "3")
    assert activities_of(db, person_id, "program.")[-1].attributes["progression"] is False


def test_a_status_the_program_lacks_is_refused_naming_the_ones_it_has(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    with pytest.raises(InvalidInput) as refused:
        set_status(db, program_id, person_id, "Registered")
    assert refused.value.problems[0].path == "status"
    assert "Invited, Engaged, Meeting booked, Attended" in refused.value.problems[0].message
    assert history(db, person_id) == []


def test_a_refused_transaction_leaves_neither_the_status_nor_its_activity(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    with pytest.raises(RuntimeError), db.write() as session:
        program = service.get_program(session, program_id)
        service.set_program_status(session, program, person(session, person_id), "Engaged", Source.api(1), NOW)
        raise RuntimeError("the caller's transaction fails later")
    assert history(db, person_id) == []
    assert activities_of(db, person_id, "program.") == []


def test_removing_a_member_records_it_and_removing_again_does_nothing(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Engaged")
    for expected in (True, False):
        with db.write() as session:
            program = service.get_program(session, program_id)
            assert (
                service.remove_from_program(session, program, person(session, person_id), Source.api(1), LATER)
                is expected
            )
    assert history(db, person_id)[-1] == ("Engaged", None, "api", "1")
    assert [a.type for a in activities_of(db, person_id, "program.")] == ["program.status_changed", "program.removed"]


# --- programs and their statuses ------------------------------------------------------------------------------------


def test_a_program_is_refused_with_every_problem_by_field(db: Database) -> None:
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        service.create_program(
            session, "  ", "fax", [StatusIn(name="Invited"), StatusIn(name="invited "), StatusIn(name="")], NOW
        )
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("name", "Give the program a name."),
        ("channel", "'fax' is not a channel. Choose one of: chat, webinar, email, event, content, advertising, other."),
        ("statuses.1.name", "'invited' is already status 1: names are unique."),
        ("statuses.2.name", "Give the status a name."),
    ]
    with pytest.raises(InvalidInput) as empty, db.write() as session:
        service.create_program(session, "Webinar", "webinar", [], NOW)
    assert [p.path for p in empty.value.problems] == ["statuses"]


def test_two_programs_cannot_share_a_name_in_any_case(db: Database) -> None:
    new_program(db, "Spring chat")
    with pytest.raises(Conflict) as refused:
        new_program(db, "SPRING  chat")
    assert refused.value.problems[0].path == "name"


def test_statuses_are_renamed_reordered_and_added_while_members_keep_theirs(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Engaged")
    with db.write() as session:
        program = service.get_program(session, program_id)
        ids = {s.name: s.id for s in service.statuses_of(session, program_id)}
        service.update_program(
            session,
            program,
            LATER,
            statuses=[
                StatusIn(id=ids["Invited"], name="Invited"),
                StatusIn(id=ids["Engaged"], name="Chatted"),
                StatusIn(name="Qualified"),
                StatusIn(id=ids["Attended"], name="Meeting booked", success=True),
                StatusIn(id=ids["Meeting booked"], name="Attended", success=True),
            ],
        )
    with db.read() as session:
        shown = members.program_public(session, service.get_program(session, program_id))
    assert [(s.name, s.step, s.members) for s in shown.statuses] == [
        ("Invited", 1, 0), ("Chatted", 2, 1), ("Qualified", 3, 0), ("Meeting booked", 4, 0), ("Attended", 5, 0)
    ]  # fmt: skip


def test_deleting_a_status_that_members_hold_is_refused_with_the_count(db: Database) -> None:
    program_id = new_program(db)
    for _ in range(2):
        set_status(db, program_id, new_person(db), "Engaged")
    with pytest.raises(Conflict) as refused, db.write() as session:
        program = service.get_program(session, program_id)
        kept = [s for s in service.statuses_of(session, program_id) if s.name != "Engaged"]
        service.update_program(session, program, LATER, statuses=[StatusIn(id=s.id, name=s.name) for s in kept])
    assert "Engaged is held by 2 members" in refused.value.message
    assert refused.value.problems[0].path == "statuses"
    with db.write() as session:
        program = service.get_program(session, program_id)
        kept = [s for s in service.statuses_of(session, program_id) if s.name != "Invited"]
        service.update_program(session, program, LATER, statuses=[StatusIn(id=s.id, name=s.name) for s in kept])
        assert [s.name for s in service.statuses_of(session, program_id)] == ["Engaged", "Meeting booked", "Attended"]


def test_deleting_a_program_deletes_its_members_and_keeps_their_activities(db: Database) -> None:
    program_id, person_id = new_program(db), new_person(db)
    set_status(db, program_id, person_id, "Engaged")
    with db.write() as session:
        assert service.delete_program(session, service.get_program(session, program_id)) == 1
    assert history(db, person_id) == []
    assert len(activities_of(db, person_id, "program.")) == 1
