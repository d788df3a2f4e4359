"""The team view for the `availability` routing mode: the union of the team's free slots, each with the agents free
then, in rotation order."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from overture.scheduling.availability import MeetingType, free_slots
from overture.scheduling.hours import WeeklyHours, hours

from .schedules import DEMO, agent, at, busy

PARIS = "Europe/Paris"
NOW = at(PARIS, 2026, 5, 29, 8, 0)


def test_the_team_sees_the_union_of_slots_with_who_is_free_in_rotation_order() -> None:
    ann = agent("ann", weekly=WeeklyHours(mon=hours("09:00-10:00")), horizon_days=3)
    bob = agent("bob", weekly=WeeklyHours(mon=hours("09:30-11:00")), horizon_days=3)
    cid = agent("cid", zone="Europe/London", weekly=WeeklyHours(mon=hours("08:00-09:00")), horizon_days=3)
    busy_times = {"bob": [busy(at(PARIS, 2026, 6, 1, 10, 0), 30)]}
    slots = free_slots([cid, ann, bob], DEMO, busy_times, NOW)
    seen = [(slot.start.astimezone(ZoneInfo(PARIS)).strftime("%H:%M"), slot.agents) for slot in slots]
    assert seen == [
        ("09:00", ("cid", "ann")),  # 08:00 in London is 09:00 in Paris
        ("09:30", ("cid", "ann", "bob")),
        ("10:30", ("bob",)),
    ]


def test_a_team_slot_lists_exactly_the_agents_who_have_it_alone() -> None:
    team = [agent(f"agent{n}", horizon_days=5, step=timedelta(minutes=15 * (1 + n % 2))) for n in range(6)]
    busy_times = {
        member.key: [busy(at(PARIS, 2026, 6, 1 + n % 3, 9 + n, 15 * (n % 4)), 45 + 15 * n)]
        for n, member in enumerate(team)
    }
    typed = MeetingType("demo", duration=timedelta(minutes=45))
    union = free_slots(team, typed, busy_times, NOW)
    for member in team:
        alone = {(s.start, s.end) for s in free_slots([member], typed, busy_times, NOW)}
        in_union = {(s.start, s.end) for s in union if member.key in s.agents}
        assert alone == in_union
    assert [slot.start for slot in union] == sorted({slot.start for slot in union})
