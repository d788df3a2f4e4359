"""The activity feed: a named consumer reads the activities recorded after its checkpoint, and the periodic read
reads the look-back window again, so an activity that commits after higher ids were read is not missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from overture.activities import feed
from overture.activities.models import Activity, FeedCheckpoint
from overture.db import Database
from overture.people.models import Person

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def add(db: Database, *, id: int | None = None) -> int:
    with db.write() as session:
        person_id = session.scalar(select(Person.id).limit(1))
        if person_id is None:
            person = Person()
            session.add(person)
            session.flush()
            person_id = person.id
        values = {"person_id": person_id, "type": "goal.reached", "occurred_at": T0, "session_number": 1,
                  "attributes": {}}  # fmt: skip
        if id is not None:
            values["id"] = id
        session.execute(insert(Activity), values)
        return id or int(session.scalar(select(func.max(Activity.id))) or 0)


def read(db: Database, now: datetime, *, again: bool = False) -> list[int]:
    with db.write() as session:
        batch = feed.read(session, "test", now, again=again)
        feed.advance(session, batch, now)
        return [a.id for a in batch.activities]


def test_a_new_consumer_gets_what_comes_next_not_the_past(db: Database) -> None:
    add(db)
    with db.write() as session:
        feed.begin(session, "test", T0)
    assert read(db, T0) == []
    later = [add(db), add(db)]
    assert read(db, T0 + timedelta(seconds=1)) == later
    assert read(db, T0 + timedelta(seconds=2)) == [], "read once by the ordinary read"


def test_a_batch_not_committed_is_read_again(db: Database) -> None:
    with db.write() as session:
        feed.begin(session, "test", T0)
    first = add(db)
    with db.write() as session:
        batch = feed.read(session, "test", T0)
        assert [a.id for a in batch.activities] == [first]
        session.rollback()  # the consumer failed before its commit: its checkpoint did not move
    assert read(db, T0) == [first]


def test_an_activity_that_commits_after_higher_ids_were_read_is_read_by_the_periodic_read(db: Database) -> None:
    with db.write() as session:
        feed.begin(session, "test", T0)
    add(db, id=10)
    assert read(db, T0 + timedelta(seconds=1)) == [10]
    late = add(db, id=5)  # took its id before 10 did, committed after 10 was read
    assert read(db, T0 + timedelta(seconds=2)) == [], "the ordinary read starts after 10"
    assert read(db, T0 + timedelta(minutes=1), again=True) == [late, 10], "at least once: 10 again"


def test_checkpoints_older_than_the_look_back_are_forgotten(db: Database) -> None:
    with db.write() as session:
        feed.begin(session, "test", T0)
    for minute in range(0, 60, 5):
        add(db)
        read(db, T0 + timedelta(minutes=minute), again=True)
    with db.read() as session:
        kept = list(session.scalars(select(FeedCheckpoint.at).where(FeedCheckpoint.consumer == "test")))
    now = T0 + timedelta(minutes=55)
    assert min(kept) >= now - feed.LOOKBACK - timedelta(minutes=5), "one checkpoint before the window, no more"
    assert len(kept) <= feed.LOOKBACK // timedelta(minutes=5) + 2
