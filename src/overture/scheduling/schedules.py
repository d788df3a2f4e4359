"""An agent's stored settings and a meeting type's row, turned into the plain values availability.py computes on.

The stored JSON was validated when it was saved (scheduling/agents.py); a value that no longer parses (a zone
removed from tzdata, a row edited by hand) raises InvalidInput naming the agent, so one bad row is reported
instead of silently offering wrong times.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from overture.errors import InvalidInput, Problem
from overture.scheduling import availability
from overture.scheduling.hours import DateOverride, DateRange, Hours, WeeklyHours
from overture.scheduling.models import Agent, MeetingType


def schedule_of(agent: Agent) -> availability.AgentSchedule:
    """The availability settings of `agent`, keyed by the agent's id (as a string)."""
    try:
        weekly = WeeklyHours(**{day: tuple(Hours.parse(text) for text in ranges)
                                for day, ranges in (agent.weekly_hours or {}).items()})  # fmt: skip
        overrides = tuple(_override(item) for item in agent.date_overrides or [])
        away = tuple(
            DateRange(date.fromisoformat(item["start"]), date.fromisoformat(item["end"]))
            for item in agent.out_of_office or []
        )
        return availability.AgentSchedule(
            key=str(agent.id),
            zone=agent.time_zone,
            weekly=weekly,
            overrides=overrides,
            out_of_office=away,
            duration=timedelta(minutes=agent.duration_minutes),
            buffer_before=timedelta(minutes=agent.buffer_before_minutes),
            buffer_after=timedelta(minutes=agent.buffer_after_minutes),
            notice=timedelta(minutes=agent.notice_minutes),
            horizon_days=agent.horizon_days,
            step=timedelta(minutes=agent.step_minutes),
            daily_max=agent.daily_max,
            weekly_max=agent.weekly_max,
        )
    except (InvalidInput, KeyError, TypeError, ValueError) as exc:
        detail = exc.message if isinstance(exc, InvalidInput) else str(exc)
        message = f"The availability settings of agent {agent.id} cannot be read: {detail}"
        raise InvalidInput(message, [Problem(f"agents.{agent.id}", message)]) from exc


def _override(item: dict[str, Any]) -> DateOverride:
    hours = tuple(Hours.parse(text) for text in item.get("hours", []))
    return DateOverride(date.fromisoformat(item["date"]), hours, bool(item.get("replace", True)))


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def meeting_type_of(row: MeetingType | None, minutes: int | None = None) -> availability.MeetingType:
    """The meeting type a card books: its row's values (None: the agent's own), with the card's `minutes` as the
    duration when the card gives one."""
    if row is None:
        return availability.MeetingType(name="meeting", duration=_minutes(minutes))
    return availability.MeetingType(
        name=row.key,
        duration=_minutes(minutes) or _minutes(row.duration_minutes),
        buffer_before=_minutes(row.buffer_before_minutes),
        buffer_after=_minutes(row.buffer_after_minutes),
        notice=_minutes(row.notice_minutes),
        horizon_days=row.horizon_days,
        step=_minutes(row.step_minutes),
        daily_max=row.daily_max,
    )
