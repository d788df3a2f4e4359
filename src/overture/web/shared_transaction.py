"""How a request's work meets transactions, besides the plain one per request of `deps.get_session`.

- **Shared** (`in_shared_transaction`, `shared_transaction`): the widget's writing calls are small and many;
  instead of a session and a commit of their own each (two trips through the thread pool), they run in the group
  committer's next batch (see `group_commit.py`) on the writer thread, share a commit with the calls that arrived
  at the same time, and answer once it is durable. An error rolls back that call's work only.
- **Around a network call** (`outside_transaction`): a route that reads a calendar or checks an account over the
  network ends its transaction first, so no lock (SQLite's write lock above all) is held while it waits; the
  route's session begins a new transaction at its next statement, where the result is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from overture.db import Wake, workers_to_wake
from overture.web.context import AppContext

T = TypeVar("T")


def _job(context: AppContext, work: Callable[[Session], T]) -> Callable[[Connection], tuple[T, set[Wake]]]:
    def job(connection: Connection) -> tuple[T, set[Wake]]:
        session = Session(bind=connection, info={"memo": context.db.memo}, expire_on_commit=False)
        try:
            result = work(session)
            session.flush()
            return result, workers_to_wake(session)  # woken once the batch is committed
        finally:
            session.close()

    return job


async def in_shared_transaction(context: AppContext, work: Callable[[Session], T]) -> T:
    """Runs `work(session)` in the next batch; what it returns must not need the session any more."""
    result, to_wake = await context.group_commit.run(_job(context, work))
    for worker in to_wake:
        await run_in_threadpool(context.jobs.wake, worker)
    return result


def shared_transaction(context: AppContext) -> Callable[[Callable[[Session], T]], T]:
    """`in_shared_transaction` for code already off the event loop (a service's steps run in the thread pool):
    blocks its thread until the batch is committed."""

    def run(work: Callable[[Session], T]) -> T:
        result, to_wake = context.group_commit.run_sync(_job(context, work))
        for worker in to_wake:
            context.jobs.wake(worker)
        return result

    return run


def outside_transaction(session: Session, call: Callable[[], T]) -> T:
    """Commits what the request's session did so far, then runs `call` (a network call) with no transaction open
    and returns its result; the session starts a new transaction when next used, with everything read afresh."""
    session.commit()
    result = call()
    session.expire_all()
    return result
