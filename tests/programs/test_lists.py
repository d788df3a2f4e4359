"""Static lists (programs/lists.py): adding and removing people idempotently, with history and activities."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.programs import lists, members
from overture.programs.models import ListMemberChange
from overture.programs.source import Source

from .helpers import LATER, NOW, activities_of, new_person, person


def new_list(db: Database, name: str = "Follow up") -> int:
    with db.write() as session:
        return lists.create_list(session, name, NOW).id


AUTOMATION = Source.automation(2)


def change(db: Database, list_id: int, person_id: int, add: bool, source: Source = AUTOMATION) -> str:
    with db.write() as session:
        row = lists.get_list(session, list_id)
        call = lists.add_to_list if add else lists.remove_from_list
        return call(session, row, person(session, person_id), source, LATER)


def test_adding_twice_and_removing_twice_write_one_change_each(db: Database) -> None:
    list_id, person_id = new_list(db), new_person(db)

    assert [change(db, list_id, person_id, True) for _ in range(2)] == ["added", "already a member"]
    assert [change(db, list_id, person_id, False) for _ in range(2)] == ["removed", "not a member"]

    with db.read() as session:
        rows = list(session.scalars(select(ListMemberChange).order_by(ListMemberChange.id)))
        assert [(r.action, r.source_kind, r.source_ref, r.changed_at) for r in rows] == [
            ("added", "automation", "2", LATER), ("removed", "automation", "2", LATER)
        ]  # fmt: skip
    recorded = activities_of(db, person_id, "list.")
    assert [a.type for a in recorded] == ["list.added", "list.removed"]
    assert recorded[0].attributes == {
        "list_id": list_id,
        "list": "Follow up",
        "source": "automation",
        "source_ref": "2",
    }


def test_a_person_is_on_many_lists_and_the_page_counts_each(db: Database) -> None:
    first, second = new_list(db, "Follow up"), new_list(db, "Event guests")
    people = [new_person(db) for _ in range(3)]
    for person_id in people:
        change(db, first, person_id, True)
    change(db, second, people[0], True)
    with db.read() as session:
        assert lists.member_counts(session) == {first: 3, second: 1}
        page = members.list_members(session, lists.get_list(session, first), limit=2)
        assert [m.person.id for m in page.items] == [people[2], people[1]] and page.total == 3
        rest = members.list_members(session, lists.get_list(session, first), cursor=page.next_cursor, limit=2)
        assert [m.person.id for m in rest.items] == [people[0]] and rest.next_cursor is None


def test_list_names_are_required_and_unique(db: Database) -> None:
    new_list(db, "Follow up")
    with pytest.raises(Conflict), db.write() as session:
        lists.create_list(session, "follow UP", NOW)
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        lists.create_list(session, " ", NOW)
    assert refused.value.problems[0].path == "name"
