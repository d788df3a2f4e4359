"""Daylight-saving changes in Paris, New York and Sydney: 09:00 stays 09:00 on the agent's clock, a skipped start
is not offered and a repeated one is offered once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from overture.scheduling.availability import MeetingType
from overture.scheduling.hours import DateOverride, WeeklyHours, hours

from .schedules import agent, at, local_starts, slots_of

NO_NOTICE = MeetingType("demo", notice=timedelta(0))
NIGHT = [f"{hour:02d}:{minute:02d}" for hour in range(5) for minute in (0, 30)]  # 00:00 .. 04:30


@pytest.mark.parametrize(
    ("zone", "day", "skipped"),
    [
        ("Europe/Paris", date(2026, 3, 29), ["02:00", "02:30"]),  # spring forward
        ("Europe/Paris", date(2026, 10, 25), []),  # fall back: 02:00-03:00 happens twice
        ("America/New_York", date(2026, 3, 8), ["02:00", "02:30"]),
        ("America/New_York", date(2026, 11, 1), []),  # 01:00-02:00 twice
        ("Australia/Sydney", date(2026, 10, 4), ["02:00", "02:30"]),
        ("Australia/Sydney", date(2026, 4, 5), []),  # 02:00-03:00 twice
    ],
)
def test_night_slots_on_a_change_day_skip_missing_times_and_take_repeated_ones_once(
    zone: str, day: date, skipped: list[str]
) -> None:
    one = agent(zone=zone, weekly=WeeklyHours(), overrides=(DateOverride(day, hours("00:00-05:00")),))
    slots = slots_of(one, at(zone, day.year, day.month, day.day) - timedelta(days=1), NO_NOTICE)
    assert local_starts(slots, zone) == [time for time in NIGHT if time not in skipped]
    starts = [slot.start for slot in slots]
    assert starts == sorted(set(starts))
    for slot in slots:  # 30 real minutes, whatever the clock says
        assert slot.end - slot.start == timedelta(minutes=30)


def test_a_repeated_wall_time_is_offered_at_its_first_occurrence() -> None:
    day = date(2026, 10, 25)
    one = agent(weekly=WeeklyHours(), overrides=(DateOverride(day, hours("02:00-03:00")),))
    slots = slots_of(one, datetime(2026, 10, 24, tzinfo=UTC), NO_NOTICE)
    assert [slot.start for slot in slots] == [datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
                                              datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]  # fmt: skip


def test_a_range_ending_in_the_skipped_hour_ends_when_the_clock_jumps() -> None:
    day = date(2026, 3, 29)
    one = agent(weekly=WeeklyHours(), overrides=(DateOverride(day, hours("01:00-02:30")),))
    slots = slots_of(one, datetime(2026, 3, 28, tzinfo=UTC), NO_NOTICE)
    assert [(slot.start, slot.end) for slot in slots] == [
        (datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # ends 03:00 summer time
    ]


@pytest.mark.parametrize(
    ("zone", "before", "after", "hours_apart"),
    [
        ("Europe/Paris", date(2026, 3, 27), date(2026, 3, 30), 1),
        ("Europe/Paris", date(2026, 10, 23), date(2026, 10, 26), -1),
        ("America/New_York", date(2026, 3, 6), date(2026, 3, 9), 1),
        ("America/New_York", date(2026, 10, 30), date(2026, 11, 2), -1),
        ("Australia/Sydney", date(2026, 10, 2), date(2026, 10, 5), 1),
        ("Australia/Sydney", date(2026, 4, 3), date(2026, 4, 6), -1),
    ],
)
def test_nine_oclock_stays_nine_oclock_on_both_sides_of_a_change(
    zone: str, before: date, after: date, hours_apart: int
) -> None:
    one = agent(zone=zone, horizon_days=5)
    slots = slots_of(one, at(zone, before.year, before.month, before.day) - timedelta(hours=1), NO_NOTICE)
    assert local_starts(slots, zone, before.isoformat())[0] == "09:00"
    assert local_starts(slots, zone, after.isoformat())[0] == "09:00"
    first_before = next(s.start for s in slots if s.start >= at(zone, before.year, before.month, before.day))
    first_after = next(s.start for s in slots if s.start >= at(zone, after.year, after.month, after.day))
    # The UTC time moves by the change, so that the wall clock does not.
    assert (first_before + (after - before)) - first_after == timedelta(hours=hours_apart)
