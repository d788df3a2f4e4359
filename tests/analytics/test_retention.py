"""The retention purge at each boundary: raw data (activities but outcomes, page views, anonymous transcripts) goes
the day after its 90 days and stays the day before; outcomes (goals, meetings, an email captured) likewise at 24
months; people, companies and meetings never go; a dry run deletes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from analytics.retention_rows import (
    ANONYMOUS_TRANSCRIPTS,
    EVERYTHING,
    OUTCOMES,
    RAW_ACTIVITIES,
    THEN,
    left,
    make_rows,
)
from overture.analytics import retention, rollups
from overture.analytics.dialogue_report import dialogue_report
from overture.analytics.retention import Windows, months_before
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import PageView, Person

DEFAULTS = Windows()
RAW_GONE = replace(
    EVERYTHING,
    activities=EVERYTHING.activities - RAW_ACTIVITIES,
    page_views=0,
    conversations=EVERYTHING.conversations - ANONYMOUS_TRANSCRIPTS,
)
ALL_GONE = replace(RAW_GONE, activities=set())
NO_ROLLUPS = {"report rollups": 0}  # nothing is counted in these tests


def days_after(days: int) -> datetime:
    return THEN + timedelta(days=days)


def months_after(months: int, days: int = 0) -> datetime:
    return months_before(THEN, -months) + timedelta(days=days)


def test_raw_data_is_kept_the_day_before_its_90_days_and_purged_the_day_after(db: Database) -> None:
    make_rows(db)
    assert retention.purge(db, DEFAULTS, days_after(89)) == {
        "activities": 0, "page views": 0, "anonymous transcripts": 0, "outcome activities": 0, **NO_ROLLUPS,
    }  # fmt: skip
    assert left(db) == EVERYTHING
    deleted = retention.purge(db, DEFAULTS, days_after(91))
    assert deleted == {
        "activities": 4, "page views": 1, "anonymous transcripts": 2, "outcome activities": 0, **NO_ROLLUPS,
    }  # fmt: skip
    assert left(db) == RAW_GONE


def test_outcomes_are_kept_the_day_before_their_24_months_and_purged_the_day_after(db: Database) -> None:
    make_rows(db)
    retention.purge(db, DEFAULTS, months_after(24, days=-1))
    assert left(db).activities == OUTCOMES
    assert retention.purge(db, DEFAULTS, months_after(24, days=1))["outcome activities"] == len(OUTCOMES)
    assert left(db) == ALL_GONE


def test_people_companies_and_meetings_are_never_purged(db: Database) -> None:
    made = make_rows(db)
    retention.purge(db, DEFAULTS, months_after(120))
    after = left(db)
    assert (after.people, after.companies, after.meetings) == (2, 1, 1)
    with db.read() as session:
        ada = session.get(Person, made.known_id)
        assert ada is not None and ada.email == "ada@acme.com" and ada.company_id == made.company_id


def test_a_known_persons_transcript_and_a_booked_meetings_transcript_stay(db: Database) -> None:
    make_rows(db)
    retention.purge(db, DEFAULTS, months_after(120))
    with db.read() as session:
        kept = {c.public_id: c.state for c in session.scalars(select(Conversation))}
    assert kept == {
        "known": {"transcript": ["known"]},
        "anonymous with a meeting": {"transcript": ["anonymous with a meeting"]},
    }


def test_an_anonymous_visitor_who_gives_their_email_keeps_their_transcript(db: Database) -> None:
    made = make_rows(db)
    with db.write() as session:
        person = session.get(Person, made.anonymous_id)
        assert person is not None
        person.email = "grace@acme.com"
    retention.purge(db, DEFAULTS, days_after(91))
    assert left(db).conversations == {"known", "anonymous", "anonymous with a meeting"}


def test_the_dry_run_counts_what_would_go_and_deletes_nothing(db: Database) -> None:
    make_rows(db)
    now = months_after(24, days=1)
    with db.read() as session:
        planned = retention.plan(session, DEFAULTS, now)
    assert [(p.kind.name, p.cutoff, p.count) for p in planned] == [
        ("activities", now - timedelta(days=90), 4),
        ("page views", now - timedelta(days=90), 1),
        ("anonymous transcripts", now - timedelta(days=90), 2),
        ("outcome activities", datetime(2025, 1, 11, 12, 0, tzinfo=UTC), len(OUTCOMES)),
        *[(name, datetime(2025, 1, 11, 12, 0, tzinfo=UTC), 0) for name in NO_ROLLUPS],
    ]
    assert left(db) == EVERYTHING


def test_each_window_is_a_setting_and_zero_keeps_for_ever(db: Database) -> None:
    make_rows(db)
    retention.purge(db, Windows(raw_days=30, outcome_months=0), days_after(31))
    assert left(db).activities == OUTCOMES
    retention.purge(db, Windows(raw_days=30, outcome_months=0), months_after(240))
    assert left(db).activities == OUTCOMES, "outcomes kept for ever"
    retention.purge(db, Windows(raw_days=0, outcome_months=0), months_after(240))
    assert left(db).activities == OUTCOMES


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_purge_in_small_batches_deletes_the_same_rows(db: Database, batch_size: int) -> None:
    make_rows(db)
    make_rows_of_many_visitors(db, 7)
    seen: list[tuple[str, int]] = []
    deleted = retention.purge(
        db, DEFAULTS, days_after(91), batch_size=batch_size, progress=lambda kind, done: seen.append((kind.name, done))
    )
    assert deleted["page views"] == 8
    assert left(db) == replace(RAW_GONE, people=2 + 7)
    views = [done for name, done in seen if name == "page views"]
    assert views == list(range(batch_size, 8, batch_size)) + [8], "progress after every batch"


def make_rows_of_many_visitors(db: Database, count: int) -> None:
    with db.write() as session:
        for _ in range(count):
            person = Person(created_at=THEN, last_seen_at=THEN)
            session.add(person)
            session.flush()
            session.add(PageView(person_id=person.id, url="https://example.com/", session_number=1, occurred_at=THEN))


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(datetime(2028, 2, 29, 10, tzinfo=UTC), 24) == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(2024, 12, 15, tzinfo=UTC)


def rollup_rows(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            kind.table.name: session.scalar(select(func.count()).select_from(kind.table)) or 0
            for kind in retention.KINDS
            if kind.name == "report rollups"
        }


def test_the_reports_rollups_outlive_the_raw_data_and_go_after_24_months(db: Database) -> None:
    make_rows(db)
    rollups.catch_up_all(db, THEN)
    counted = rollup_rows(db)
    assert counted["report_hours"] > 0 and counted["report_people"] > 0, "the figures are counted"

    retention.purge(db, DEFAULTS, days_after(91))
    with db.read() as session:
        report = dialogue_report(session, "offer", first=THEN.date(), last=THEN.date(), now=days_after(91))
    assert (report.triggered, report.engaged, report.people_acquired, report.goals) == (1, 1, 1, {"signed_up": 1})

    retention.purge(db, DEFAULTS, months_after(24, days=-1))
    assert rollup_rows(db) == counted
    deleted = retention.purge(db, DEFAULTS, months_after(24, days=1))
    assert deleted["report rollups"] == sum(counted.values())
    assert set(rollup_rows(db).values()) == {0}
