"""The activity feed: the activities recorded since a named consumer last read, for the parts that act on them
(webhooks today, automations next). Activities know nothing of their consumers.

A consumer reads a batch (`read`), acts on it in the same transaction, and moves its checkpoint (`advance`); a
crash before the commit leaves the checkpoint where it was, so the batch is read again. Delivery is **at least
once**: on PostgreSQL an activity may commit after activities with higher ids were already read (ids are taken
when the row is inserted, not when its transaction commits), so a read with `again=True` (the periodic one) starts
from the consumer's checkpoint of at least `LOOKBACK` ago rather than its newest, as `analytics/rollups.py` does.
Every consumer is therefore idempotent by (its own thing, activity id): the webhooks write one delivery per
(endpoint, event id), unique in the database, and skip what exists.

A consumer that has never read starts at the newest activity (it is not given the past), unless it asks for
`from_start`. Two readers of one consumer at once are serialised on PostgreSQL by an advisory lock (SQLite's
writing transactions are serial anyway).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from overture.activities.models import Activity, FeedCheckpoint

# How long a transaction may stay open between inserting an activity and committing, with margin: the periodic read
# reads again what was recorded in this window.
LOOKBACK = timedelta(minutes=20)
BATCH = 1000


@dataclass(frozen=True)
class Batch:
    """Activities of one read, in id order; `reached` is the id the checkpoint moves to, `more` says that the read
    stopped at its limit (read again)."""

    consumer: str
    activities: list[Activity]
    reached: int
    more: bool
    again: bool


def _lock(session: Session, consumer: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"feed:{consumer}".encode()).digest()[:4], "big")
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _newest(session: Session, consumer: str) -> FeedCheckpoint | None:
    return session.scalar(
        select(FeedCheckpoint).where(FeedCheckpoint.consumer == consumer).order_by(FeedCheckpoint.id.desc()).limit(1)
    )


def _looked_back(session: Session, consumer: str, now: datetime) -> FeedCheckpoint | None:
    """The newest checkpoint at least LOOKBACK old, else the oldest kept."""
    mine = select(FeedCheckpoint).where(FeedCheckpoint.consumer == consumer)
    return session.scalar(
        mine.where(FeedCheckpoint.at <= now - LOOKBACK).order_by(FeedCheckpoint.id.desc()).limit(1)
    ) or session.scalar(mine.order_by(FeedCheckpoint.id).limit(1))


def begin(session: Session, consumer: str, now: datetime) -> None:
    """Starts the consumer at the newest activity, unless it has read already: it is given what comes next, not the
    past (call it when the consumer's first subscriber is made, so the next read does not skip what came between)."""
    _lock(session, consumer)
    if _newest(session, consumer) is None:
        top = session.scalar(select(func.max(Activity.id))) or 0
        session.add(FeedCheckpoint(consumer=consumer, at=now, activity_id=top))
        session.flush()


def read(
    session: Session,
    consumer: str,
    now: datetime,
    *,
    again: bool = False,
    limit: int = BATCH,
    from_start: bool = False,
) -> Batch:
    """The activities after the consumer's checkpoint (its newest; with `again`, one at least LOOKBACK old), at
    most `limit`, in the caller's writing transaction. Call `advance` with the batch once it is acted on."""
    _lock(session, consumer)
    top = session.scalar(select(func.max(Activity.id))) or 0
    checkpoint = _looked_back(session, consumer, now) if again else _newest(session, consumer)
    if checkpoint is None:
        start = 0 if from_start else top
        session.add(FeedCheckpoint(consumer=consumer, at=now, activity_id=start))
        session.flush()
    else:
        start = checkpoint.activity_id
    # SQLite gives the ids of the newest rows again once they are deleted (a purge of every row): read from the
    # first then, or the new rows would never be read.
    if top < start:
        start = 0
    rows = list(session.scalars(select(Activity).where(Activity.id > start).order_by(Activity.id).limit(limit)))
    reached = rows[-1].id if rows else start
    return Batch(consumer, rows, reached, more=len(rows) == limit, again=again)


def advance(session: Session, batch: Batch, now: datetime) -> None:
    """Moves the consumer's checkpoint to the end of `batch` (in the caller's transaction) and forgets checkpoints
    older than the newest one at least LOOKBACK old."""
    newest = _newest(session, batch.consumer)
    if newest is None or newest.activity_id != batch.reached or batch.again:
        session.add(FeedCheckpoint(consumer=batch.consumer, at=now, activity_id=batch.reached))
        session.flush()
    kept = session.scalar(
        select(FeedCheckpoint.id)
        .where(FeedCheckpoint.consumer == batch.consumer, FeedCheckpoint.at <= now - LOOKBACK)
        .order_by(FeedCheckpoint.id.desc())
        .limit(1)
    )
    if kept is not None:
        session.execute(
            delete(FeedCheckpoint).where(FeedCheckpoint.consumer == batch.consumer, FeedCheckpoint.id < kept)
        )
