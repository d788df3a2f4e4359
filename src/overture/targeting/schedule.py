"""When a dialogue may show (`schedule: {from, until, hours, timezone}`), compiled once.

`from` and `until` are days, both included, in the schedule's `timezone` (UTC when absent): from 2026-01-01 until
2026-01-31 in Europe/Paris runs from midnight on January 1 to the end of January 31, Paris time. `hours: business`
is Monday to Friday, 09:00 to 17:00 in the named zone, read from the zone's clock on that day, so it stays right
across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from overture.dialogues.document import Schedule

BUSINESS_DAYS = range(0, 5)  # Monday..Friday
BUSINESS_START, BUSINESS_END = time(9, 0), time(17, 0)


@dataclass(frozen=True)
class CompiledSchedule:
    """`starts`/`ends` are instants in UTC (ends excluded); `zone` is where business hours are read."""

    starts: datetime | None
    ends: datetime | None
    business_hours: bool
    zone: tzinfo
    zone_name: str

    def open_at(self, now: datetime) -> bool:
        return self.why_closed(now) is None

    def why_closed(self, now: datetime) -> str | None:
        """None when the dialogue may show at `now` (aware); else why not, in a sentence."""
        if self.starts is not None and now < self.starts:
            return f"the schedule starts on {self.starts.astimezone(self.zone).date()} ({self.zone_name})"
        if self.ends is not None and now >= self.ends:
            last_day = (self.ends.astimezone(self.zone) - timedelta(days=1)).date()
            return f"the schedule ended on {last_day} ({self.zone_name})"
        if self.business_hours and not is_business_time(now.astimezone(self.zone)):
            return f"outside business hours ({self.zone_name})"
        return None


def is_business_time(local: datetime) -> bool:
    """Monday to Friday, 09:00 (included) to 17:00 (excluded), on the clock of `local`'s zone."""
    return local.weekday() in BUSINESS_DAYS and BUSINESS_START <= local.time() < BUSINESS_END


def compile_schedule(schedule: Schedule | None) -> CompiledSchedule | None:
    """None when the dialogue has no schedule (it may always show). Raises ZoneInfoNotFoundError for an unknown
    zone (validation refuses those first)."""
    if schedule is None:
        return None
    zone: tzinfo = ZoneInfo(schedule.timezone) if schedule.timezone else UTC
    name = schedule.timezone or "UTC"

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    starts = midnight(schedule.from_) if schedule.from_ else None
    ends = midnight(schedule.until + timedelta(days=1)) if schedule.until else None
    if starts is None and ends is None and schedule.hours != "business":
        return None
    return CompiledSchedule(starts, ends, schedule.hours == "business", zone, name)
