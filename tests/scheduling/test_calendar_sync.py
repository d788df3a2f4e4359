"""Writing meetings to the agents' calendars: a real Radicale server (create, update after a reschedule, cancel,
move to another agent's calendar), failures with backoff and the admin-visible error, the Google fake's throttling,
two workers at once, and the job that runs it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import icalendar
import pytest
from sqlalchemy import select

from calendars import conftest as radicale_server
from fakes.google_calendar import FakeGoogle, serve
from mail.smtp_server import closed_port
from overture.calendars import connections
from overture.calendars.caldav import CalDAVCalendar
from overture.calendars.models import CalendarConnection
from overture.calendars.world import CalendarWorld
from overture.db import Database, Wake
from overture.http import HttpClient
from overture.jobs import create_jobs
from overture.mail.models import OutboxMessage
from overture.scheduling import calendar_sync
from overture.scheduling.calendar_sync import retry_delay, sync_due
from overture.scheduling.models import Agent, Meeting
from overture.settings import Settings
from overture.users.models import User

from .rows import make_agent, make_meeting, make_person

USERS = radicale_server.USERS
Radicale = radicale_server.Radicale
radicale = radicale_server.radicale  # the session's real Radicale server (tests/calendars/conftest.py)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
SECRET_KEY = "calendar-secrets-key-" + "s" * 32


@pytest.fixture
def http() -> Iterator[HttpClient]:
    # Radicale and the fakes listen on 127.0.0.1; no retries inside a call: the job's backoff is under test.
    with HttpClient(allow_private=True, retries=0) as client:
        yield client


@pytest.fixture
def world(settings: Settings, db: Database, http: HttpClient) -> CalendarWorld:
    return CalendarWorld(settings, db, http, SECRET_KEY)


@pytest.fixture
def calendar_url(radicale: Radicale) -> str:
    return radicale.make_calendar("alice", f"work-{uuid.uuid4().hex[:8]}")


def connect(db: Database, agent_id: int, url: str, user: str = "alice", password: str | None = None) -> None:
    account = connections.Account(
        "caldav",
        {"url": url, "username": user, "calendar_url": url, "calendar_name": "Work"},
        {"password": USERS[user] if password is None else password},
    )
    with db.write() as session:
        connections.save(session, agent_id, account, SECRET_KEY, NOW)


def booked(db: Database, agent_email: str = "rita@example.com", start: datetime = START, **fields: Any) -> int:
    """A pending meeting of the agent (made when missing) with Chloé; its id."""
    with db.write() as session:
        agent = session.scalar(select(Agent).join(User, User.id == Agent.user_id).where(User.email == agent_email))
        if agent is None:
            agent = make_agent(
                session,
                agent_email,
                agent_email.split("@")[0].title(),
                provider=None,
                zone="America/New_York",
                meeting_link="https://meet.example.com/rita-rep",
            )
        person = make_person(session, f"visitor-{start:%H%M%S}-{agent.id}@customer.example", "Chloé", "Martin")
        return make_meeting(
            session, agent, start, 45, person=person, title="Product demo", calendar_state="pending", **fields
        ).id


def row(db: Database, meeting_id: int) -> Meeting:
    with db.read() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


def change(db: Database, meeting_id: int, **values: Any) -> None:
    with db.write() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        for name, value in values.items():
            setattr(meeting, name, value)


def event_at(href: str, user: str = "alice") -> icalendar.Event | None:
    """The event as the CalDAV server holds it (None when it is gone)."""
    response = httpx2.get(href, auth=(user, USERS[user]))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return event


def busy_on(url: str, day: datetime, user: str = "alice") -> list[tuple[datetime, datetime]]:
    with HttpClient(allow_private=True) as client:
        calendar = CalDAVCalendar(url, user, USERS[user], http=client, calendar_url=url)
        return [(busy.start, busy.end) for busy in calendar.busy(day, day + timedelta(days=2))]


# --- Radicale end to end ----------------------------------------------------------------------------------------


def test_a_booked_meeting_is_written_to_the_agents_caldav_calendar(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    connect(db, row(db, meeting_id).agent_id, calendar_url)

    assert sync_due(world, NOW) == 1

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_attempts, meeting.calendar_error) == ("written", 0, None)
    assert meeting.calendar_href is not None and meeting.calendar_href.startswith(calendar_url)
    assert meeting.calendar_etag
    event = event_at(meeting.calendar_href)
    assert event is not None
    assert str(event["UID"]) == meeting.uid
    assert str(event["SUMMARY"]) == "Product demo"
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=45)
    assert str(event["ORGANIZER"]) == "mailto:rita@example.com"
    assert str(event["ATTENDEE"]) == f"mailto:visitor-150000-{meeting.agent_id}@customer.example"
    assert str(event["LOCATION"]) == "https://meet.example.com/rita-rep"
    assert "Join the meeting: https://meet.example.com/rita-rep" in str(event["DESCRIPTION"])
    assert int(event.get("SEQUENCE", 0)) == 0
    assert sync_due(world, NOW + timedelta(minutes=1)) == 0, "a written meeting is not due again"


def test_a_rescheduled_meeting_updates_the_same_event_with_a_higher_sequence(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    connect(db, row(db, meeting_id).agent_id, calendar_url)
    sync_due(world, NOW)
    first = row(db, meeting_id)
    later = START + timedelta(days=1, hours=2)
    change(db, meeting_id, starts_at=later, ends_at=later + timedelta(minutes=45), sequence=1,
           status="rescheduled", calendar_state="pending")  # fmt: skip

    assert sync_due(world, NOW + timedelta(minutes=5)) == 1

    meeting = row(db, meeting_id)
    assert meeting.calendar_state == "written"
    assert meeting.calendar_href == first.calendar_href and meeting.calendar_etag != first.calendar_etag
    assert meeting.calendar_href is not None
    event = event_at(meeting.calendar_href)
    assert event is not None
    assert (event.decoded("DTSTART"), int(event["SEQUENCE"])) == (later, 1)
    assert busy_on(calendar_url, START - timedelta(hours=1)) == [(later, later + timedelta(minutes=45))]


def test_a_cancelled_meeting_is_removed_from_the_calendar(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    connect(db, row(db, meeting_id).agent_id, calendar_url)
    sync_due(world, NOW)
    href = row(db, meeting_id).calendar_href
    assert href is not None
    change(db, meeting_id, status="cancelled", calendar_state="cancel_pending", sequence=1)

    assert sync_due(world, NOW + timedelta(minutes=5)) == 1

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_href) == ("cancelled", None)
    assert event_at(href) is None
    assert busy_on(calendar_url, START - timedelta(hours=1)) == []


def test_an_event_moved_by_hand_in_the_calendar_is_still_brought_back_to_the_meeting(
    db: Database, world: CalendarWorld, calendar_url: str, radicale: Radicale
) -> None:
    meeting_id = booked(db)
    connect(db, row(db, meeting_id).agent_id, calendar_url)
    sync_due(world, NOW)
    href = row(db, meeting_id).calendar_href
    assert href is not None
    edited = httpx2.get(href, auth=("alice", USERS["alice"])).text.replace("SUMMARY:Product demo", "SUMMARY:Mine")
    assert radicale.put(href, edited).status_code == 204  # the event changed: a new ETag, ours is stale
    change(db, meeting_id, sequence=1, calendar_state="pending", title="Product demo (moved)")

    sync_due(world, NOW + timedelta(minutes=5))

    assert row(db, meeting_id).calendar_state == "written"
    event = event_at(href)
    assert event is not None and str(event["SUMMARY"]) == "Product demo (moved)"


def test_a_reassigned_meeting_leaves_the_previous_agents_calendar_for_the_new_one(
    db: Database, world: CalendarWorld, calendar_url: str, radicale: Radicale
) -> None:
    meeting_id = booked(db)
    first_agent = row(db, meeting_id).agent_id
    connect(db, first_agent, calendar_url)
    sync_due(world, NOW)
    old = row(db, meeting_id)
    assert old.calendar_href is not None
    bruno_url = radicale.make_calendar("bruno", f"work-{uuid.uuid4().hex[:8]}")
    with db.write() as session:
        second_agent = make_agent(session, "bruno@example.com", "Bruno Closer", provider=None).id
    connect(db, second_agent, bruno_url, user="bruno")
    removal = {"agent_id": first_agent, "uid": old.uid, "href": old.calendar_href, "etag": old.calendar_etag}
    change(db, meeting_id, agent_id=second_agent, calendar_removals=[removal], calendar_href=None,
           calendar_etag=None, calendar_state="pending", sequence=1)  # fmt: skip

    assert sync_due(world, NOW + timedelta(minutes=5)) == 1

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_removals) == ("written", [])
    assert event_at(old.calendar_href) is None
    assert meeting.calendar_href is not None and meeting.calendar_href.startswith(bruno_url)
    event = event_at(meeting.calendar_href, user="bruno")
    assert event is not None and str(event["ORGANIZER"]) == "mailto:bruno@example.com"


def test_a_meeting_reassigned_to_an_agent_without_a_calendar_still_leaves_the_previous_calendar(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    first_agent = row(db, meeting_id).agent_id
    connect(db, first_agent, calendar_url)
    sync_due(world, NOW)
    old = row(db, meeting_id)
    assert old.calendar_href is not None
    with db.write() as session:
        second_agent = make_agent(session, "bea@example.com", "Bea Builtin", provider=None).id
        session.add(CalendarConnection(agent_id=second_agent, provider="builtin", settings={}))
    removal = {"agent_id": first_agent, "uid": old.uid, "href": old.calendar_href, "etag": old.calendar_etag}
    change(db, meeting_id, agent_id=second_agent, calendar_removals=[removal], calendar_href=None,
           calendar_etag=None, calendar_state="none", sequence=1)  # fmt: skip

    assert sync_due(world, NOW + timedelta(minutes=5)) == 1

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_removals) == ("none", [])
    assert event_at(old.calendar_href) is None
    assert sync_due(world, NOW + timedelta(minutes=10)) == 0


# --- failures and backoff ---------------------------------------------------------------------------------------


def test_retries_wait_1_2_4_minutes_and_so_on_up_to_an_hour() -> None:
    waits = [retry_delay(attempts) for attempts in range(1, 10)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)]
    assert retry_delay(1, retry_after=600) == timedelta(minutes=10), "never sooner than the provider asked"
    assert retry_delay(3, retry_after=5) == timedelta(minutes=4)


def test_an_unreachable_server_leaves_the_meeting_booked_and_retries_with_backoff_until_it_works(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    agent_id = row(db, meeting_id).agent_id
    connect(db, agent_id, f"http://127.0.0.1:{closed_port()}/alice/work/")

    assert sync_due(world, NOW) == 1
    meeting = row(db, meeting_id)
    assert (meeting.status, meeting.calendar_state, meeting.calendar_attempts) == ("booked", "failed", 1)
    assert meeting.calendar_error is not None and "could not reach the calendar server" in meeting.calendar_error
    assert meeting.calendar_retry_at == NOW + timedelta(minutes=1)

    assert sync_due(world, NOW + timedelta(seconds=59)) == 0, "not before its retry time"
    assert sync_due(world, NOW + timedelta(minutes=1)) == 1
    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_attempts) == ("failed", 2)
    assert meeting.calendar_retry_at == NOW + timedelta(minutes=3)

    connect(db, agent_id, calendar_url)  # the server is back (the agent fixed the address)
    assert sync_due(world, NOW + timedelta(minutes=3)) == 1
    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_attempts) == ("written", 0)
    assert (meeting.calendar_error, meeting.calendar_retry_at) == (None, None)
    assert meeting.calendar_href is not None and event_at(meeting.calendar_href) is not None


def test_a_calendar_refusing_the_password_marks_the_agent_and_emails_them_once(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    agent_id = row(db, meeting_id).agent_id
    connect(db, agent_id, calendar_url, password="not-the-password")

    sync_due(world, NOW)
    sync_due(world, NOW + timedelta(minutes=1))

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_attempts) == ("failed", 2)
    assert meeting.calendar_error is not None
    assert "did not accept the username and app password" in meeting.calendar_error
    with db.read() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None and agent.attention == meeting.calendar_error
        subjects = list(session.scalars(select(OutboxMessage.subject)))
    assert subjects == ["Your calendar needs attention"]

    connect(db, agent_id, calendar_url)
    sync_due(world, NOW + timedelta(minutes=3))
    with db.read() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None and agent.attention is None, "a calendar that works again takes the agent back"


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle(owner="rita@example.com")
    server, thread = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def google_world(settings: Settings, db: Database, http: HttpClient, google: FakeGoogle) -> CalendarWorld:
    """The world of an Overture whose Google app is the fake's."""
    google_settings = settings.model_copy(update={
        "google_client_id": google.client_id,
        "google_client_secret": settings.google_client_secret.__class__(google.client_secret),
        "google_token_url": google.url + "/token",
        "google_api_url": google.url + "/calendar/v3",
    })  # fmt: skip
    return CalendarWorld(google_settings, db, http, SECRET_KEY)


def google_account(google: FakeGoogle) -> connections.Account:
    """An agent's Google account as a finished consent leaves it, with tokens the fake gave."""
    access, refresh = google.grant()
    secret = {"access_token": access, "refresh_token": refresh, "expires_at": (NOW + timedelta(days=3650)).isoformat(),
              "scope": "https://www.googleapis.com/auth/calendar"}  # fmt: skip
    return connections.Account("google", {"calendar_id": "primary"}, secret)


def test_a_throttled_google_calendar_is_retried_when_google_said_not_sooner(
    db: Database, settings: Settings, http: HttpClient, google: FakeGoogle
) -> None:
    world = google_world(settings, db, http, google)
    meeting_id = booked(db)
    with db.write() as session:
        account = google_account(google)
        connections.save(session, row(db, meeting_id).agent_id, account, SECRET_KEY, NOW)
    google.fail_next(429, "rateLimitExceeded", retry_after="600")

    sync_due(world, NOW)

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_retry_at) == ("failed", NOW + timedelta(minutes=10))
    assert google.calendar() == {}

    sync_due(world, NOW + timedelta(minutes=10))

    meeting = row(db, meeting_id)
    assert meeting.calendar_state == "written"
    (event,) = google.calendar().values()
    assert event["summary"] == "Product demo"
    assert event["start"]["timeZone"] == "America/New_York", "shown on the agent's clock"


def test_a_meet_link_google_made_becomes_the_meetings_link_and_the_visitor_gets_it(
    db: Database, settings: Settings, http: HttpClient, google: FakeGoogle
) -> None:
    world = google_world(settings, db, http, google)
    meeting_id = booked(db, meeting_link="")
    with db.write() as session:
        account = google_account(google)
        connections.save(session, row(db, meeting_id).agent_id, account, SECRET_KEY, NOW, {"online_meeting": True})

    sync_due(world, NOW)

    meeting = row(db, meeting_id)
    (event,) = google.calendar().values()
    assert meeting.meeting_link == event["hangoutLink"] and meeting.meeting_link.startswith("https://")
    assert meeting.sequence == 1
    with db.read() as session:
        [again] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "imip_request")).all()
        text, ics = again.text_body, again.attachments[0].content
    assert meeting.meeting_link in text
    calendar = icalendar.Calendar.from_ical(ics)
    (vevent,) = calendar.walk("VEVENT")
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"])) == (meeting.uid, 1)
    assert meeting.meeting_link in str(vevent.get("LOCATION", "")) + str(vevent.get("DESCRIPTION", ""))


# --- agents with nothing to write, concurrency, the job ----------------------------------------------------------


def test_an_agent_with_the_builtin_calendar_or_none_has_nothing_to_write(db: Database, world: CalendarWorld) -> None:
    builtin = booked(db)
    with db.write() as session:
        session.add(CalendarConnection(agent_id=row(db, builtin).agent_id, provider="builtin", settings={}))
    without = booked(db, "ann@example.com")

    assert sync_due(world, NOW) == 2

    assert [row(db, builtin).calendar_state, row(db, without).calendar_state] == ["none", "none"]


def test_two_workers_at_once_write_each_event_exactly_once(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    ids = [booked(db, start=START + timedelta(hours=hour)) for hour in range(6)]
    connect(db, row(db, ids[0]).agent_id, calendar_url)
    counts: list[int] = []

    workers = [threading.Thread(target=lambda: counts.append(sync_due(world, NOW))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sum(counts) == 6
    assert [row(db, meeting_id).calendar_state for meeting_id in ids] == ["written"] * 6
    assert busy_on(calendar_url, START - timedelta(hours=1)) == [
        (START + timedelta(hours=hour), START + timedelta(hours=hour, minutes=45)) for hour in range(6)
    ]
    assert all(row(db, meeting_id).calendar_attempts == 0 for meeting_id in ids)


def test_a_meeting_changed_while_its_event_was_written_is_written_again_at_once(
    db: Database, world: CalendarWorld, calendar_url: str
) -> None:
    meeting_id = booked(db)
    connect(db, row(db, meeting_id).agent_id, calendar_url)
    claim = calendar_sync._claim_next(world, NOW)
    assert claim is not None
    later = START + timedelta(hours=3)
    # The visitor reschedules while the worker is talking to the calendar.
    change(db, meeting_id, starts_at=later, ends_at=later + timedelta(minutes=45), sequence=1, calendar_state="pending",
           calendar_retry_at=None)  # fmt: skip
    calendar_sync._record(world, claim, calendar_sync._sync(world, claim), NOW)

    meeting = row(db, meeting_id)
    assert (meeting.calendar_state, meeting.calendar_retry_at) == ("pending", None)
    assert meeting.calendar_href is not None, "the event written is known, so the next pass updates it"

    assert sync_due(world, NOW) == 1
    event = event_at(meeting.calendar_href)
    assert event is not None and event.decoded("DTSTART") == later and int(event["SEQUENCE"]) == 1


def test_kicking_the_calendar_job_syncs_due_meetings(settings: Settings, db: Database) -> None:
    meeting_id = booked(db)
    with db.write() as session:
        session.add(CalendarConnection(agent_id=row(db, meeting_id).agent_id, provider="builtin", settings={}))
    jobs = create_jobs(settings, db)
    jobs.huey.immediate = True  # run the task as soon as it is enqueued

    jobs.wake(Wake.calendar)

    assert row(db, meeting_id).calendar_state == "none"
