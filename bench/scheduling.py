"""The availability benchmark of the meetings issue: the free slots of a team of 50 agents over 28 days, with 200
busy intervals each (10,000 in all, unsorted and overlapping), for the `availability` routing mode (the union of
the team's slots with the agents free at each).

Prints `availability: N ms`, the median of several runs (target: under 50 ms).

Run: .venv-dev/bin/python bench/scheduling.py
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from overture.scheduling.availability import AgentSchedule, Busy, MeetingType, free_slots
from overture.scheduling.hours import DateOverride, DateRange, WeeklyHours, hours

AGENTS = 50
DAYS = 28
BUSY_PER_AGENT = 200
RUNS = 15
ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/London"]
NOW = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)  # the horizon crosses the March DST changes of Europe and the US


def team(rng: random.Random) -> list[AgentSchedule]:
    week_day = hours("09:00-12:00", "13:00-17:30")
    weekly = WeeklyHours(mon=week_day, tue=week_day, wed=week_day, thu=week_day, fri=hours("09:00-15:00"))
    start = NOW.date()
    return [
        AgentSchedule(
            key=f"agent{number}@example.com",
            zone=ZONES[number % len(ZONES)],
            weekly=weekly,
            overrides=(DateOverride(start + timedelta(days=rng.randrange(DAYS))),),
            out_of_office=(DateRange(start + timedelta(days=20), start + timedelta(days=21)),)
            if number % 7 == 0
            else (),
            buffer_before=timedelta(minutes=5),
            buffer_after=timedelta(minutes=10),
            horizon_days=DAYS,
            step=timedelta(minutes=15),
            daily_max=6,
            weekly_max=20,
        )
        for number in range(AGENTS)
    ]


def busy_times(rng: random.Random, agents: list[AgentSchedule]) -> dict[str, list[Busy]]:
    busy: dict[str, list[Busy]] = {}
    for agent in agents:
        times = []
        for _ in range(BUSY_PER_AGENT):
            start = NOW + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            times.append(Busy(start, start + timedelta(minutes=rng.choice([15, 30, 45, 60, 90, 120]))))
        busy[agent.key] = times
    return busy


def main() -> None:
    rng = random.Random(6)
    agents = team(rng)
    busy = busy_times(rng, agents)
    meeting_type = MeetingType("demo", duration=timedelta(minutes=30), notice=timedelta(hours=24))
    durations = []
    for _ in range(RUNS):
        started = time.perf_counter()
        slots = free_slots(agents, meeting_type, busy, NOW)
        durations.append((time.perf_counter() - started) * 1000)
    print(f"slots: {len(slots)} distinct times, {sum(len(slot.agents) for slot in slots)} agent slots")  # noqa: T201
    print(f"availability: {statistics.median(durations):.1f} ms")  # noqa: T201


if __name__ == "__main__":
    main()
