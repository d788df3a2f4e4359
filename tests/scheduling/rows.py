"""Rows of the scheduling tables, made directly (not through booking) for the tests of meetings, notices and calendar
sync: agents (a user with the agent role and their profile), people, teams, meetings between them and routing
decisions. Every value a test does not pass is a plain default: an agent in UTC on the built-in calendar with no video
room, a person with only the names given, a meeting booked three days before it starts, on no site, with calendar
state "none" (as on the built-in calendar). A test passes, as keyword arguments, every value its assertions read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.calendars.models import CalendarConnection
from overture.people.models import Company, Person
from overture.scheduling import rotation
from overture.scheduling.models import Agent, Meeting, RoutingDecision, Team
from overture.users import service as users
from overture.users.models import User

from support import PASSWORD

BASE_URL = "http://testserver"
SECRET_KEY = "test-secret-key-" + "x" * 32  # the key of the `settings` fixture, so links made here open in the app
# A Monday. Agents work 09:00-17:00 UTC on weekdays and need 24 hours' notice (the defaults).
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def make_agent(
    session: Session,
    email: str,
    name: str,
    *,
    provider: str | None = "builtin",
    zone: str = "UTC",
    meeting_link: str = "",
) -> Agent:
    """An agent (a new user, or the existing one with this email) in `zone`, whose meetings take place at
    `meeting_link`, with a connected calendar of `provider` (None: no calendar at all)."""
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = users.create_user(session, email, "agent", name=name, password=PASSWORD)
    agent = rotation.create_agent(session, user)
    agent.time_zone = zone
    agent.meeting_link = meeting_link
    if provider is not None:
        session.add(CalendarConnection(agent_id=agent.id, provider=provider, settings={}))
    session.flush()
    return agent


def make_person(
    session: Session,
    email: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
    *,
    phone: str | None = None,
    company: str | None = None,
) -> Person:
    """A person; with `company`, at a new company of that name."""
    found = Company(name=company) if company else None
    if found is not None:
        session.add(found)
        session.flush()
    person = Person(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        company_id=found.id if found is not None else None,
    )
    session.add(person)
    session.flush()
    return person


def make_team(session: Session, key: str, agents: list[Agent], *, credit_back: bool = False) -> Team:
    team = rotation.create_team(session, key, key.title())
    team.credit_back = credit_back
    for agent in agents:
        rotation.add_member(session, team, agent)
    session.flush()
    return team


def make_meeting(
    session: Session,
    agent: Agent,
    start: datetime,
    minutes: int = 30,
    *,
    person: Person | None = None,
    title: str | None = None,
    calendar_state: str = "none",
    site_key: str | None = None,
    **values: Any,
) -> Meeting:
    """A booked meeting of `agent` with `person`, titled "Demo with <agent's name>" unless `title` is given, at the
    agent's meeting link; `values` set any other column."""
    defaults: dict[str, Any] = {
        "public_id": "m_" + uuid.uuid4().hex[:16],
        "uid": f"{uuid.uuid4()}@testserver",
        "agent_id": agent.id,
        "person_id": person.id if person is not None else None,
        "title": f"Demo with {agent.name}" if title is None else title,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "visitor_zone": "Europe/Paris",
        "meeting_link": agent.meeting_link,
        "status": "booked",
        "calendar_state": calendar_state,
        "site_key": site_key,
        "meeting_type_id": None,
        "created_at": start - timedelta(days=3),
        "updated_at": start - timedelta(days=3),
    }
    meeting = Meeting(**{**defaults, **values})
    session.add(meeting)
    session.flush()
    return meeting


def make_decision(session: Session, agent: Agent, team: Team | None = None, **values: Any) -> RoutingDecision:
    decision = RoutingDecision(
        team_id=team.id if team else None, agent_id=agent.id, decided_at=values.pop("decided_at", MONDAY), **values
    )
    session.add(decision)
    session.flush()
    return decision
