"""The group committer: concurrent write jobs share one transaction, each job succeeds or fails alone, and a job's
caller hears back only once its batch is committed."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from overture.db import Database, utcnow
from overture.group_commit import GroupCommitter
from overture.signals import Signal

signals = Signal.__table__
# What each engine says when a primary key is given twice.
DUPLICATE = {
    "sqlite": "UNIQUE constraint failed: signals.name",
    "postgresql": 'duplicate key value violates unique constraint "pk_signals"',
}


def add_signal(name: str) -> object:
    def job(connection: Connection) -> str:
        connection.execute(insert(signals).values(name=name, generation=1))
        return name

    return job


def names(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(connection.scalars(select(signals.c.name)))


def test_jobs_queued_while_a_batch_is_written_share_the_next_commit(db: Database) -> None:
    committer = GroupCommitter(db.engine)
    release = threading.Event()
    started = threading.Event()

    def slow(connection: Connection) -> None:
        started.set()
        release.wait(10)

    try:
        first = committer.submit(slow)
        started.wait(10)
        waiting = [committer.submit(add_signal(f"s{i}")) for i in range(20)]
        assert not any(f.done() for f in waiting), "nobody hears back before their commit"
        release.set()
        assert [f.result(10) for f in waiting] == [f"s{i}" for i in range(20)]
        first.result(10)
        assert committer.batches == 2, "twenty jobs, one commit"
    finally:
        committer.stop()
    assert {f"s{i}" for i in range(20)} <= names(db)


def test_a_failing_job_rolls_back_alone_and_its_caller_gets_the_error(db: Database) -> None:
    committer = GroupCommitter(db.engine)
    release = threading.Event()
    try:
        blocker = committer.submit(lambda connection: release.wait(10))
        good: Future[object] = committer.submit(add_signal("kept"))
        duplicate_then_fail: Future[object] = committer.submit(add_signal("kept"))  # primary key clash
        also_good: Future[object] = committer.submit(add_signal("also-kept"))
        release.set()
        blocker.result(10)
        assert good.result(10) == "kept" and also_good.result(10) == "also-kept"
        with pytest.raises(IntegrityError, match=DUPLICATE[db.engine.dialect.name]):
            duplicate_then_fail.result(10)
    finally:
        committer.stop()
    assert {"kept", "also-kept"} <= names(db)


def test_what_the_caller_is_told_is_already_committed(db: Database) -> None:
    committer = GroupCommitter(db.engine)
    try:
        for i in range(5):
            committer.run_sync(add_signal(f"d{i}"))
            with db.engine.connect() as other:  # another connection sees it at once
                assert other.scalar(select(func.count()).where(signals.c.name == f"d{i}")) == 1
    finally:
        committer.stop()
    assert utcnow()


def test_a_job_alone_in_its_batch_that_fails_leaves_nothing_behind(db: Database) -> None:
    committer = GroupCommitter(db.engine)

    def half_then_fail(connection: Connection) -> None:
        connection.execute(insert(signals).values(name="half-written", generation=1))
        raise ValueError("refused after writing")

    try:
        with pytest.raises(ValueError, match="refused after writing"):
            committer.run_sync(half_then_fail)
        assert committer.run_sync(add_signal("next")) == "next", "the writer goes on"
    finally:
        committer.stop()
    assert "half-written" not in names(db) and "next" in names(db)
