"""The Meetings page: the list (agents see their own), its filters and CSV, a meeting's page with the routing
explanation, and the outcome, cancel and reassign buttons."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User
from scheduling.rows import at, make_agent, make_decision, make_meeting, make_person, make_team

from support import Personas, post_form, sign_in

NOW = at(3, 12)  # Tuesday noon: Thursday 10:00 is more than the 24 hours' notice away


@dataclass
class World:
    upcoming: str  # Bob's meeting with Chloé, Thursday 10:00
    ended: str  # Bob's meeting with Chloé, Monday 10:00, not marked yet
    daves: str  # Dave's meeting with Zoé, Friday 09:00
    dave_id: int


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(db: Database, personas: Personas) -> World:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave Dee")
        team = make_team(session, "sales", [bob, dave])
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        zoe = make_person(session, "zoe@other.example", "Zoé", None)
        decision = make_decision(
            session, bob, team, mode="round_robin", pointer_before=dave.id, pointer_after=bob.id,
            skipped=[{"agent_id": dave.id, "reason": "paused"}],
        )  # fmt: skip
        upcoming = make_meeting(session, bob, at(5, 10), person=chloe, team_id=team.id,
                                routing_decision_id=decision.id)  # fmt: skip
        ended = make_meeting(session, bob, at(2, 10), person=chloe)
        daves = make_meeting(session, dave, at(6, 9), person=zoe)
        return World(upcoming.public_id, ended.public_id, daves.public_id, dave.id)


def meeting(db: Database, public_id: str) -> Meeting:
    with db.read() as session:
        found = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
        assert found is not None
        return found


def test_an_admin_sees_every_meeting(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.alice)
    page = client.get("/admin/meetings")
    assert page.status_code == 200
    assert "Chloé Martin" in page.text and "Zoé" in page.text
    assert "Awaiting outcome" in page.text
    assert 'href="/admin/meetings.csv"' in page.text
    assert "Every meeting booked from a dialogue: who booked" not in page.text  # the placeholder is gone


def test_an_agent_sees_only_their_own(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.bob)
    page = client.get("/admin/meetings")
    assert "Chloé Martin" in page.text
    assert "Zoé" not in page.text
    assert client.get(f"/admin/meetings/{world.daves}").status_code == 404


def test_a_marketer_cannot_open_meetings(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.mark)
    assert client.get("/admin/meetings").status_code == 403


def test_filters_narrow_the_list(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.alice)
    by_agent = client.get("/admin/meetings", params={"agent": world.dave_id})
    assert "Zoé" in by_agent.text and "Chloé Martin" not in by_agent.text
    awaiting = client.get("/admin/meetings", params={"status": "awaiting_outcome"})
    assert awaiting.text.count("/admin/meetings/m_") == 1
    assert f"/admin/meetings/{world.ended}" in awaiting.text
    dated = client.get("/admin/meetings", params={"start": "2026-03-05", "end": "2026-03-05"})
    assert dated.text.count("/admin/meetings/m_") == 1
    assert f"/admin/meetings/{world.upcoming}" in dated.text


def test_a_bad_filter_is_explained(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.alice)
    page = client.get("/admin/meetings", params={"status": "lost"})
    assert page.status_code == 422
    assert "the status must be one of" in page.text


def test_the_csv_export_follows_the_filter(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.alice)
    response = client.get("/admin/meetings.csv", params={"agent": world.dave_id})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["visitor_email"], r["start (UTC)"], r["agent"]) for r in rows] == [
        ("zoe@other.example", "2026-03-06T09:00:00Z", "Dave Dee")
    ]


def test_the_meeting_page_explains_the_routing(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.sam)
    page = client.get(f"/admin/meetings/{world.upcoming}")
    assert page.status_code == 200
    assert "Round robin (strict), team Sales" in page.text
    assert "Dave Dee (paused)" in page.text
    assert "Reassign" in page.text and "Cancel the meeting" in page.text
    assert "Mark held" not in page.text  # not ended yet


def test_the_agent_marks_an_ended_meeting_held(
    client: TestClient, db: Database, personas: Personas, world: World
) -> None:
    sign_in(client, personas.bob)
    page = client.get(f"/admin/meetings/{world.ended}")
    assert "Mark held" in page.text and "Reassign" not in page.text
    response = post_form(client, f"/admin/meetings/{world.ended}/outcome", {"outcome": "held"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert meeting(db, world.ended).status == "held"
    assert "The meeting is marked held." in client.get(f"/admin/meetings/{world.ended}").text
    with db.read() as session:
        assert session.scalars(select(Activity.type)).all() == ["meeting.outcome"]


def test_marking_before_the_end_says_why(client: TestClient, db: Database, personas: Personas, world: World) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, f"/admin/meetings/{world.upcoming}/outcome", {"outcome": "no_show"})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "has not ended yet" in response.text  # type: ignore[attr-defined]
    assert meeting(db, world.upcoming).status == "booked"


def test_cancel_from_the_page(client: TestClient, db: Database, personas: Personas, world: World) -> None:
    sign_in(client, personas.bob)
    assert post_form(client, f"/admin/meetings/{world.upcoming}/cancel", {}).status_code == 303  # type: ignore[attr-defined]
    assert meeting(db, world.upcoming).status == "cancelled"
    again = post_form(client, f"/admin/meetings/{world.upcoming}/cancel", {})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "already cancelled" in again.text  # type: ignore[attr-defined]
    with db.read() as session:
        assert session.scalars(select(Activity.type)).all() == ["meeting.cancelled"]


def test_an_agent_cannot_cancel_another_agents_meeting(client: TestClient, personas: Personas, world: World) -> None:
    sign_in(client, personas.bob)
    assert post_form(client, f"/admin/meetings/{world.daves}/cancel", {}).status_code == 404  # type: ignore[attr-defined]


def test_reassign_checks_the_agents_calendar_then_moves_the_meeting(
    client: TestClient, db: Database, personas: Personas, world: World
) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, f"/admin/meetings/{world.upcoming}/reassign", {"agent_id": str(world.dave_id)})
    assert response.status_code == 303  # type: ignore[attr-defined]
    moved = meeting(db, world.upcoming)
    assert moved.agent_id == world.dave_id
    page = client.get(f"/admin/meetings/{world.upcoming}").text
    assert "The meeting is now Dave Dee&#39;s" in page
    assert "Reassigned from Bob to Dave Dee by Alice." in page


def test_reassign_to_an_agent_who_is_not_free_is_refused(
    client: TestClient, db: Database, personas: Personas, world: World
) -> None:
    with db.write() as session:
        erin = make_agent(session, "erin@example.com", "Erin")
        erin.weekly_hours = {}  # works no day at all
        erin_id = erin.id
    sign_in(client, personas.alice)
    response = post_form(client, f"/admin/meetings/{world.upcoming}/reassign", {"agent_id": str(erin_id)})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Erin is not free at that time." in response.text  # type: ignore[attr-defined]
    assert meeting(db, world.upcoming).agent_id != erin_id


def test_an_agent_cannot_reassign(client: TestClient, db: Database, personas: Personas, world: World) -> None:
    sign_in(client, personas.bob)
    response = post_form(client, f"/admin/meetings/{world.upcoming}/reassign", {"agent_id": str(world.dave_id)})
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert meeting(db, world.upcoming).agent_id != world.dave_id


def test_the_list_shows_times_on_the_agents_clock(
    client: TestClient, db: Database, personas: Personas, world: World
) -> None:
    with db.write() as session:
        bob = session.scalar(select(Agent).join(User).where(User.email == "bob@example.com"))
        assert bob is not None
        bob.time_zone = "Asia/Tokyo"
    sign_in(client, personas.bob)
    page = client.get("/admin/meetings").text
    assert "Times are in Asia/Tokyo." in page
    assert "Thu 05 Mar 2026 19:00" in page  # 10:00 UTC
