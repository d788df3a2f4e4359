"""Every availability rule on one agent in Paris, in June (no daylight-saving change near)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from overture.errors import InvalidInput
from overture.scheduling.availability import BookedMeeting, Busy, MeetingType, free_slots
from overture.scheduling.hours import DateOverride, DateRange, Hours, WeeklyHours, hours

from .schedules import DEMO, agent, at, busy, local_starts, slots_of

PARIS = "Europe/Paris"
PARIS_ZONE = ZoneInfo(PARIS)
FRIDAY_BEFORE = at(PARIS, 2026, 5, 29, 8, 0)  # Friday; with 24 h notice, Monday 1 June is the first day offered
MONDAY = "2026-06-01"
MORNING_AND_AFTERNOON = [
    "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
    "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
]  # fmt: skip


def test_slots_fill_every_range_of_a_working_day_and_skip_the_gap_between() -> None:
    slots = slots_of(agent(horizon_days=3), FRIDAY_BEFORE)
    assert local_starts(slots, PARIS) == MORNING_AND_AFTERNOON
    assert slots[0].start == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    assert slots[0].end - slots[0].start == timedelta(minutes=30)
    assert slots[0].agents == ("bob",)


def test_weekends_without_hours_have_no_slots() -> None:
    slots = slots_of(agent(horizon_days=2), FRIDAY_BEFORE)  # Saturday and Sunday only after the notice
    assert slots == []


def test_a_meeting_must_end_before_its_range_ends() -> None:
    slots = slots_of(agent(horizon_days=3, duration=timedelta(minutes=45)), FRIDAY_BEFORE)
    starts = local_starts(slots, PARIS)
    assert "11:00" in starts and "11:30" not in starts
    assert "16:30" in starts and "17:00" not in starts


def test_a_day_off_override_removes_the_day() -> None:
    one = agent(horizon_days=4, overrides=(DateOverride(date(2026, 6, 1)),))
    slots = slots_of(one, FRIDAY_BEFORE)
    assert local_starts(slots, PARIS, MONDAY) == []
    assert local_starts(slots, PARIS, "2026-06-02") == MORNING_AND_AFTERNOON


def test_an_override_can_replace_the_hours_of_a_date() -> None:
    one = agent(horizon_days=3, overrides=(DateOverride(date(2026, 6, 1), hours("14:00-15:00")),))
    assert local_starts(slots_of(one, FRIDAY_BEFORE), PARIS) == ["14:00", "14:30"]


def test_an_override_can_add_extra_hours_to_a_date_even_on_a_weekend() -> None:
    extra = (
        DateOverride(date(2026, 6, 1), hours("18:00-19:00"), replace=False),
        DateOverride(date(2026, 5, 31), hours("10:00-11:00"), replace=False),
    )
    slots = slots_of(agent(horizon_days=3, overrides=extra), FRIDAY_BEFORE)
    assert local_starts(slots, PARIS, "2026-05-31") == ["10:00", "10:30"]
    assert local_starts(slots, PARIS, MONDAY) == [*MORNING_AND_AFTERNOON, "18:00", "18:30"]


def test_busy_time_from_calendars_removes_the_slots_it_touches() -> None:
    slots = slots_of(agent(horizon_days=3), FRIDAY_BEFORE, DEMO, busy(at(PARIS, 2026, 6, 1, 9, 40), 30))
    assert local_starts(slots, PARIS)[:3] == ["09:00", "10:30", "11:00"]


def test_buffers_before_and_after_keep_meetings_away_from_busy_time() -> None:
    one = agent(horizon_days=3, step=timedelta(minutes=15), buffer_before=timedelta(minutes=15),
                buffer_after=timedelta(minutes=10))  # fmt: skip
    slots = slots_of(one, FRIDAY_BEFORE, DEMO, busy(at(PARIS, 2026, 6, 1, 10, 0), 60))
    # 09:20 is the last start whose meeting plus 10 min ends by 10:00; 11:15 the first 15 min after 11:00.
    assert local_starts(slots, PARIS)[:5] == ["09:00", "09:15", "11:15", "11:30", "13:00"]


def test_buffers_of_the_meeting_type_replace_the_agents() -> None:
    typed = MeetingType("demo", buffer_after=timedelta(minutes=30))
    slots = slots_of(agent(horizon_days=3), FRIDAY_BEFORE, typed, busy(at(PARIS, 2026, 6, 1, 10, 0), 60))
    assert local_starts(slots, PARIS)[:3] == ["09:00", "11:00", "11:30"]


def test_overlapping_unsorted_busy_times_are_all_respected() -> None:
    times = [
        busy(at(PARIS, 2026, 6, 1, 10, 40), 20),
        busy(at(PARIS, 2026, 6, 1, 9, 30), 45),
        busy(at(PARIS, 2026, 6, 1, 9, 45), 10),
        busy(at(PARIS, 2026, 6, 1, 10, 0), 45),
        busy(at(PARIS, 2026, 6, 1, 14, 0), 30),
    ]
    slots = slots_of(agent(horizon_days=3), FRIDAY_BEFORE, DEMO, *times)
    assert local_starts(slots, PARIS)[:5] == ["09:00", "11:00", "11:30", "13:00", "13:30"]
    assert "14:00" not in local_starts(slots, PARIS)


def test_slots_start_after_the_minimum_notice_which_defaults_to_24_hours() -> None:
    sunday_morning = at(PARIS, 2026, 5, 31, 10, 10)
    assert local_starts(slots_of(agent(horizon_days=1), sunday_morning), PARIS)[0] == "10:30"
    two_hours = MeetingType("quick call", notice=timedelta(hours=2))
    monday_morning = at(PARIS, 2026, 6, 1, 10, 10)
    assert local_starts(slots_of(agent(horizon_days=0), monday_morning, two_hours), PARIS) == [
        "13:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00",
    ]  # fmt: skip


def test_the_horizon_counts_local_days_from_today() -> None:
    monday_early = at(PARIS, 2026, 6, 1, 7, 0)
    no_notice = MeetingType("demo", notice=timedelta(0))
    today_only = slots_of(agent(horizon_days=0), monday_early, no_notice)
    assert {slot.start.astimezone(PARIS_ZONE).date() for slot in today_only} == {date(2026, 6, 1)}
    three = slots_of(agent(horizon_days=2), monday_early, no_notice)
    assert sorted({local.date() for local in (slot.start.astimezone(PARIS_ZONE) for slot in three)}) == [
        date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3),
    ]  # fmt: skip
    typed = slots_of(agent(horizon_days=2), monday_early, MeetingType("demo", notice=timedelta(0), horizon_days=0))
    assert len(typed) == len(today_only)


def test_starts_are_aligned_to_the_step_on_the_agents_clock() -> None:
    odd = agent(horizon_days=3, weekly=WeeklyHours(mon=hours("09:10-11:00")))
    assert local_starts(slots_of(odd, FRIDAY_BEFORE), PARIS) == ["09:30", "10:00", "10:30"]
    quarter = MeetingType("demo", step=timedelta(minutes=15))
    assert local_starts(slots_of(odd, FRIDAY_BEFORE, quarter), PARIS) == [
        "09:15", "09:30", "09:45", "10:00", "10:15", "10:30",
    ]  # fmt: skip
    hourly = MeetingType("demo", duration=timedelta(minutes=60), step=timedelta(minutes=60))
    slots = slots_of(agent(horizon_days=3), FRIDAY_BEFORE, hourly)
    assert local_starts(slots, PARIS) == ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
    assert slots[0].end - slots[0].start == timedelta(hours=1)


def meeting(start: datetime, meeting_type: str | None = None) -> BookedMeeting:
    return BookedMeeting(start, start + timedelta(minutes=30), meeting_type)


def test_the_daily_maximum_counts_meetings_already_booked() -> None:
    one = agent(horizon_days=4, daily_max=2)
    booked = {"bob": [meeting(at(PARIS, 2026, 6, 1, 9, 0)), meeting(at(PARIS, 2026, 6, 1, 15, 0))]}
    slots = free_slots([one], DEMO, {}, FRIDAY_BEFORE, booked)
    assert local_starts(slots, PARIS, MONDAY) == []
    assert local_starts(slots, PARIS, "2026-06-02") == MORNING_AND_AFTERNOON
    below_cap = free_slots([agent(horizon_days=3, daily_max=3)], DEMO, {}, FRIDAY_BEFORE, booked)
    # Under the cap, Overture's own meetings are still busy time.
    assert local_starts(below_cap, PARIS) == [t for t in MORNING_AND_AFTERNOON if t not in ("09:00", "15:00")]


def test_the_daily_maximum_of_a_meeting_type_counts_only_meetings_of_that_type() -> None:
    typed = MeetingType("demo", daily_max=1)
    other = {"bob": [meeting(at(PARIS, 2026, 6, 1, 9, 0), "onboarding")]}
    assert local_starts(free_slots([agent(horizon_days=3)], typed, {}, FRIDAY_BEFORE, other), PARIS) != []
    same = {"bob": [meeting(at(PARIS, 2026, 6, 1, 9, 0), "demo")]}
    assert free_slots([agent(horizon_days=3)], typed, {}, FRIDAY_BEFORE, same) == []


def test_the_weekly_maximum_closes_the_rest_of_the_week() -> None:
    one = agent(horizon_days=10, weekly_max=3)
    booked = {"bob": [meeting(at(PARIS, 2026, 6, day, 9, 0)) for day in (1, 2, 3)]}
    slots = free_slots([one], DEMO, {}, FRIDAY_BEFORE, booked)
    days = sorted({slot.start.astimezone(PARIS_ZONE).date() for slot in slots})
    assert days == [date(2026, 6, 8)]  # the next week opens again


def test_out_of_office_days_have_no_slots() -> None:
    one = agent(horizon_days=6, out_of_office=(DateRange(date(2026, 6, 1), date(2026, 6, 3)),))
    days = sorted({slot.start.astimezone(PARIS_ZONE).date() for slot in slots_of(one, FRIDAY_BEFORE)})
    assert days == [date(2026, 6, 4)]


def test_a_zero_daily_maximum_means_no_slots() -> None:
    assert slots_of(agent(horizon_days=3, daily_max=0), FRIDAY_BEFORE) == []


def test_bad_settings_are_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidInput) as error:
        agent(zone="Mars/Olympus_Mons")
    assert error.value.problems[0].path == "zone"
    with pytest.raises(InvalidInput) as error:
        Hours.parse("9 to 5")
    assert "09:00-12:00" in error.value.problems[0].message
    with pytest.raises(InvalidInput):
        Hours.parse("12:00-09:00")
    with pytest.raises(InvalidInput) as error:
        agent(step=timedelta(seconds=90))
    assert error.value.problems[0].path == "step"
    with pytest.raises(InvalidInput):
        Busy(datetime(2026, 6, 1, 9, 0), datetime(2026, 6, 1, 10, 0))  # naive: which zone?
    with pytest.raises(InvalidInput):
        free_slots([agent(), agent()], DEMO, {}, FRIDAY_BEFORE)
