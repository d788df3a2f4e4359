"""A new browser's id seen for the first time by two transactions at once (a conversation started, or an identify
call, beside a page view in another process): both go on with one person. On PostgreSQL the second writes the same
new visitor id while the first has not committed; it waits, is refused by the primary key, and takes the first's
person (before the fix, a 500). On SQLite the second transaction waits for the first at its start."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from overture.db import Database
from overture.people import service as people
from overture.people.models import Person
from racing import waiting_on_locks

from support import ENGINE

NOW = datetime(2027, 5, 4, 9, 30, tzinfo=UTC)
VISITOR = "v_" + "f" * 24  # made by the widget, unknown to the database

second_waits = threading.Event()


def first_sight(db: Database, at: datetime, wrote: threading.Event | None = None) -> tuple[int, str]:
    with db.write() as session:
        person, visitor_id = people.visitor(session, VISITOR, at)
        if wrote is not None:
            wrote.set()
            assert second_waits.wait(timeout=30)  # hold the transaction until the other one waits on our row
        return person.id, visitor_id


def test_two_first_sights_of_one_new_browser_at_once_make_one_person(db: Database) -> None:
    first_wrote = threading.Event()
    second_waits.clear()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(first_sight, db, NOW, first_wrote)
        assert first_wrote.wait(timeout=30)
        second = pool.submit(first_sight, db, NOW + timedelta(seconds=1))
        if ENGINE == "postgresql":
            while waiting_on_locks(db) < 1 and not second.done():
                threading.Event().wait(0.05)  # polling the other transaction's progress (bounded by the timeout)
        second_waits.set()
        first_person, first_id = first.result(timeout=30)
        second_person, second_id = second.result(timeout=30)

    assert (second_person, second_id) == (first_person, first_id) == (first_person, VISITOR)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
