"""Agents: the meeting-taking profile of users with the agent role, their availability settings, and their calendar
connection as routing sees it (connecting puts the agent in the routing queue; disconnecting needs attention).

Who may manage whom: an agent manages their own profile; admins and sales admins manage every agent.

The calendar account itself is checked and stored by calendars/connections.py; this module adds what needs both
layers: joining the default team "sales" at the end of its rotation, and clearing or raising "needs attention".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.calendars import connections
from overture.calendars.accounts import Account
from overture.calendars.models import CalendarConnection
from overture.calendars.world import CalendarWorld
from overture.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from overture.scheduling import attention, rotation
from overture.scheduling.hours import WEEKDAYS, Hours
from overture.scheduling.limits import BOUNDS
from overture.scheduling.models import Agent, Team, TeamMember
from overture.users.models import User
from overture.users.roles import Role

MANAGERS = frozenset({Role.admin, Role.sales_admin})
# The one default team: agents join its rotation when they connect a calendar.
DEFAULT_TEAM = ("sales", "Sales")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Status = Literal["connected", "needs_attention", "not_connected"]

LABELS = {
    "display_name": "The display name",
    "photo_url": "The photo URL",
    "time_zone": "The time zone",
    "weekly_hours": "The working hours",
    "date_overrides": "The date overrides",
    "out_of_office": "Out of office",
    "duration_minutes": "The meeting duration (minutes)",
    "buffer_before_minutes": "The buffer before meetings (minutes)",
    "buffer_after_minutes": "The buffer after meetings (minutes)",
    "notice_minutes": "The minimum notice (minutes)",
    "horizon_days": "The booking horizon (days)",
    "step_minutes": "The slot step (minutes)",
    "daily_max": "The daily maximum of meetings",
    "weekly_max": "The weekly maximum of meetings",
    "meeting_link": "The meeting link",
}


# --- who is an agent, who manages whom ---------------------------------------------------------------------------


def agent_of(session: Session, user: User) -> Agent | None:
    """The user's agent profile, if they have one."""
    return session.scalar(select(Agent).where(Agent.user_id == user.id))


def ensure_agent(session: Session, user: User) -> Agent:
    """The user's agent profile, made on first use. Raises InvalidInput when the user does not have the agent role
    (admins and sales admins manage agents; they are not agents themselves)."""
    found = agent_of(session, user)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return rotation.create_agent(session, user)
    except IntegrityError:
        # Another request made the profile between our look-up and our insert (two first changes at once;
        # PostgreSQL made us wait for it, then refused ours): that profile is the one.
        found = agent_of(session, user)
        if found is None:
            raise
        return found


def may_manage(user: User, agent: Agent) -> bool:
    return user.role in MANAGERS or agent.user_id == user.id


def agent_for(session: Session, user: User, agent_id: int) -> Agent:
    """The agent `agent_id`, if `user` may manage them. Raises NotFound, or Forbidden for another agent's profile."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"There is no agent {agent_id}.")
    if not may_manage(user, agent):
        raise Forbidden("Agents see and change their own calendar only.")
    return agent


def user_to_set_up(session: Session, user: User, user_id: int) -> User:
    """The user whose agent profile `user` may create: their own, or (for admins and sales admins) anyone's."""
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(f"There is no user {user_id}.")
    if user.role not in MANAGERS and target.id != user.id:
        raise Forbidden("Agents set up their own calendar only.")
    return target


@dataclass(frozen=True)
class AgentRow:
    """One line of the agents list: a user with the agent role, their profile (None: not set up yet) and
    calendar connection."""

    user: User
    agent: Agent | None
    connection: CalendarConnection | None

    @property
    def status(self) -> Status:
        return status_of(self.agent, self.connection)


def status_of(agent: Agent | None, connection: CalendarConnection | None) -> Status:
    if agent is not None and agent.attention:
        return "needs_attention"
    return "connected" if connection is not None else "not_connected"


def listing(session: Session, only: User | None = None) -> list[AgentRow]:
    """Every active user with the agent role, by name, with profile and connection (`only`: that user alone)."""
    query = (
        select(User, Agent, CalendarConnection)
        .outerjoin(Agent, Agent.user_id == User.id)
        .outerjoin(CalendarConnection, CalendarConnection.agent_id == Agent.id)
        .where(User.role == Role.agent, User.is_active.is_(True))
        .order_by(User.name, User.email)
    )
    if only is not None:
        query = query.where(User.id == only.id)
    return [AgentRow(user, agent, connection) for user, agent, connection in session.execute(query)]


# --- settings ----------------------------------------------------------------------------------------------------


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _plain(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("Remove the invisible control characters.")
    return value.strip()


def _web_address(value: str) -> str:
    value = _plain(value)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or " " in value:
        raise ValueError("Enter a full address starting with https://.")
    return value


def _ranges(texts: list[str]) -> list[str]:
    """Each "HH:MM-HH:MM" range checked and written the same way, in order of start."""
    parsed = []
    for text in texts:
        try:
            parsed.append(Hours.parse(_plain(text)))
        except InvalidInput as exc:
            raise ValueError(exc.problems[0].message if exc.problems else exc.message) from None
    return [str(hours) for hours in sorted(parsed, key=lambda hours: hours.start)]


# The ranges of one day, e.g. ["09:00-12:00", "13:00-17:30"]; none: not worked.
DayHours = Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=12), AfterValidator(_ranges)]


class DateOverrideIn(BaseModel):
    """Hours for one date: `replace` (default) puts `hours` instead of the weekly ones, no hours being a day off;
    `replace: false` adds them (extra hours)."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    hours: DayHours = Field(default_factory=list)
    replace: bool = True


class OutOfOfficeIn(BaseModel):
    """Dates away, first and last included, on the agent's clock."""

    model_config = ConfigDict(extra="forbid")

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _in_order(self) -> OutOfOfficeIn:
        if self.end < self.start:
            raise ValueError(f"The last day ({self.end}) is before the first ({self.start}).")
        return self


def _default_hours() -> dict[Weekday, list[str]]:
    return {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"], "thu": ["09:00-17:00"],
            "fri": ["09:00-17:00"]}  # fmt: skip


def _bounded(name: str, default: int | None) -> Any:
    lowest, highest = BOUNDS[name]
    return Field(default, ge=lowest, le=highest)


class AgentSettingsIn(BaseModel):
    """An agent's availability and what visitors see. Working hours are ranges such as "09:00-12:00" per weekday
    (a day left out is not worked), read on the agent's clock (`time_zone`, an IANA name such as Europe/Paris)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field("", max_length=200, description="What visitors see; empty: the user's name.")
    photo_url: str = Field("", max_length=2000, description="An https address of the agent's photo.")
    time_zone: str = Field("UTC", max_length=64, description="An IANA time zone, e.g. Europe/Paris.")
    weekly_hours: dict[Weekday, DayHours] = Field(default_factory=_default_hours)
    date_overrides: list[DateOverrideIn] = Field(default_factory=list, max_length=400)
    out_of_office: list[OutOfOfficeIn] = Field(default_factory=list, max_length=100)
    duration_minutes: int = _bounded("duration_minutes", 30)
    buffer_before_minutes: int = _bounded("buffer_before_minutes", 0)
    buffer_after_minutes: int = _bounded("buffer_after_minutes", 0)
    notice_minutes: int = _bounded("notice_minutes", 24 * 60)
    horizon_days: int = _bounded("horizon_days", 28)
    step_minutes: int = _bounded("step_minutes", 30)
    daily_max: int | None = _bounded("daily_max", None)
    weekly_max: int | None = _bounded("weekly_max", None)
    meeting_link: str = Field(
        "", max_length=2000, description="A personal video-room URL; empty: Google or Microsoft adds one if they can."
    )

    @field_validator("display_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _plain(value)

    @field_validator("photo_url", "meeting_link")
    @classmethod
    def _address(cls, value: str) -> str:
        return _web_address(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        value = value.strip()
        if value not in _zones():
            raise ValueError(f"{value!r} is not a time zone: use an IANA name such as Europe/Paris.")
        return value

    @field_validator("weekly_hours")
    @classmethod
    def _week_in_order(cls, value: dict[Weekday, list[str]]) -> dict[Weekday, list[str]]:
        return {day: value[day] for day in WEEKDAYS if day in value}

    @field_validator("date_overrides")
    @classmethod
    def _one_override_a_day(cls, value: list[DateOverrideIn]) -> list[DateOverrideIn]:
        seen: set[dt.date] = set()
        for item in value:
            if item.date in seen:
                raise ValueError(f"{item.date} is given twice: give each date once.")
            seen.add(item.date)
        return sorted(value, key=lambda item: item.date)


def _problem(error: Mapping[str, Any]) -> Problem:
    """A pydantic error as a Problem naming the setting and saying why in words."""
    location = [str(part) for part in error["loc"] if part != "[key]"]
    path = ".".join(location) or "settings"
    field = location[0] if location else ""
    label = LABELS.get(field, f"'{field}'")
    kind, context = str(error["type"]), error.get("ctx") or {}
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    elif kind == "extra_forbidden":
        message = f"'{location[-1]}' is not an agent setting."
    elif kind in ("greater_than_equal", "less_than_equal") and field in BOUNDS:
        lowest, highest = BOUNDS[field]
        message = f"{label} must be a whole number from {lowest} to {highest}."
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"{label} must be a whole number."
    elif kind in ("string_too_long", "too_long"):
        unit = "characters" if kind.startswith("string") else "entries"
        message = f"{label}: use at most {context.get('max_length')} {unit}."
    elif kind == "literal_error":
        message = "Use a weekday: mon, tue, wed, thu, fri, sat or sun."
    elif kind.startswith("date"):
        message = "Write the date as YYYY-MM-DD, e.g. 2026-12-24."
    elif kind == "missing":
        message = f"{label}: '{location[-1]}' is required."
    else:
        message = f"{label}: {error['msg']}."
    return Problem(path, message)


class AgentSettingsChanges(BaseModel):
    """A change of an agent's settings: only the settings sent change. The shapes are read here (what the API's
    schema shows); the values are checked with the agent's other settings by `changed_settings`, which names each
    problem by its setting."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = None
    photo_url: str | None = None
    time_zone: str | None = Field(None, description="An IANA time zone, e.g. Europe/Paris.")
    weekly_hours: dict[Weekday, list[str]] | None = Field(
        None, description='Ranges per weekday on the agent\'s clock, e.g. {"mon": ["09:00-12:00", "13:00-17:00"]}.'
    )
    date_overrides: list[DateOverrideIn] | None = None
    out_of_office: list[OutOfOfficeIn] | None = None
    duration_minutes: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    notice_minutes: int | None = None
    horizon_days: int | None = None
    step_minutes: int | None = None
    daily_max: int | None = Field(None, description="Meetings per day at most; null: no cap.")
    weekly_max: int | None = Field(None, description="Meetings per week at most; null: no cap.")
    meeting_link: str | None = None

    def sent(self) -> dict[str, Any]:
        """The settings sent, as plain JSON values."""
        return self.model_dump(mode="json", exclude_unset=True)


def parse_settings(data: Mapping[str, Any]) -> AgentSettingsIn:
    """The settings in `data`, checked. Raises InvalidInput listing every problem, each naming its setting."""
    try:
        return AgentSettingsIn.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        summary = problems[0].message if len(problems) == 1 else f"{len(problems)} settings need a fix."
        raise InvalidInput(f"The settings are not saved. {summary}", problems) from None


def stored_settings(agent: Agent) -> dict[str, Any]:
    """The agent's settings as stored (plain JSON values), e.g. to fill a form."""
    return {name: getattr(agent, name) for name in AgentSettingsIn.model_fields}


def settings_of(agent: Agent) -> AgentSettingsIn:
    """The agent's current settings. Raises InvalidInput if a stored value no longer passes (edited by hand)."""
    return parse_settings(stored_settings(agent))


def changed_settings(agent: Agent, changes: Mapping[str, Any]) -> AgentSettingsIn:
    """The agent's settings with `changes` applied, checked as a whole. Raises InvalidInput."""
    return parse_settings({**stored_settings(agent), **changes})


def update_settings(session: Session, agent: Agent, settings_in: AgentSettingsIn) -> Agent:
    """Stores checked settings (all of them: nothing is half-written) and keeps the calendar connection's copy of
    the time zone and of whether Google/Microsoft should add a video call."""
    values = settings_in.model_dump(mode="json")
    for name, value in values.items():
        setattr(agent, name, value)
    connection = connections.connection_of(session, agent.id)
    if connection is not None:
        connections.set_options(connection, **_options(agent))
    session.flush()
    return agent


# --- the calendar connection -----------------------------------------------------------------------------------


def _options(agent: Agent) -> dict[str, Any]:
    return {"zone": agent.time_zone, "online_meeting": not agent.meeting_link}


def _join_queue(session: Session, agent: Agent) -> None:
    """The agent joins the default team's rotation at its end, unless already in it (keeping their place)."""
    team = session.scalar(select(Team).where(Team.key == DEFAULT_TEAM[0]))
    if team is None:
        team = rotation.create_team(session, *DEFAULT_TEAM)
    member = select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.agent_id == agent.id)
    if session.scalar(member) is None:
        rotation.add_member(session, team, agent)


def connect(
    session: Session, agent: Agent, account: Account, *, secret_key: str, now: dt.datetime
) -> CalendarConnection:
    """Makes the checked `account` the agent's calendar: stored with its secret encrypted, the agent in the routing
    queue and no longer needing attention."""
    connection = connections.save(session, agent.id, account, secret_key, now, options=_options(agent))
    _join_queue(session, agent)
    attention.clear(session, agent)
    return connection


def disconnect(session: Session, agent: Agent, *, by: User, now: dt.datetime, base_url: str) -> CalendarConnection:
    """Removes the agent's calendar and its secrets. The agent keeps their place in the rotation but needs attention
    (routing skips them, and they get an email) until they connect a calendar again. Raises Conflict when no
    calendar is connected."""
    connection = connections.connection_of(session, agent.id)
    if connection is None:
        raise Conflict(f"{agent.name} has no calendar connected.")
    who = "you" if by.id == agent.user_id else (by.name or by.email)
    problem = (
        f"{connections.describe(connection)} was disconnected by {who}. Connect a calendar to take meetings again."
    )
    attention.mark(session, agent, problem, now, base_url)
    connections.remove(session, agent.id)
    return connection


# --- Google and Microsoft: consent in the agent's browser ------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """What finishing an OAuth connection did: whose calendar, described in words."""

    agent_id: int
    user_id: int
    description: str


def start_oauth(world: CalendarWorld, user: User, agent: Agent, provider: str) -> str:
    """The consent link for `agent`'s Google or Microsoft calendar, its `state` signed and naming the agent and
    `user`. Raises InvalidInput when the provider is not set up here."""
    if not may_manage(user, agent):
        raise Forbidden("Agents connect their own calendar only.")
    state = connections.oauth_state(world.secret_key, provider, agent.id, user.id)
    return connections.consent_url(world, provider, state)


def finish_oauth(world: CalendarWorld, user: User, provider: str, code: str, state: str, now: dt.datetime) -> Connected:
    """The provider sent `user` back with a code: trade it for tokens, check the calendar, then connect it in a short
    transaction of its own. Network calls happen first: call this with no writing transaction open. Raises
    InvalidInput (a changed or old state, another user's, a refused code), Forbidden or NotFound; then nothing is
    stored."""
    named = connections.read_oauth_state(world.secret_key, provider, state)
    if named.user_id != user.id:
        message = "This sign-in was started by another Overture user. Start again from your Calendar page."
        raise InvalidInput(f"The calendar is not connected. {message}", [Problem("state", message)])
    account = connections.oauth_account(world, provider, code, now)
    with world.db.write() as session:
        agent = agent_for(session, user, named.agent_id)
        connection = connect(session, agent, account, secret_key=world.secret_key, now=now)
        return Connected(agent.id, agent.user_id, connections.describe(connection))
