"""Group commit: one writer thread runs the small write jobs of concurrent requests in one transaction each batch.

SQLite takes one writer at a time, and on both engines a commit costs more than the few statements a page view
writes. So the requests that arrive while a batch is being written wait together and share the next commit: each
job runs in its own SAVEPOINT (a job that fails rolls back alone and its caller gets the error), the batch
commits once, and only then does each caller get its answer. What a caller is told has happened is durable.

Jobs are plain functions of a Core `Connection`; they must be short and must not wait on anything else.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")
MAX_BATCH = 64


@dataclass
class _Job:
    run: Callable[[Connection], Any]
    done: Future[Any]


_STOP = object()


class GroupCommitter:
    """Runs write jobs on one thread, many per transaction. Started on first use; `stop()` ends the thread."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many transactions were committed: tests and benchmarks read it

    def submit(self, run: Callable[[Connection], T]) -> Future[T]:
        """Queues a job; the future resolves after the transaction that ran it has committed."""
        self._ensure_started()
        done: Future[T] = Future()
        self._queue.put(_Job(run, done))
        return done

    async def run(self, job: Callable[[Connection], T]) -> T:
        """Runs a job and waits, without blocking the event loop, until its batch is committed."""
        return await asyncio.wrap_future(self.submit(job))

    def run_sync(self, job: Callable[[Connection], T]) -> T:
        return self.submit(job).result()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="overture-group-commit", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)
            self._write([job for job in batch if isinstance(job, _Job)])
            if stop_after:
                return

    @staticmethod
    def _run_in_savepoint(connection: Connection, job: _Job) -> tuple[bool, Any]:
        # Plain SQL savepoints: SQLAlchemy's compile theirs at every use, which would cost a visit a fifth of its
        # time.
        connection.exec_driver_sql("SAVEPOINT group_commit_job")
        try:
            result = job.run(connection)
        except Exception as exc:
            connection.exec_driver_sql("ROLLBACK TO SAVEPOINT group_commit_job")
            connection.exec_driver_sql("RELEASE SAVEPOINT group_commit_job")
            return False, exc
        connection.exec_driver_sql("RELEASE SAVEPOINT group_commit_job")
        return True, result

    def _write(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._engine.connect() as connection:
                transaction = connection.begin()
                if len(batch) == 1:  # alone in its batch: its transaction is its own, no savepoint needed
                    try:
                        outcomes.append((True, batch[0].run(connection)))
                    except Exception as exc:
                        transaction.rollback()
                        outcomes.append((False, exc))
                else:
                    outcomes = [self._run_in_savepoint(connection, job) for job in batch]
                if transaction.is_active:
                    transaction.commit()
                self.batches += 1
        except Exception as exc:  # the commit itself failed: nothing of the batch was written
            outcomes = [(False, exc)] * len(batch)
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.done.set_result(value)
            else:
                job.done.set_exception(value)
