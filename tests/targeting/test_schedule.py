"""Schedules: from/until days (included) in the schedule's zone, business hours in a named zone across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from overture.dialogues.document import Schedule
from overture.targeting.schedule import compile_schedule


def why_closed(now: datetime, **schedule: Any) -> str | None:
    compiled = compile_schedule(Schedule.model_validate(schedule))
    return None if compiled is None else compiled.why_closed(now)


def test_no_schedule_is_always_open() -> None:
    assert compile_schedule(None) is None
    assert compile_schedule(Schedule()) is None


def test_from_and_until_are_whole_days_in_utc_by_default() -> None:
    window = {"from": "2026-02-01", "until": "2026-02-28"}
    assert why_closed(datetime(2026, 1, 31, 23, 59, tzinfo=UTC), **window) == "the schedule starts on 2026-02-01 (UTC)"
    assert why_closed(datetime(2026, 2, 1, 0, 0, tzinfo=UTC), **window) is None
    assert why_closed(datetime(2026, 2, 28, 23, 59, tzinfo=UTC), **window) is None
    assert why_closed(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), **window) == "the schedule ended on 2026-02-28 (UTC)"


def test_from_and_until_follow_the_schedules_zone() -> None:
    window = {"from": date(2026, 2, 1), "until": date(2026, 2, 28), "timezone": "Asia/Tokyo"}
    # 2026-01-31 15:00 UTC is already February 1 in Tokyo
    assert why_closed(datetime(2026, 1, 31, 15, 0, tzinfo=UTC), **window) is None
    assert why_closed(datetime(2026, 1, 31, 14, 59, tzinfo=UTC), **window) is not None
    # 2026-02-28 15:00 UTC is March 1 in Tokyo
    assert why_closed(datetime(2026, 2, 28, 15, 0, tzinfo=UTC), **window) == (
        "the schedule ended on 2026-02-28 (Asia/Tokyo)"
    )


BUSINESS = {"hours": "business", "timezone": "Europe/Paris"}


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        # winter: Paris is UTC+1
        (datetime(2026, 3, 18, 8, 0, tzinfo=UTC), True),  # Wednesday 09:00 Paris
        (datetime(2026, 3, 18, 7, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 18, 15, 59, tzinfo=UTC), True),  # 16:59 Paris
        (datetime(2026, 3, 18, 16, 0, tzinfo=UTC), False),  # 17:00 Paris
        (datetime(2026, 3, 21, 10, 0, tzinfo=UTC), False),  # Saturday
        # the Monday after the change to summer time (2026-03-29): Paris is UTC+2
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), True),  # 09:00 Paris
        (datetime(2026, 3, 30, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 30, 15, 0, tzinfo=UTC), False),  # 17:00 Paris
        # Friday evening in UTC is still Friday afternoon in New York, not in Paris
        (datetime(2026, 3, 20, 16, 30, tzinfo=UTC), False),
    ],
)
def test_business_hours_are_read_on_the_zones_clock(now: datetime, open_: bool) -> None:
    assert (why_closed(now, **BUSINESS) is None) is open_


def test_business_hours_say_which_zone() -> None:
    assert why_closed(datetime(2026, 3, 21, 10, 0, tzinfo=UTC), **BUSINESS) == "outside business hours (Europe/Paris)"
    new_york = {"hours": "business", "timezone": "America/New_York"}
    assert why_closed(datetime(2026, 3, 20, 20, 30, tzinfo=UTC), **new_york) is None  # 16:30 EDT
