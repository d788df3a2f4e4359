"""Booking links: a team's and an agent's public booking page book as the chat's card does (rotation, account
owner, the database refusing a time taken), record the channel `link`, and a signed link books a known person
without asking what is known; a changed or expired one is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database, utcnow
from overture.mail.models import OutboxMessage
from overture.people.models import Person
from overture.scheduling import accounts, booking_links
from overture.scheduling.models import Agent, Meeting

from .bookings import Visitor, first_time, make_agents, publish_booking
from .rows import SECRET_KEY, make_person
from support import Personas, sign_in, token_for

# An offer and the pick of its first time must see one instant (see `stopped_clock`).
pytestmark = pytest.mark.usefixtures("stopped_clock")


def _times(page: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', page)


def _book(client: TestClient, path: str, email: str, *, start: str | None = None, **extra: str) -> str:
    """A visitor opens the page and presses the first time offered (or `start`); returns the answer's page."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    chosen = start or _times(page.text)[0]
    fields = {"first_name": "Chloé", "last_name": "Martin", "email": email, "zone": "Europe/Paris", "start": chosen}
    answer = client.post(urlsplit(path).path, data={**fields, **extra})
    return answer.text


def _agents_of_meetings(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.execute(select(Agent, Meeting).join(Meeting, Meeting.agent_id == Agent.id).order_by(Meeting.id))
        return [agent.name for agent, _ in rows]


def test_the_team_page_books_in_rotation_sends_the_invitation_and_records_the_channel_link(
    client: TestClient, db: Database
) -> None:
    make_agents(db, 3)
    for number in range(4):
        answer = _book(client, "/book/sales", f"visitor{number}@acme.example")
        assert "Your meeting is booked" in answer, answer
    assert _agents_of_meetings(db) == ["Agent 1", "Agent 2", "Agent 3", "Agent 1"]
    with db.read() as session:
        invitations = session.scalars(select(OutboxMessage.to).where(OutboxMessage.kind == "imip_request")).all()
        booked = session.scalars(select(Activity).where(Activity.type == "meeting.booked")).all()
        captured = session.scalars(select(Activity).where(Activity.type == "field.captured")).all()
        person = session.scalars(select(Person).where(Person.email == "visitor0@acme.example")).one()
    assert sorted(to[0] for to in invitations) == [f"visitor{n}@acme.example" for n in range(4)]
    assert [activity.attributes["channel"] for activity in booked] == ["link"] * 4
    assert {(a.attributes["field"], a.attributes["channel"]) for a in captured} == {
        ("person.first_name", "link"),
        ("person.last_name", "link"),
        ("person.email", "link"),
    }
    assert (person.first_name, person.last_name) == ("Chloé", "Martin")


def test_the_team_page_asks_the_account_owner_first_and_an_agent_page_books_that_agent(
    client: TestClient, db: Database
) -> None:
    make_agents(db, 3)
    with db.write() as session:
        accounts.add(session, "Globex", "globex.example", "agent3@example.com")
    assert "Your meeting is booked" in _book(client, "/book/sales", "hank@globex.example")
    assert "Your meeting is booked" in _book(client, "/book/sales/agent2", "ann@globex.example")
    assert "Your meeting is booked" in _book(client, "/book/sales", "bea@initech.example")
    assert _agents_of_meetings(db) == ["Agent 3", "Agent 2", "Agent 1"]


def test_a_time_taken_meanwhile_is_refused_with_fresh_times_and_keeps_nothing(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    first = _times(client.get("/book/sales").text)[0]
    assert "Your meeting is booked" in _book(client, "/book/sales", "first@acme.example", start=first)
    with db.read() as session:
        people_before = session.query(Person).count()
    answer = client.post("/book/sales", data={"first_name": "Late", "email": "late@acme.example",
                                              "zone": "Europe/Paris", "start": first})  # fmt: skip
    assert answer.status_code == 409
    assert "That time was just taken" in answer.text
    assert first not in _times(answer.text) and _times(answer.text), "fresh times, without the one taken"
    assert 'value="late@acme.example"' in answer.text, "what the visitor typed is kept on the page"
    with db.read() as session:
        assert session.query(Person).count() == people_before
        assert session.query(Meeting).count() == 1


def test_missing_or_wrong_answers_are_named_and_nothing_is_booked(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    start = _times(client.get("/book/sales").text)[0]
    answer = client.post("/book/sales", data={"first_name": "", "email": "not-an-email", "zone": "UTC", "start": start})
    assert answer.status_code == 422
    assert "Your first name is needed" in answer.text
    assert 'id="f-email" name="email" value="not-an-email"' in answer.text
    assert 'aria-describedby="f-email-problem"' in answer.text
    unknown = client.post("/book/sales", data={"first_name": "A", "email": "a@b.example", "zone": "Mars/Olympus",
                                               "start": start})  # fmt: skip
    assert unknown.status_code == 422 and "is not a time zone we know" in unknown.text
    assert client.get("/book/nobody").status_code == 404
    assert "There is no meeting type &#39;nope&#39;" in client.get("/book/sales?type=nope").text
    assert "has nobody at" in client.get("/book/sales/nobody").text
    with db.read() as session:
        assert session.query(Meeting).count() == 0


def test_a_signed_link_skips_what_is_known_and_a_changed_or_expired_one_is_refused(
    client: TestClient, db: Database
) -> None:
    make_agents(db, 1)
    with db.write() as session:
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        url = booking_links.signed_url(
            "http://testserver", SECRET_KEY, "/book/sales", chloe, utcnow() + timedelta(days=3)
        )
        old = booking_links.signed_url("http://testserver", SECRET_KEY, "/book/sales", chloe, utcnow() - timedelta(1))
        chloe_id = chloe.id
    page = client.get(url)
    assert "Booking as <strong>Chloé Martin</strong> (chloe@customer.example)" in page.text
    assert 'name="email"' not in page.text and 'name="first_name"' not in page.text
    query = {key: value[0] for key, value in parse_qs(urlsplit(url).query).items()}
    answer = client.post("/book/sales", data={"zone": "UTC", "start": _times(page.text)[0], **query})
    assert "Your meeting is booked" in answer.text
    with db.read() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert meeting.person_id == chloe_id
        assert session.query(Person).filter(Person.email.like("%customer%")).count() == 1

    tampered = client.get(url.replace(f"p={chloe_id}.", f"p={chloe_id + 1}."))
    assert tampered.status_code == 403 and "This booking link is not valid" in tampered.text
    expired = client.get(old)
    assert expired.status_code == 403 and "This booking link has expired" in expired.text
    forged = client.post("/book/sales", data={"zone": "UTC", "start": "x", "p": query["p"], "sig": "A" * 43})
    assert forged.status_code == 403


def test_the_admin_api_makes_a_signed_link_that_books_the_person(
    client: TestClient, db: Database, personas: Personas
) -> None:
    make_agents(db, 2)
    with db.write() as session:
        chloe_id = make_person(session, "chloe@customer.example", "Chloé", "Martin").id
        nameless_id = make_person(session, None).id
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    path = f"/api/v1/admin/people/{chloe_id}/booking-link"
    made = client.get(path, params={"team": "sales", "agent": "agent2", "days": 7}, headers=headers)
    assert made.status_code == 200, made.text
    url = made.json()["url"]
    assert url.startswith("http://testserver/book/sales/agent2?p=")
    page = client.get(url)
    assert "Booking as <strong>Chloé Martin</strong>" in page.text
    query = {key: value[0] for key, value in parse_qs(urlsplit(url).query).items()}
    answer = client.post("/book/sales/agent2", data={"zone": "UTC", "start": _times(page.text)[0], **query})
    assert "Your meeting is booked" in answer.text
    assert _agents_of_meetings(db) == ["Agent 2"]

    no_email = client.get(f"/api/v1/admin/people/{nameless_id}/booking-link", params={"team": "sales"}, headers=headers)
    assert no_email.status_code == 422 and "has no email" in no_email.text
    too_long = client.get(path, params={"team": "sales", "days": 999}, headers=headers)
    assert too_long.status_code == 422 and "1 to 366 days" in too_long.text
    assert client.get(path, params={"team": "nope"}, headers=headers).status_code == 404
    agent = {"Authorization": f"Bearer {token_for(db, personas.bob)}"}
    assert client.get(path, params={"team": "sales"}, headers=agent).status_code == 403


def test_the_dashboard_counts_booking_links_as_their_own_source(
    client: TestClient, db: Database, personas: Personas
) -> None:
    make_agents(db, 2)
    publish_booking(db)
    visitor = Visitor(client)
    assert visitor.pick(first_time(visitor.to_the_slots("chat@acme.example")))["status"] == "completed"
    assert "Your meeting is booked" in _book(client, "/book/sales", "link@acme.example")
    with db.read() as session:
        assert sorted(session.scalars(select(Meeting.channel))) == ["chat", "link"]
    day = utcnow().date().isoformat()
    headers = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    answer = client.get("/api/v1/admin/reports/dashboard", params={"from": day, "to": day}, headers=headers).json()
    assert answer["meetings_by_source"] == [
        {"key": "link", "label": "Booking links", "booked": 1, "held": 0, "no_show": 0},
        {"key": "chat", "label": "Chat", "booked": 1, "held": 0, "no_show": 0},
    ]


def test_the_routing_page_shows_each_teams_and_agents_booking_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    make_agents(db, 1)
    sign_in(client, personas.sam)
    page = client.get("/admin/routing").text
    assert '<a href="/book/sales">/book/sales</a>' in page
    assert 'href="/book/sales/agent1" aria-label="Agent 1\'s booking page"' in page
    assert client.get("/book/sales/agent1").status_code == 200
