"""Why an agent would be skipped by booking right now, as the Routing page and the team API show it beside "next".

Booking gives a team's meeting to the first member in turn who is not paused and has a free slot; the slot check
reads calendars (busy.py, through its short cache). This module asks the same question of each agent with the
agent's own meeting settings, so that "next" names who booking would pick now and the others carry the reason they
are passed over: no calendar, a calendar that needs attention or could not be read, out of office, or no free time
within their horizon (hours, caps and meetings all counted). Reads calendars: call it outside any transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from overture.calendars.models import CalendarConnection
from overture.calendars.world import CalendarWorld
from overture.errors import InvalidInput
from overture.scheduling.availability import BookedMeeting, Busy, agent_slot_seconds
from overture.scheduling.booking import booked_meetings
from overture.scheduling.busy import read_busy
from overture.scheduling.clock import load_zone
from overture.scheduling.models import Agent
from overture.scheduling.schedules import meeting_type_of, schedule_of

# Each agent's reason to be skipped now, None when booking could give them a meeting.
SkipReasons = dict[int, str | None]


def skip_reasons(world: CalendarWorld, now: datetime, agent_ids: Sequence[int] | None = None) -> SkipReasons:
    """For each agent (every agent when `agent_ids` is None), why booking would pass them over now (None: they
    have a free slot)."""
    with world.db.read() as session:
        query = select(Agent) if agent_ids is None else select(Agent).where(Agent.id.in_(list(agent_ids)))
        agents = {agent.id: agent for agent in session.scalars(query)}
        connected = set(session.scalars(
            select(CalendarConnection.agent_id).where(CalendarConnection.agent_id.in_(list(agents)))))  # fmt: skip
        horizon = max((agent.horizon_days for agent in agents.values()), default=0)
        end = now + timedelta(days=horizon + 2)
        booked = booked_meetings(session, list(agents), now, end)
        session.expunge_all()
    readable = [i for i in agents if i in connected and agents[i].attention is None]
    busy = read_busy(world, readable, now, end, now)
    reasons: SkipReasons = {}
    for agent_id, agent in agents.items():
        if agent_id not in connected:
            reasons[agent_id] = "No calendar connected."
        elif agent.attention is not None:
            reasons[agent_id] = f"Their calendar needs attention: {agent.attention}"
        elif busy.get(agent_id) is None:
            reasons[agent_id] = "Their calendar could not be read just now."
        else:
            reasons[agent_id] = _without_slot(agent, busy[agent_id] or [], booked.get(str(agent_id), []), now)
    return reasons


def _without_slot(agent: Agent, busy: list[Busy], booked: list[BookedMeeting], now: datetime) -> str | None:
    try:
        schedule = schedule_of(agent)
    except InvalidInput as exc:
        return exc.message
    if agent_slot_seconds(schedule, meeting_type_of(None), busy, now, booked):
        return None
    today = now.astimezone(load_zone(agent.time_zone)).date()
    for away in schedule.out_of_office:
        if away.first <= today <= away.last:
            return f"Out of office until {away.last.isoformat()}."
    return f"No free time in the next {agent.horizon_days} days (hours, notice, caps and meetings counted)."
