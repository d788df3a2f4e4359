"""Meeting types: a named kind of meeting (a 30-minute demo, a 60-minute workshop) whose values replace the agent's
own when a `book_meeting` card books it. A value left empty (None) keeps the agent's own setting; `team` is the
team that takes the meeting when the card names none."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.scheduling import teams
from overture.scheduling.limits import BOUNDS, MEETING_TYPE_SETTINGS
from overture.scheduling.models import MeetingType, Team

# (lowest, highest) allowed for each number, the agents' own bounds; None is always allowed (the agent's value).
LIMITS: dict[str, tuple[int, int]] = {name: BOUNDS[name] for name in MEETING_TYPE_SETTINGS}
LABELS = {
    "duration_minutes": "duration (minutes)",
    "buffer_before_minutes": "buffer before (minutes)",
    "buffer_after_minutes": "buffer after (minutes)",
    "notice_minutes": "minimum notice (minutes)",
    "horizon_days": "booking horizon (days)",
    "step_minutes": "slot step (minutes)",
    "daily_max": "daily maximum per agent",
}
# What a meeting type holds besides its key; an update changes only the settings it is given.
SETTINGS = ("name", *LIMITS, "team")


def list_types(session: Session) -> list[MeetingType]:
    return list(session.scalars(select(MeetingType).order_by(func.lower(MeetingType.name), MeetingType.key)))


def get(session: Session, key: str) -> MeetingType:
    found = session.scalar(select(MeetingType).where(MeetingType.key == key))
    if found is None:
        raise NotFound(f"There is no meeting type '{key}'.")
    return found


def team_key(session: Session, meeting_type: MeetingType) -> str | None:
    if meeting_type.team_id is None:
        return None
    return session.scalar(select(Team.key).where(Team.id == meeting_type.team_id))


def _check(session: Session, values: Mapping[str, object]) -> tuple[dict[str, object], list[Problem]]:
    """The values as stored (team key -> team id) and every problem. None clears a number (the agent's own value
    applies again) or the team."""
    problems: list[Problem] = []
    out: dict[str, object] = {}
    for name, value in values.items():
        if name not in SETTINGS:
            problems.append(Problem(name, f"A meeting type has no setting '{name}'."))
        elif name == "name":
            try:
                out["name"] = teams.check_text(value if isinstance(value, str) else "", "name", 200)
            except InvalidInput as exc:
                problems.extend(exc.problems)
        elif name == "team":
            if value is None or value == "":
                out["team_id"] = None
            elif not isinstance(value, str) or not teams.KEY.match(value):
                problems.append(Problem("team", f"There is no team '{value}'."))
            else:
                found = session.scalar(select(Team.id).where(Team.key == value, Team.kind == "team"))
                if found is None:
                    problems.append(Problem("team", f"There is no team '{value}'."))
                out["team_id"] = found
        elif value is None:
            out[name] = None
        else:
            low, high = LIMITS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                problems.append(Problem(name, f"The {LABELS[name]} is a whole number from {low} to {high}."))
            out[name] = value
    return out, problems


def create(session: Session, key: str, values: Mapping[str, object]) -> MeetingType:
    """A new meeting type with the settings given (see SETTINGS; a name is required). Raises InvalidInput listing
    every bad value, Conflict for a used key."""
    checked, problems = _check(session, {"name": "", **values})
    try:
        teams.check_key(key)
    except InvalidInput as exc:
        problems = exc.problems + problems
    if problems:
        raise InvalidInput("The meeting type cannot be created.", problems)
    if session.scalar(select(MeetingType.id).where(MeetingType.key == key)) is not None:
        raise Conflict(
            f"A meeting type with the key '{key}' already exists.", [Problem("key", "This key is already used.")]
        )
    meeting_type = MeetingType(key=key, **checked)
    session.add(meeting_type)
    session.flush()
    return meeting_type


def update(session: Session, meeting_type: MeetingType, values: Mapping[str, object]) -> MeetingType:
    """Changes the settings given. Raises InvalidInput listing every bad value before changing anything."""
    checked, problems = _check(session, values)
    if problems:
        raise InvalidInput("The meeting type cannot be changed.", problems)
    for name, value in checked.items():
        setattr(meeting_type, name, value)
    session.flush()
    return meeting_type


def delete(session: Session, meeting_type: MeetingType) -> None:
    """Deletes the meeting type; meetings booked with it keep their times."""
    session.delete(meeting_type)
    session.flush()
