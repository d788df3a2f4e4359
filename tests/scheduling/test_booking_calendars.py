"""Booking against real calendars (a Radicale CalDAV server): busy time in the agent's calendar is not offered, a
calendar read a moment ago is read again at booking, and a calendar that refuses its password takes the agent out
of routing and tells them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from calendars import conftest as radicale_server
from overture.calendars import connections
from overture.calendars.world import CalendarWorld
from overture.db import Database
from overture.dialogues.document import BookMeeting as BookMeetingSpec
from overture.http import HttpClient
from overture.mail.models import OutboxMessage
from overture.people.models import Person
from overture.scheduling import agents, booking
from overture.scheduling.models import Agent, Meeting, RoutingDecision
from overture.settings import Settings

from .bookings import make_agents

radicale = radicale_server.radicale  # the session's real Radicale server (tests/calendars/conftest.py)
Radicale = radicale_server.Radicale
SECRET_KEY = "booking-calendars-test-key-" + "x" * 20
SPEC = BookMeetingSpec(routing="round_robin", team="sales")


@pytest.fixture
def world(settings: Settings, db: Database) -> Iterator[CalendarWorld]:
    with HttpClient(allow_private=True, retries=0) as http:
        yield CalendarWorld(settings, db, http, SECRET_KEY)


def connect_caldav(db: Database, agent_id: int, radicale: Radicale, password: str) -> str:
    """Gives the agent alice's Radicale calendar (a new one); returns its URL."""
    calendar = radicale.make_calendar("alice", f"work-{uuid.uuid4().hex[:8]}")
    account = connections.Account("caldav", {"url": calendar, "username": "alice", "calendar_url": calendar},
                                  {"password": password})  # fmt: skip
    with db.write() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        existing = connections.connection_of(session, agent_id)
        if existing is not None:
            session.delete(existing)
            session.flush()
        agents.connect(session, agent, account, secret_key=SECRET_KEY, now=datetime.now(UTC))
    return calendar


def busy_event(radicale: Radicale, calendar: str, start: datetime, minutes: int = 60) -> None:
    uid = uuid.uuid4().hex
    stamp = "%Y%m%dT%H%M%SZ"
    end = start + timedelta(minutes=minutes)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:{start:{stamp}}\r\nDTSTART:{start.astimezone(UTC):{stamp}}\r\n"
        f"DTEND:{end.astimezone(UTC):{stamp}}\r\nSUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    response = radicale.put(f"{calendar}{uid}.ics", ics)
    assert response.status_code == 201, response.text  # a new event


def visitor(db: Database, email: str = "ann@acme.example") -> booking.BookingRequest:
    with db.write() as session:
        person = Person(email=email)
        session.add(person)
        session.flush()
        return booking.BookingRequest(spec=SPEC, person_id=person.id, values={"person.email": email})


def starts(offer: booking.Offer) -> list[datetime]:
    return [slot.start for slot in offer.slots]


def test_busy_time_in_the_agents_calendar_is_not_offered(
    db: Database, world: CalendarWorld, radicale: Radicale
) -> None:
    [agent_id] = make_agents(db, 1)
    calendar = connect_caldav(db, agent_id, radicale, radicale_server.USERS["alice"])
    now = datetime.now(UTC)
    request = visitor(db)
    first = starts(booking.offer(world, request, now))[3]
    busy_event(radicale, calendar, first)

    later = now + timedelta(seconds=world.settings.busy_cache_seconds + 1)  # the cache has expired
    offered = starts(booking.offer(world, request, later))

    assert first not in offered and first + timedelta(minutes=30) not in offered
    assert first + timedelta(minutes=60) in offered


def test_a_time_busy_since_the_offer_is_read_again_at_booking_and_refused(
    db: Database, world: CalendarWorld, radicale: Radicale
) -> None:
    [agent_id] = make_agents(db, 1)
    calendar = connect_caldav(db, agent_id, radicale, radicale_server.USERS["alice"])
    now = datetime.now(UTC)
    request = visitor(db)
    wanted = starts(booking.offer(world, request, now))[3]
    busy_event(radicale, calendar, wanted)  # the agent accepts another meeting in their own calendar
    assert wanted in starts(booking.offer(world, request, now)), "offers within the cache time reuse the last read"

    prepared = booking.prepare(world, request, wanted, now)
    assert isinstance(prepared, booking.Prepared)
    with db.write() as session:
        outcome = booking.book(session, world, prepared, visitor_zone="UTC", now=now)

    assert isinstance(outcome, booking.Taken)
    with db.read() as session:
        assert session.scalars(select(Meeting)).all() == []


def test_a_calendar_refusing_its_password_takes_the_agent_out_of_routing_and_tells_them(
    db: Database, world: CalendarWorld, radicale: Radicale
) -> None:
    first, second = make_agents(db, 2)
    connect_caldav(db, first, radicale, "a password alice changed")
    now = datetime.now(UTC)
    request = visitor(db)

    offer = booking.offer(world, request, now)
    assert offer.agent_name == "Agent 2"
    prepared = booking.prepare(world, request, offer.slots[0].start, now)
    assert isinstance(prepared, booking.Prepared)
    with db.write() as session:
        outcome = booking.book(session, world, prepared, visitor_zone="UTC", now=now)

    assert isinstance(outcome, booking.Booked) and outcome.meeting.agent_id == second
    with db.read() as session:
        agent = session.get(Agent, first)
        assert agent is not None and agent.attention is not None and "password" in agent.attention.lower()
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "calendar_attention")).all()
        assert [message.to for message in told] == [["agent1@example.com"]]
        decision = session.get(RoutingDecision, outcome.meeting.routing_decision_id)
        assert decision is not None and decision.skipped[0]["agent_id"] == first


def test_an_agent_whose_calendar_works_again_is_back_in_routing(
    db: Database, world: CalendarWorld, radicale: Radicale
) -> None:
    [agent_id] = make_agents(db, 1)
    connect_caldav(db, agent_id, radicale, "wrong")
    now = datetime.now(UTC)
    assert booking.offer(world, visitor(db), now).slots == ()
    connect_caldav(db, agent_id, radicale, radicale_server.USERS["alice"])  # the agent connects it again
    assert booking.offer(world, visitor(db, "bob@beta.example"), now).slots
