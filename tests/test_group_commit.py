"""The group committer: concurrent write jobs share one transaction, each job succeeds or fails alone, and a job's
caller hears back only once its batch is committed."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from overture.db import Database, utcnow
from overture.group_commit import GroupCommitter, WriterStopped
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


def test_a_waiter_cancelled_before_its_batch_does_not_stop_the_writer(db: Database) -> None:
    committer = GroupCommitter(db.engine)
    release = threading.Event()
    started = threading.Event()

    def slow(connection: Connection) -> None:
        started.set()
        release.wait(10)

    try:
        first = committer.submit(slow)
        started.wait(10)
        abandoned = committer.submit(add_signal("abandoned"))
        after = committer.submit(add_signal("after"))
        assert abandoned.cancel(), "what asyncio.wrap_future does when the request awaiting it is cancelled"
        release.set()
        first.result(10)
        assert after.result(10) == "after", "the batch of the cancelled waiter answers its other waiters"
        assert committer.run_sync(add_signal("later")) == "later", "and the writer goes on"
        assert committer.problem() is None
    finally:
        committer.stop()
    assert {"after", "later"} <= names(db) and "abandoned" not in names(db), "a cancelled job is not run"


def test_a_job_that_ends_the_writer_fails_every_waiter_at_once_instead_of_leaving_them_waiting(db: Database) -> None:
    committer = GroupCommitter(db.engine)
    release = threading.Event()
    started = threading.Event()

    def exit_after_release(connection: Connection) -> None:
        started.set()
        release.wait(10)
        raise SystemExit("asked to exit")

    try:
        ending = committer.submit(exit_after_release)
        started.wait(10)
        queued = committer.submit(add_signal("queued"))
        release.set()
        with pytest.raises(WriterStopped, match=r"writer thread of this process has stopped \(SystemExit"):
            ending.result(10)
        with pytest.raises(WriterStopped):
            queued.result(10)
        with pytest.raises(WriterStopped):
            committer.submit(add_signal("later"))
        assert committer.problem() == (
            "The database writer thread of this process has stopped (SystemExit: asked to exit); nothing can be "
            "written until the process restarts."
        )
    finally:
        committer.stop()
    assert not {"queued", "later"} & names(db)
