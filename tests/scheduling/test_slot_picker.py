"""The slot picker shows days and times on the visitor's own clock, with the zone named."""

from __future__ import annotations

from datetime import date

from overture.scheduling.hours import WeeklyHours, hours
from overture.scheduling.picker import slot_picker

from .schedules import agent, at, slots_of

HONOLULU = "Pacific/Honolulu"


def test_across_the_date_line_the_same_clock_time_is_the_next_day() -> None:
    one = agent(zone=HONOLULU, weekly=WeeklyHours(mon=hours("09:00-10:00")), horizon_days=5)
    slots = slots_of(one, at(HONOLULU, 2026, 5, 29, 8, 0))
    picker = slot_picker(slots, "Pacific/Kiritimati")  # UTC+14, Honolulu UTC-10: same clock, one day later
    assert picker.zone == "Pacific/Kiritimati"
    assert [day.day for day in picker.days] == [date(2026, 6, 2)]  # Monday in Honolulu, Tuesday for the visitor
    assert [time.local.strftime("%H:%M") for time in picker.days[0].times] == ["09:00", "09:30"]
    assert picker.days[0].times[0].slot is slots[0]


def test_one_agent_day_can_spread_over_two_visitor_days() -> None:
    new_york = "America/New_York"
    one = agent(zone=new_york, weekly=WeeklyHours(mon=hours("09:00-17:00")), horizon_days=5)
    picker = slot_picker(slots_of(one, at(new_york, 2026, 5, 29, 8, 0)), "Asia/Tokyo")
    monday, tuesday = picker.days
    assert (monday.day, tuesday.day) == (date(2026, 6, 1), date(2026, 6, 2))
    assert monday.times[0].local.strftime("%H:%M %Z") == "22:00 JST"
    assert tuesday.times[-1].local.strftime("%H:%M") == "05:30"
    assert len(monday.times) + len(tuesday.times) == 16
