"""The rollups the reports read: counted by a job that may run twice, stop and start again, or miss a row committed
out of id order, and that keep a period's figures once its raw activities are purged (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select

from overture.activities.models import Activity
from overture.analytics import rollups
from overture.analytics.models import (
    ReportCheckpoint,
    ReportDay,
    ReportHour,
    ReportPageDay,
    ReportPageHour,
    ReportPageTotalHour,
    ReportPerson,
    ReportTotalHour,
)
from overture.conversations.models import Conversation
from overture.db import Database

from .reports import Chat, figures, headers, offer, report
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
DAY = "2026-03-16"
TABLES = (ReportHour, ReportTotalHour, ReportDay, ReportPageHour, ReportPageTotalHour, ReportPageDay, ReportPerson)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


def visitors(client: TestClient) -> None:
    """Ada signs up on the pricing page (with a query string), Bob closes the chat on the features page."""
    ada = Chat(client)
    ada.open(page="https://example.com/pricing?utm_source=ads")
    ada.choose("0")
    ada.type("ada@example.com")
    bob = Chat(client)
    bob.open(page="https://example.com/features#top")
    bob.close()


def rows(db: Database) -> dict[str, list[Any]]:
    """Every rollup row, as plain values."""
    with db.read() as session:
        return {
            model.__tablename__: sorted(
                tuple(getattr(row, column.key) for column in model.__table__.columns)  # type: ignore[attr-defined]
                for row in session.scalars(select(model))
            )
            for model in TABLES
        }


def test_the_rollups_hold_the_hand_counted_figures_by_hour_and_page(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    visitors(client)
    rollups.catch_up_all(db, T0)
    with db.read() as session:
        [hour] = session.scalars(select(ReportHour))
        pages = {row.page: (row.triggered, row.engaged, row.people_acquired)
                 for row in session.scalars(select(ReportPageDay))}  # fmt: skip
    assert hour.hour == T0 and hour.version_id > 0
    assert (hour.conversations, hour.triggered, hour.engaged, hour.completed, hour.dismissed, hour.people_acquired,
            hour.meetings_booked, hour.goals) == (2, 2, 1, 1, 1, 1, 0, {"signed_up": 1})  # fmt: skip
    assert pages == {"https://example.com/pricing": (1, 1, 1), "https://example.com/features": (1, 0, 0)}


def test_counting_twice_gives_the_same_rows(client: TestClient, db: Database, clock: time_machine.Traveller) -> None:
    publish(db, offer())
    visitors(client)
    rollups.catch_up_all(db, T0)
    once = rows(db)
    with db.write() as session:
        session.execute(delete(ReportCheckpoint))  # as if nothing had been counted: everything is read again
    rollups.catch_up_all(db, T0 + timedelta(minutes=20), again=True)
    rollups.catch_up_all(db, T0 + timedelta(minutes=40), again=True)
    assert rows(db) == once
    assert once["report_hours"] and once["report_people"]


def test_a_backlog_counted_in_small_steps_gives_the_rows_of_one_step(
    client: TestClient, db: Database, clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(db, offer())
    for hours in range(4):  # visitors over four hours, so each step reads rows of other hours
        clock.move_to(T0 + timedelta(hours=hours))
        visitors(client)
    rollups.catch_up_all(db, T0 + timedelta(hours=4))
    at_once = rows(db)
    with db.write() as session:
        for model in (*TABLES, ReportCheckpoint):
            session.execute(delete(model))
    monkeypatch.setattr(rollups, "CHUNK", 2)  # a long backlog, read two ids of each table at a time
    rollups.catch_up_all(db, T0 + timedelta(hours=4))
    assert rows(db) == at_once
    assert [row[0] for row in at_once["report_total_hours"]] == [T0 + timedelta(hours=h) for h in range(4)]


def test_the_job_catches_up_with_what_was_recorded_while_it_was_stopped(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    Chat(client).open()
    rollups.catch_up_all(db, T0)
    clock.shift(timedelta(hours=2))  # the job is stopped: two more visitors meanwhile
    visitors(client)
    with db.read() as session:
        assert sum(row.triggered for row in session.scalars(select(ReportHour))) == 1

    rollups.catch_up_all(db, T0 + timedelta(hours=3))  # started again
    with db.read() as session:
        by_hour = {row.hour: row.triggered for row in session.scalars(select(ReportHour))}
    assert by_hour == {T0: 1, T0 + timedelta(hours=2): 2}
    assert report(client, auth, **{"from": DAY, "to": DAY})["triggered"] == 3


def test_a_row_committed_after_higher_ids_were_read_is_counted_by_the_periodic_run(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    rollups.catch_up_all(db, T0 - timedelta(minutes=30), again=True)  # the job ran earlier: nothing yet
    visitors(client)
    with db.write() as session:  # Ada's first answer is still in a transaction that has not committed...
        late = session.scalars(select(Activity).where(Activity.type == "dialogue.engaged")).one()
        kept = {column.key: getattr(late, column.key) for column in Activity.__table__.columns}
        session.delete(late)
    clock.shift(timedelta(minutes=1))
    Chat(client).open()  # ...when a later visitor's rows, with higher ids, are committed and counted
    rollups.catch_up_all(db, T0 + timedelta(minutes=1))
    with db.write() as session:
        session.execute(insert(Activity), kept)  # then it commits, with its lower id
    rollups.catch_up_all(db, T0 + timedelta(minutes=2))
    assert _engaged(db) == 0  # catching up reads only what comes after the newest checkpoint

    rollups.catch_up_all(db, T0 + 2 * rollups.SAFETY, again=True)
    assert _engaged(db) == 1


def _engaged(db: Database) -> int:
    with db.read() as session:
        return sum(row.engaged for row in session.scalars(select(ReportHour)))


def test_a_period_whose_raw_activities_were_purged_keeps_its_figures(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    clock.move_to(T0 - timedelta(days=120))
    visitors(client)
    then = report(client, auth, **{"from": "2025-11-16", "to": "2025-11-16"})
    assert figures(then)["triggered"] == 2 and figures(then)["people_acquired"] == 1
    with db.write() as session:  # the raw activities older than 90 days are purged
        session.execute(delete(Activity))
        session.execute(delete(Conversation))

    clock.move_to(T0)
    Chat(client).open()  # life goes on: the rollups are counted again for the new hours only
    old = report(client, auth, **{"from": "2025-11-16", "to": "2025-11-16"})
    assert figures(old) == figures(then)
    assert old["daily"]["2025-11-16"]["goals"] == {"signed_up": 1}
    assert report(client, auth, **{"from": DAY, "to": DAY})["triggered"] == 1


def test_a_person_acquired_counts_once_per_dialogue_even_across_periods(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    ada = Chat(client)
    ada.open()
    ada.choose("0")
    ada.type("ada@example.com")
    clock.shift(timedelta(days=3))
    again = Chat(client)  # another browser, three days later
    again.open()
    again.choose("0")
    again.type("ada@example.com")
    assert report(client, auth, **{"from": "2026-03-19", "to": "2026-03-19"})["people_acquired"] == 0
    assert report(client, auth, **{"from": DAY, "to": "2026-03-19"})["people_acquired"] == 1
