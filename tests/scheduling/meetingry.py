"""Meeting rows made directly, for the tests of notices and calendar sync (which must not wait for booking): an
agent (a user with the agent role and their profile), a visitor (a person with an email), and a meeting between
them. Every value a test does not name is a plain, recognisable default."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from overture.people.models import Company, Person
from overture.scheduling import rotation
from overture.scheduling.models import Agent, Meeting
from overture.users import service as users

from support import PASSWORD

BASE_URL = "https://chat.example.com"
SECRET_KEY = "meeting-links-secret-" + "k" * 32


def make_agent(
    session: Session,
    email: str = "rita@example.com",
    name: str = "Rita Rep",
    *,
    zone: str = "America/New_York",
    meeting_link: str = "https://meet.example.com/rita-rep",
) -> Agent:
    user = users.create_user(session, email, "agent", name=name, password=PASSWORD)
    agent = rotation.create_agent(session, user)
    agent.time_zone = zone
    agent.meeting_link = meeting_link
    session.flush()
    return agent


def make_person(
    session: Session,
    email: str | None = "chloe@customer.example",
    first_name: str | None = "Chloé",
    last_name: str | None = "Martin",
    *,
    phone: str | None = "+33 6 12 34 56 78",
    company: str | None = "Acme Corp",
) -> Person:
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


def make_meeting(
    session: Session,
    agent: Agent,
    person: Person | None,
    start: datetime,
    minutes: int = 30,
    **fields: Any,
) -> Meeting:
    values: dict[str, Any] = {
        "public_id": uuid.uuid4().hex[:16],
        "uid": f"{uuid.uuid4()}@chat.example.com",
        "agent_id": agent.id,
        "person_id": person.id if person is not None else None,
        "title": "Product demo",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "visitor_zone": "Europe/Paris",
        "meeting_link": agent.meeting_link,
        "status": "booked",
        "calendar_state": "pending",
        "site_key": "default",
    }
    meeting = Meeting(**{**values, **fields})
    session.add(meeting)
    session.flush()
    return meeting
