"""Free slots of one agent or a team, as a pure function over plain data (no database, no clock: `now` is an
argument).

A slot is offered when the meeting, from its start to its end, lies inside the agent's working hours of that local
day, and the meeting widened by the buffers (before and after) touches no busy time. Starts are aligned to the step
on the agent's wall clock (09:00, 09:15... counted from local midnight), so a 09:00 start stays 09:00 local on both
sides of a daylight-saving change; a start the clock skips is not offered, a start the clock repeats is offered once.
A slot starts at least `notice` after `now`, on a local date no later than `horizon_days` after today (0: today
only), on a day the agent is not out of office and has not reached their daily or weekly maximum of meetings.

Speed: per agent, the busy intervals are turned into the open ranges of starts they forbid, sorted once and joined;
candidate starts come in time order, so one pointer sweeps both lists (O(n log n) for the sort, linear after).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil, floor
from zoneinfo import ZoneInfo

from overture.errors import InvalidInput, Problem
from overture.scheduling.clock import day_clock, load_zone, local_date, to_instant, to_seconds
from overture.scheduling.hours import DateOverride, DateRange, WeeklyHours, day_ranges

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def _check(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise InvalidInput(f"The availability settings are not valid: {message}", [Problem(path, message)])


@dataclass(frozen=True, slots=True)
class Busy:
    """A time the agent is not free, from `start` (included) to `end` (excluded); aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check(to_seconds(self.end, "busy.end") >= to_seconds(self.start, "busy.start"), "busy",
               f"the busy time from {self.start} ends before it starts.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class BookedMeeting:
    """A meeting Overture already booked for the agent: it is busy time and counts towards the maximums."""

    start: datetime
    end: datetime
    meeting_type: str | None = None

    def __post_init__(self) -> None:
        _check(to_seconds(self.end, "meeting.end") > to_seconds(self.start, "meeting.start"), "meeting",
               f"the meeting at {self.start} ends before it starts.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentSchedule:
    """One agent's availability settings. `key` names the agent in slots (an email or an id)."""

    key: str
    zone: str
    weekly: WeeklyHours
    overrides: tuple[DateOverride, ...] = ()
    out_of_office: tuple[DateRange, ...] = ()
    duration: timedelta = timedelta(minutes=30)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    notice: timedelta = timedelta(hours=24)
    horizon_days: int = 28
    step: timedelta = timedelta(minutes=30)
    daily_max: int | None = None
    weekly_max: int | None = None

    def __post_init__(self) -> None:
        load_zone(self.zone, "zone")
        _check_common(self.duration, self.buffer_before, self.buffer_after, self.notice, self.horizon_days,
                      self.step, self.daily_max)  # fmt: skip
        _check(self.weekly_max is None or self.weekly_max >= 0, "weekly_max", "the weekly maximum cannot be negative.")


@dataclass(frozen=True, slots=True)
class MeetingType:
    """A kind of meeting. Each value set here replaces the agent's own for this type; `daily_max` is a cap of
    meetings of this type per agent and day, applied on top of the agent's own maximums."""

    name: str
    duration: timedelta | None = None
    buffer_before: timedelta | None = None
    buffer_after: timedelta | None = None
    notice: timedelta | None = None
    horizon_days: int | None = None
    step: timedelta | None = None
    daily_max: int | None = None
    team: str | None = None

    def __post_init__(self) -> None:
        _check_common(self.duration, self.buffer_before, self.buffer_after, self.notice, self.horizon_days,
                      self.step, self.daily_max)  # fmt: skip


def _check_common(
    duration: timedelta | None,
    buffer_before: timedelta | None,
    buffer_after: timedelta | None,
    notice: timedelta | None,
    horizon_days: int | None,
    step: timedelta | None,
    daily_max: int | None,
) -> None:
    _check(duration is None or (duration > timedelta(0) and duration % SECOND == timedelta(0)), "duration",
           "the meeting duration must be a positive number of seconds.")  # fmt: skip
    for name, value in (("buffer_before", buffer_before), ("buffer_after", buffer_after), ("notice", notice)):
        _check(value is None or value >= timedelta(0), name, f"the {name.replace('_', ' ')} cannot be negative.")
    _check(horizon_days is None or horizon_days >= 0, "horizon_days", "the booking horizon cannot be negative.")
    _check(step is None or (MINUTE <= step <= timedelta(days=1) and step % MINUTE == timedelta(0)), "step",
           "the slot step must be a whole number of minutes, from 1 minute to 1 day.")  # fmt: skip
    _check(daily_max is None or daily_max >= 0, "daily_max", "the daily maximum cannot be negative.")


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time (aware UTC) and the agents free then, in the order the agents were given."""

    start: datetime
    end: datetime
    agents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Rules:
    """An agent's settings with the meeting type's applied, in whole seconds and minutes."""

    duration: int
    before: int
    after: int
    notice: int
    horizon_days: int
    step_minutes: int


def _rules(agent: AgentSchedule, meeting_type: MeetingType) -> _Rules:
    def pick(own: timedelta, typed: timedelta | None) -> timedelta:
        return own if typed is None else typed

    return _Rules(
        duration=pick(agent.duration, meeting_type.duration) // SECOND,
        before=pick(agent.buffer_before, meeting_type.buffer_before) // SECOND,
        after=pick(agent.buffer_after, meeting_type.buffer_after) // SECOND,
        notice=pick(agent.notice, meeting_type.notice) // SECOND,
        horizon_days=agent.horizon_days if meeting_type.horizon_days is None else meeting_type.horizon_days,
        step_minutes=pick(agent.step, meeting_type.step) // MINUTE,
    )


def forbidden_starts(busy: Iterable[tuple[int, int]], rules: _Rules) -> tuple[list[int], list[int]]:
    """The open ranges (low, high) of start instants that busy time forbids, sorted and joined: a meeting starting
    at t, widened to [t - before, t + duration + after), meets busy [s, e) exactly when s - duration - after < t <
    e + before."""
    spans = sorted((start - rules.duration - rules.after, end + rules.before) for start, end in busy)
    lows: list[int] = []
    highs: list[int] = []
    for low, high in spans:
        if highs and low < highs[-1]:
            highs[-1] = max(highs[-1], high)
        else:
            lows.append(low)
            highs.append(high)
    return lows, highs


def _full_days(
    agent: AgentSchedule, meeting_type: MeetingType, booked: Sequence[BookedMeeting], zone: ZoneInfo
) -> set[date]:
    """Local dates on which the agent has reached a daily or weekly maximum (existing meetings count)."""
    per_day: dict[date, int] = {}
    per_type_day: dict[date, int] = {}
    per_week: dict[tuple[int, int], int] = {}
    for meeting in booked:
        day = local_date(to_seconds(meeting.start), zone)
        per_day[day] = per_day.get(day, 0) + 1
        week = day.isocalendar()[:2]
        per_week[week] = per_week.get(week, 0) + 1
        if meeting.meeting_type == meeting_type.name:
            per_type_day[day] = per_type_day.get(day, 0) + 1
    full: set[date] = set()
    if agent.daily_max is not None:
        full |= {day for day, count in per_day.items() if count >= agent.daily_max}
    if meeting_type.daily_max is not None:
        full |= {day for day, count in per_type_day.items() if count >= meeting_type.daily_max}
    if agent.weekly_max is not None:
        full_weeks = [week for week, count in per_week.items() if count >= agent.weekly_max]
        full |= {date.fromisocalendar(year, week, weekday) for year, week in full_weeks for weekday in range(1, 8)}
    return full


def agent_slot_seconds(
    agent: AgentSchedule,
    meeting_type: MeetingType,
    busy: Iterable[Busy],
    now: datetime,
    booked: Sequence[BookedMeeting] = (),
) -> list[tuple[int, int]]:
    """The agent's free slots as (start, end) seconds since the epoch, sorted: the core of `free_slots`."""
    zone = load_zone(agent.zone)
    rules = _rules(agent, meeting_type)
    now_seconds = to_seconds(now, "now")
    earliest = now_seconds + rules.notice
    if agent.daily_max == 0 or agent.weekly_max == 0 or meeting_type.daily_max == 0:
        return []
    # Busy times were checked aware when built; rounding outwards never shortens them.
    intervals = [(floor(b.start.timestamp()), ceil(b.end.timestamp())) for b in busy]
    intervals += [(floor(m.start.timestamp()), ceil(m.end.timestamp())) for m in booked]
    lows, highs = forbidden_starts(intervals, rules)
    full_days = _full_days(agent, meeting_type, booked, zone)
    today = local_date(now_seconds, zone)
    step = rules.step_minutes
    found: list[tuple[int, int]] = []
    blocked = 0  # index of the first forbidden range that may still matter: starts only grow
    for offset in range(rules.horizon_days + 1):
        day = today + timedelta(days=offset)
        if day in full_days or any(day in away for away in agent.out_of_office):
            continue
        ranges = day_ranges(agent.weekly, agent.overrides, day)
        if not ranges:
            continue
        clock = day_clock(day, zone)
        for first_minute, last_minute in ranges:
            range_end = clock.boundary(last_minute)
            minutes = range(-(-first_minute // step) * step, last_minute, step)
            if clock.offset is None:  # a day with a daylight-saving change: ask the zone for each start
                starts: Iterable[int | None] = [clock.instant(minute) for minute in minutes]
            else:
                midnight = clock.wall_seconds(0) - clock.offset
                starts = range(midnight + minutes.start * 60, midnight + minutes.stop * 60, step * 60)
            for start in starts:
                if start is None or start < earliest:
                    continue
                end = start + rules.duration
                if end > range_end:
                    break
                while blocked < len(highs) and highs[blocked] <= start:
                    blocked += 1
                if blocked < len(lows) and lows[blocked] < start:
                    continue
                found.append((start, end))
    return found


def free_slots(
    agents: Sequence[AgentSchedule],
    meeting_type: MeetingType,
    busy: Mapping[str, Iterable[Busy]],
    now: datetime,
    booked: Mapping[str, Sequence[BookedMeeting]] | None = None,
) -> list[Slot]:
    """The free slots of one agent or of a team, sorted by start: for a team, the union of the agents' slots, each
    with the agents free then, in the order given (the rotation order). `busy` and `booked` are keyed by agent key;
    an agent missing from them has no busy time. Raises InvalidInput when two agents share a key."""
    keys = [agent.key for agent in agents]
    _check(len(set(keys)) == len(keys), "agents", "each agent may appear only once.")
    booked = booked or {}
    who: dict[tuple[int, int], list[str]] = {}
    for agent in agents:
        for times in agent_slot_seconds(agent, meeting_type, busy.get(agent.key, ()), now, booked.get(agent.key, ())):
            who.setdefault(times, []).append(agent.key)
    instants: dict[int, datetime] = {}  # many agents share starts: build each datetime once

    def instant(seconds: int) -> datetime:
        found = instants.get(seconds)
        if found is None:
            found = instants[seconds] = to_instant(seconds)
        return found

    return [Slot(instant(start), instant(end), tuple(names)) for (start, end), names in sorted(who.items())]
