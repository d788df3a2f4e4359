"""The first two page views of a new browser, seen by two processes at once: both answer, and the browser is one
person. On PostgreSQL the second transaction writes the same new visitor id while the first has not committed; it
waits, is refused by the primary key, and goes on with the first's person (before the fix, a 500). On SQLite the
second transaction waits for the first at its start, so it finds the person made."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from overture.db import Database
from overture.people.models import PageView, Person, VisitorIdentity
from overture.visits.selector_cache import SelectorCache
from overture.visits.service import Visit, record_visit
from racing import waiting_on_locks

from support import ENGINE, ensure_site

NOW = datetime(2027, 5, 4, 9, 30, tzinfo=UTC)
VISITOR = "v_" + "n" * 24  # a new browser's id, made by the widget, unknown to the database


def visit(db: Database, cache: SelectorCache, page: str, at: datetime, started: threading.Event | None = None) -> str:
    """Records one page view of VISITOR in its own writing transaction; `started` is set once it has written."""
    with db.write() as session:
        connection = session.connection()
        result = record_visit(
            connection, cache, Visit(site="www", url=page, visitor_id=VISITOR), at, origin=None, own_origin=""
        )
        if started is not None:
            started.set()
            # Hold the transaction open until the other one waits on our row (PostgreSQL) or has started (SQLite).
            assert second_waits.wait(timeout=30)
        return result.visitor_id


second_waits = threading.Event()


def test_two_first_page_views_of_one_new_browser_at_once_make_one_person(db: Database) -> None:
    with db.write() as session:
        ensure_site(session, "www")
    cache = SelectorCache()
    first_wrote = threading.Event()
    second_waits.clear()

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(visit, db, cache, "https://example.com/", NOW, first_wrote)
        assert first_wrote.wait(timeout=30)
        second = pool.submit(visit, db, cache, "https://example.com/pricing", NOW + timedelta(seconds=1))
        if ENGINE == "postgresql":
            while waiting_on_locks(db) < 1 and not second.done():
                threading.Event().wait(0.05)  # polling the other transaction's progress (bounded by the timeout)
        second_waits.set()
        assert (first.result(timeout=30), second.result(timeout=30)) == (VISITOR, VISITOR)

    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
        [person_id] = session.scalars(select(VisitorIdentity.person_id).where(VisitorIdentity.visitor_id == VISITOR))
        pages = session.scalars(select(PageView.url).where(PageView.person_id == person_id).order_by(PageView.id))
        assert list(pages) == ["https://example.com/", "https://example.com/pricing"]
