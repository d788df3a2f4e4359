"""Making a race certain on PostgreSQL: hold some rows locked until every contender waits on a lock, then let them
all go at once. Each contender has then read what it decided on, and none has committed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Select, text

from overture.db import Database


@contextmanager
def lined_up(db: Database, rows: Select[tuple[int]], contenders: int) -> Iterator[None]:
    """On PostgreSQL, holds the rows `rows` selects locked while the block runs (it sets the contenders off), then
    until `contenders` transactions wait on a lock (bounded), then releases them. On SQLite, where a writing
    transaction holds the whole database from its start, nothing is held: the block just runs."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as holder:
        holder.execute(rows.with_for_update())
        yield
        deadline = time.monotonic() + 30
        while waiting_on_locks(db) < contenders and time.monotonic() < deadline:
            time.sleep(0.05)  # polling other connections' progress (bounded), not timing behaviour
        assert waiting_on_locks(db) == contenders, f"{contenders} transactions wait on a lock"
        holder.rollback()


def waiting_on_locks(db: Database) -> int:
    """How many transactions of this database wait on a lock now."""
    with db.engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )) or 0)  # fmt: skip
