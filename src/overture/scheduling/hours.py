"""An agent's working hours: weekly ranges, date overrides (a day off, extra or replaced hours) and out-of-office
date ranges. Hours are wall-clock minutes after local midnight, read in the agent's own zone on each day."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from overture.errors import InvalidInput, Problem

DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Hours:
    """One range of working time on a day: from `start` (included) to `end` (excluded), in minutes after local
    midnight; `end` may be 1440 (24:00, the end of the day)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise InvalidInput(
                "Working hours must end after they start, within one day.",
                [Problem("hours", f"{self} does not end after it starts, within 00:00-24:00.")],
            )

    @classmethod
    def parse(cls, text: str) -> Hours:
        """`"09:00-12:00"` -> Hours(540, 720). Raises InvalidInput for anything else."""
        match = _RANGE.match(text)
        if match is None:
            raise InvalidInput(
                "Working hours are written as a range such as 09:00-12:00.",
                [Problem("hours", f"{text!r} is not a range of hours such as 09:00-12:00.")],
            )
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        if start_m > 59 or end_m > 59:
            raise InvalidInput(
                "Working hours are written as a range such as 09:00-12:00.",
                [Problem("hours", f"{text!r} has minutes past 59.")],
            )
        return cls(start_h * 60 + start_m, end_h * 60 + end_m)

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def hours(*texts: str) -> tuple[Hours, ...]:
    """`hours("09:00-12:00", "13:00-17:30")`: the ranges of one day."""
    return tuple(Hours.parse(text) for text in texts)


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """The ranges of each weekday; a day without ranges is not worked."""

    mon: tuple[Hours, ...] = ()
    tue: tuple[Hours, ...] = ()
    wed: tuple[Hours, ...] = ()
    thu: tuple[Hours, ...] = ()
    fri: tuple[Hours, ...] = ()
    sat: tuple[Hours, ...] = ()
    sun: tuple[Hours, ...] = ()

    def on(self, weekday: int) -> tuple[Hours, ...]:
        """The ranges of `weekday` (0 = Monday, as `date.weekday()`)."""
        ranges: tuple[Hours, ...] = getattr(self, WEEKDAYS[weekday])
        return ranges


@dataclass(frozen=True, slots=True)
class DateOverride:
    """Hours for one date. `replace=True` puts `hours` instead of the weekly ones (no hours: a day off);
    `replace=False` adds them to the weekly ones (extra hours)."""

    day: date
    hours: tuple[Hours, ...] = ()
    replace: bool = True


@dataclass(frozen=True, slots=True)
class DateRange:
    """Dates from `first` to `last`, both included, in the agent's zone (out of office)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput(
                "A date range must end on or after its first day.",
                [Problem("out_of_office", f"{self.last} is before {self.first}.")],
            )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def day_ranges(weekly: WeeklyHours, overrides: Iterable[DateOverride], day: date) -> list[tuple[int, int]]:
    """The working minutes of `day` as sorted, disjoint (start, end) pairs: the weekly ranges, then each override
    of that date in order; overlapping or touching ranges are joined into one."""
    ranges = list(weekly.on(day.weekday()))
    for override in overrides:
        if override.day == day:
            ranges = list(override.hours) if override.replace else ranges + list(override.hours)
    joined: list[tuple[int, int]] = []
    for item in sorted(ranges, key=lambda hours: hours.start):
        if joined and item.start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], item.end))
        else:
            joined.append((item.start, item.end))
    return joined
