"""Properties of free slots over random agents, zones, daylight-saving dates and busy times, checked against the
rules read directly (and against a slow brute-force reading of them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from overture.scheduling.availability import AgentSchedule, Busy, MeetingType, Slot, free_slots
from overture.scheduling.clock import day_clock
from overture.scheduling.hours import DateOverride, Hours, WeeklyHours, day_ranges

ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
CHANGE_DAYS = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 10, 4), date(2026, 10, 25),
               date(2026, 11, 1)]  # fmt: skip


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[Hours, ...]:
    edges = sorted(draw(st.sets(st.integers(0, 96).map(lambda quarter: quarter * 15), max_size=4)))
    return tuple(Hours(low, high) for low, high in zip(edges[::2], edges[1::2], strict=False))


@st.composite
def cases(draw: st.DrawFn) -> tuple[AgentSchedule, MeetingType, list[Busy], datetime]:
    zone = draw(st.sampled_from(ZONES))
    weekly = WeeklyHours(*(draw(day_hours()) for _ in range(7)))
    now = datetime.combine(draw(st.sampled_from(CHANGE_DAYS)), datetime.min.time(), UTC) + timedelta(
        minutes=draw(st.integers(-3 * 24 * 60, 24 * 60))
    )
    override_day = (now + timedelta(days=draw(st.integers(0, 4)))).date()
    overrides = (DateOverride(override_day, draw(day_hours()), replace=draw(st.booleans())),)
    minutes = st.integers(0, 90).map(lambda n: timedelta(minutes=n))
    agent = AgentSchedule(
        "agent", zone, weekly, overrides,
        duration=timedelta(minutes=draw(st.sampled_from([15, 25, 30, 45, 60, 90]))),
        buffer_before=draw(minutes), buffer_after=draw(minutes),
        notice=timedelta(hours=draw(st.integers(0, 48))), horizon_days=draw(st.integers(0, 6)),
        step=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60]))),
    )  # fmt: skip
    meeting_type = MeetingType("demo", duration=draw(st.none() | st.just(timedelta(minutes=40))))
    busy = []
    for _ in range(draw(st.integers(0, 25))):
        start = now + timedelta(minutes=draw(st.integers(-600, 8 * 24 * 60)))
        busy.append(Busy(start, start + timedelta(minutes=draw(st.integers(0, 300)))))
    return agent, meeting_type, busy, now


def duration_of(agent: AgentSchedule, meeting_type: MeetingType) -> timedelta:
    return meeting_type.duration or agent.duration


def brute_force(agent: AgentSchedule, meeting_type: MeetingType, busy: list[Busy], now: datetime) -> list[Slot]:
    """Every step-aligned wall time of every working range, tried one by one with datetime arithmetic."""
    zone, duration, step = ZoneInfo(agent.zone), duration_of(agent, meeting_type), agent.step // timedelta(minutes=1)
    today = now.astimezone(zone).date()
    found = []
    for offset in range(agent.horizon_days + 1):
        day = today + timedelta(days=offset)
        for low, high in day_ranges(agent.weekly, agent.overrides, day):
            end_of_range = day_clock(day, zone).boundary(high)
            for minute in range(0, 24 * 60, step):
                if not low <= minute < high:
                    continue
                wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
                start = wall.replace(tzinfo=zone).astimezone(UTC)
                if start.astimezone(zone).replace(tzinfo=None) != wall:
                    continue  # skipped by the clock
                end = start + duration
                if start < now + agent.notice or end.timestamp() > end_of_range:
                    continue
                if any(start - agent.buffer_before < b.end and end + agent.buffer_after > b.start for b in busy):
                    continue
                found.append(Slot(start, end, ("agent",)))
    return sorted(found, key=lambda slot: slot.start)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_free_slots_obey_every_rule(case: tuple[AgentSchedule, MeetingType, list[Busy], datetime]) -> None:
    agent, meeting_type, busy, now = case
    zone, duration = ZoneInfo(agent.zone), duration_of(agent, meeting_type)
    slots = free_slots([agent], meeting_type, {"agent": busy}, now)
    starts = [slot.start for slot in slots]
    assert starts == sorted(set(starts))  # sorted and unique
    for slot in slots:
        assert slot.end - slot.start == duration
        # Never overlaps busy time widened by the buffers.
        for b in busy:
            assert not (slot.start - agent.buffer_before < b.end and slot.end + agent.buffer_after > b.start)
        # At least `notice` after now, on a local day within the horizon.
        local = slot.start.astimezone(zone)
        assert slot.start >= now + agent.notice
        assert 0 <= (local.date() - now.astimezone(zone).date()).days <= agent.horizon_days
        # Inside a working range of its local day, on a wall time aligned to the step.
        minute = local.hour * 60 + local.minute
        assert minute % (agent.step // timedelta(minutes=1)) == 0
        ranges = day_ranges(agent.weekly, agent.overrides, local.date())
        assert any(low <= minute < high for low, high in ranges)
        high = next(high for low, high in ranges if low <= minute < high)
        assert slot.end.timestamp() <= day_clock(local.date(), zone).boundary(high)
    assert slots == brute_force(agent, meeting_type, busy, now)
