"""The retention purge's first run on a big SQLite database: 1,000,000 page views and 1,000,000 activities older
than their window, beside 100,000 recent ones of each that stay.

Prints the rows deleted and how long the whole purge took, then `longest hold of the write lock: N ms`, the longest
writing transaction of the purge (a batch), beside `one DELETE statement: N ms` for the same rows in one
transaction on an identical copy, and their ratio: how much shorter the longest wait a visitor's write can meet
during a purge is than with one giant transaction (target: the purge never holds the lock for more than a second).

Run: .venv-dev/bin/python bench/retention.py   (about a minute)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, event, insert

from overture.activities.models import Activity
from overture.analytics import retention
from overture.db import Database, migrate
from overture.people.models import PageView, Person

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OLD, RECENT = 1_000_000, 100_000
CHUNK = 50_000


def load(db: Database) -> None:
    with db.write() as session:
        person = Person(created_at=NOW, last_seen_at=NOW)
        session.add(person)
        session.flush()
        person_id = person.id
    for count, age in ((OLD, timedelta(days=120)), (RECENT, timedelta(days=10))):
        at = NOW - age
        for start in range(0, count, CHUNK):
            size = min(CHUNK, count - start)
            with db.write() as session:
                session.execute(
                    insert(PageView),
                    [{"person_id": person_id, "url": "https://example.com/p", "session_number": 1, "occurred_at": at}]
                    * size,
                )
                session.execute(
                    insert(Activity),
                    [{"person_id": person_id, "type": "dialogue.triggered", "occurred_at": at, "session_number": 1,
                      "attributes": {}}] * size,
                )  # fmt: skip


def longest_write_ms(db: Database) -> list[float]:
    """Times every writing transaction (BEGIN IMMEDIATE to COMMIT) on the database's engine."""
    held: list[float] = []
    began: list[float] = []
    event.listen(db.engine, "begin", lambda _connection: began.append(time.perf_counter()))
    event.listen(db.engine, "commit", lambda _connection: held.append((time.perf_counter() - began.pop()) * 1000))
    event.listen(db.engine, "rollback", lambda _connection: began.pop() if began else None)
    return held


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="overture-retention-"))
    try:
        path = folder / "purge.db"
        db = Database.from_url(f"sqlite:///{path}")
        migrate(db.engine)
        started = time.perf_counter()
        load(db)
        print(f"loaded {2 * (OLD + RECENT):,} rows in {time.perf_counter() - started:.0f} s", flush=True)  # noqa: T201
        db.dispose()
        shutil.copy(path, folder / "one.db")

        db = Database.from_url(f"sqlite:///{path}")
        held = longest_write_ms(db)
        started = time.perf_counter()
        deleted = retention.purge(db, retention.Windows(), NOW)
        took = time.perf_counter() - started
        print(f"purge: deleted {sum(deleted.values()):,} rows in {took:.1f} s, {len(held)} transactions")  # noqa: T201
        db.dispose()

        one = Database.from_url(f"sqlite:///{folder / 'one.db'}")
        cutoff = NOW - timedelta(days=90)
        started = time.perf_counter()
        with one.write() as session:
            session.execute(delete(PageView).where(PageView.occurred_at < cutoff))
            session.execute(delete(Activity).where(Activity.occurred_at < cutoff))
        single = (time.perf_counter() - started) * 1000
        one.dispose()
        longest = max(held)
        print(f"longest hold of the write lock: {longest:.0f} ms")  # noqa: T201
        print(f"one DELETE statement: {single:.0f} ms")  # noqa: T201
        print(f"one DELETE / longest batch: {single / longest:.0f}x")  # noqa: T201
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
