"""Group commit: one writer thread runs the small write jobs of concurrent requests in one transaction each batch.

SQLite takes one writer at a time, and on both engines a commit costs more than the few statements a page view
writes. So the requests that arrive while a batch is being written wait together and share the next commit: each
job runs in its own SAVEPOINT (a job that fails rolls back alone and its caller gets the error), the batch
commits once, and only then does each caller get its answer. What a caller is told has happened is durable.

Jobs are plain functions of a Core `Connection`; they must be short and must not wait on anything else.

The writer thread outlives any one batch: a waiter that gave up (its request was cancelled) is skipped, and an
error outside the jobs fails that batch's waiters only. Only an exit request raised by a job (SystemExit,
KeyboardInterrupt) ends it; then every waiter, queued or later, gets `WriterStopped` at once instead of waiting
forever, and `problem()` says so to the health check.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine

log = structlog.get_logger(__name__)

T = TypeVar("T")
MAX_BATCH = 64


@dataclass
class _Job:
    run: Callable[[Connection], Any]
    done: Future[Any]


_STOP = object()


class WriterStopped(RuntimeError):
    """The writer thread has ended: nothing more is written by this process until it restarts."""


class GroupCommitter:
    """Runs write jobs on one thread, many per transaction. Started on first use; `stop()` ends the thread."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # how many transactions were committed: tests and benchmarks read it
        self._stopped_by: str | None = None  # why the writer thread ended on its own, if it did

    def submit(self, run: Callable[[Connection], T]) -> Future[T]:
        """Queues a job; the future resolves after the transaction that ran it has committed. Raises
        WriterStopped when the writer thread has ended."""
        self._ensure_started()
        done: Future[T] = Future()
        with self._lock:
            if self._stopped_by is not None:
                raise WriterStopped(self._stopped_by)
            self._queue.put(_Job(run, done))
        return done

    def problem(self) -> str | None:
        """None while this committer can write (its thread runs, or starts at the next job); else what happened."""
        thread = self._thread
        if self._stopped_by is None and thread is not None and not thread.is_alive():
            return "The database writer thread of this process has ended unexpectedly; restart the process."
        return self._stopped_by

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
            # A waiter that gave up before its batch started is not run (it was told it was cancelled); from here on
            # a waiter can no longer cancel, so giving it its answer cannot fail.
            jobs = [job for job in batch if isinstance(job, _Job) and job.done.set_running_or_notify_cancel()]
            try:
                self._write(jobs)
            except Exception as exc:  # a fault outside the jobs: this batch's waiters hear of it, the thread goes on
                log.exception("group_commit.batch_failed")
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(exc)
            except BaseException as exc:  # an exit request raised by a job: the thread ends
                self._end(exc, jobs)
                return
            if stop_after:
                return

    def _end(self, exc: BaseException, in_flight: list[_Job]) -> None:
        """Ends the writer: every waiter, of this batch, queued or still to come, hears so at once."""
        with self._lock:  # `submit` checks under the same lock: no job is queued after the queue is drained
            self._stopped_by = (
                f"The database writer thread of this process has stopped ({type(exc).__name__}: {exc}); "
                "nothing can be written until the process restarts."
            )
        log.error("group_commit.writer_stopped", error=repr(exc))
        stopped = WriterStopped(self._stopped_by)
        waiting = list(in_flight)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Job) and item.done.set_running_or_notify_cancel():
                waiting.append(item)
        for job in waiting:
            if not job.done.done():
                job.done.set_exception(stopped)

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
