"""A merge of two people (people/identity.py) carries their programs and lists over, the survivor keeping the later
step where both are members; a privacy deletion deletes a person's memberships and history."""

from __future__ import annotations

from sqlalchemy import func, select

from overture.db import Database
from overture.people import identity, privacy
from overture.programs import lists, members, service
from overture.programs.models import ListMember, ListMemberChange, ProgramMember, ProgramMemberChange
from overture.programs.source import Source

from .helpers import LATER, NOW, activities_of, new_person, new_program, person


def set_status(db: Database, program_id: int, person_id: int, status: str, at: object = NOW) -> None:
    with db.write() as session:
        program = service.get_program(session, program_id)
        service.set_program_status(session, program, person(session, person_id), status, Source.automation(1), at)  # type: ignore[arg-type]


def add(db: Database, list_id: int, person_id: int, at: object = NOW) -> None:
    with db.write() as session:
        lists.add_to_list(session, lists.get_list(session, list_id), person(session, person_id), Source.user(1), at)  # type: ignore[arg-type]


def merge(db: Database, merged_id: int, survivor_id: int) -> None:
    with db.write() as session:
        identity.merge(session, person(session, merged_id), person(session, survivor_id), LATER, reason="test")


def statuses(db: Database, program_id: int) -> dict[int, str]:
    with db.read() as session:
        page = members.program_members(session, service.get_program(session, program_id))
        return {m.person.id: m.status for m in page.items}


def test_a_merge_keeps_the_later_step_of_a_program_both_are_in_and_moves_the_rest(db: Database) -> None:
    both, anonymous_only, known_ahead = new_program(db, "Both"), new_program(db, "Anonymous"), new_program(db, "Ahead")
    anonymous = new_person(db)
    known = new_person(db, email="ada@example.com")
    set_status(db, both, known, "Invited")
    set_status(db, both, anonymous, "Meeting booked")
    set_status(db, anonymous_only, anonymous, "Engaged")
    set_status(db, known_ahead, known, "Attended")
    set_status(db, known_ahead, anonymous, "Engaged")

    merge(db, anonymous, known)

    assert statuses(db, both) == {known: "Meeting booked"}
    assert statuses(db, anonymous_only) == {known: "Engaged"}
    assert statuses(db, known_ahead) == {known: "Attended"}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ProgramMember)) == 3
        shown = members.memberships_of(session, known)
    by_name = {m.program.name: m for m in shown.programs}
    # Newest first: the merge's own row, then both people's earlier changes, now all the survivor's.
    assert [(c.from_status, c.to_status, c.source.kind) for c in by_name["Both"].history] == [
        ("Invited", "Meeting booked", "merge"), (None, "Meeting booked", "automation"), (None, "Invited", "automation")
    ]  # fmt: skip
    assert by_name["Both"].history[0].source.label == f"Merge of person {anonymous}"
    assert [(c.from_status, c.to_status) for c in by_name["Ahead"].history] == [(None, "Engaged"), (None, "Attended")]


def test_a_merge_keeps_one_list_membership_added_at_the_earlier_time(db: Database) -> None:
    with db.write() as session:
        shared = lists.create_list(session, "Shared", NOW).id
        theirs = lists.create_list(session, "Theirs", NOW).id
    anonymous, known = new_person(db), new_person(db, email="ada@example.com")
    add(db, shared, anonymous, NOW)
    add(db, shared, known, LATER)
    add(db, theirs, anonymous)

    merge(db, anonymous, known)

    with db.read() as session:
        rows = list(session.scalars(select(ListMember).order_by(ListMember.list_id)))
        assert [(r.list_id, r.person_id, r.added_at) for r in rows] == [(shared, known, NOW), (theirs, known, NOW)]
        moved = session.scalars(select(ListMemberChange.person_id))
        assert set(moved) == {known}


def test_deleting_a_person_deletes_their_memberships_and_history_and_anonymises_their_activities(db: Database) -> None:
    program_id, person_id, other = new_program(db), new_person(db, email="gone@example.com"), new_person(db)
    with db.write() as session:
        list_id = lists.create_list(session, "Follow up", NOW).id
    set_status(db, program_id, person_id, "Engaged")
    set_status(db, program_id, other, "Invited")
    add(db, list_id, person_id)
    with db.read() as session:
        exported = privacy.export_person(session, person_id, "test", LATER)
    assert [row["to_status"] for row in exported["program_member_changes"]] == ["Engaged"]
    assert len(exported["list_members"]) == 1

    with db.write() as session:
        report = privacy.delete_person(session, person_id, "test", LATER)

    assert report.deleted["program_members"] == 1 and report.deleted["list_members"] == 1
    assert report.deleted["program_member_changes"] == 1 and report.deleted["list_member_changes"] == 1
    assert statuses(db, program_id) == {other: "Invited"}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ProgramMemberChange)) == 1
        assert lists.member_counts(session) == {}
    assert activities_of(db, person_id, "program.") == []
