"""Values of the availability tests (plain data, no rows): wall times in a zone as UTC, an agent's schedule with
office hours on weekdays, busy times, and the free slots of one agent read back on a local clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overture.scheduling.availability import AgentSchedule, Busy, MeetingType, Slot, free_slots
from overture.scheduling.hours import WeeklyHours, hours

OFFICE = hours("09:00-12:00", "13:00-17:30")
WEEKDAYS = WeeklyHours(mon=OFFICE, tue=OFFICE, wed=OFFICE, thu=OFFICE, fri=OFFICE)
DEMO = MeetingType("demo")


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """A wall time in `zone`, as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def agent(key: str = "bob", zone: str = "Europe/Paris", **changes: Any) -> AgentSchedule:
    return replace(AgentSchedule(key, zone, WEEKDAYS), **changes)


def busy(start: datetime, minutes: int) -> Busy:
    return Busy(start, start + timedelta(minutes=minutes))


def local_starts(slots: list[Slot], zone: str, day: str | None = None) -> list[str]:
    """Slot starts as "HH:MM" on `zone`'s clock, for the date `day` (YYYY-MM-DD) when given."""
    found = []
    for slot in slots:
        local = slot.start.astimezone(ZoneInfo(zone))
        if day is None or local.date().isoformat() == day:
            found.append(local.strftime("%H:%M"))
    return found


def slots_of(one: AgentSchedule, now: datetime, meeting_type: MeetingType = DEMO, *busy_times: Busy) -> list[Slot]:
    return free_slots([one], meeting_type, {one.key: busy_times}, now)
