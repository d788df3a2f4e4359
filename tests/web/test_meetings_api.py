"""The admin API of meetings: the same list, CSV, detail and changes as the page, with bearer tokens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.rows import at, make_agent, make_meeting, make_person

from support import Personas, token_for

NOW = at(3, 12)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ids(db: Database, personas: Personas) -> dict[str, object]:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave Dee")
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        upcoming = make_meeting(session, bob, at(5, 10), person=chloe)
        ended = make_meeting(session, bob, at(2, 10), person=chloe)
        daves = make_meeting(session, dave, at(6, 9))
        return {"upcoming": upcoming.public_id, "ended": ended.public_id, "daves": daves.public_id, "dave": dave.id}


def auth(db: Database, persona: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}  # type: ignore[arg-type]


def test_the_list_is_filtered_and_agents_see_their_own(
    client: TestClient, db: Database, personas: Personas, ids: dict[str, object]
) -> None:
    admin = client.get("/api/v1/admin/meetings", headers=auth(db, personas.alice)).json()
    assert admin["total"] == 3
    awaiting = client.get(
        "/api/v1/admin/meetings", params={"status": "awaiting_outcome"}, headers=auth(db, personas.sam)
    ).json()
    assert [item["public_id"] for item in awaiting["items"]] == [ids["ended"]]
    own = client.get("/api/v1/admin/meetings", headers=auth(db, personas.bob)).json()
    assert {item["agent_name"] for item in own["items"]} == {"Bob"}
    deleted = next(item for item in admin["items"] if item["public_id"] == ids["daves"])
    assert (deleted["visitor_name"], deleted["visitor_email"]) == ("deleted visitor", None)


def test_a_naive_time_filter_is_refused(client: TestClient, db: Database, personas: Personas) -> None:
    response = client.get(
        "/api/v1/admin/meetings", params={"start": "2026-03-02T00:00:00"}, headers=auth(db, personas.alice)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"path": "start", "message": "the time must carry its time zone."}]


def test_the_csv(client: TestClient, db: Database, personas: Personas, ids: dict[str, object]) -> None:
    response = client.get("/api/v1/admin/meetings.csv", headers=auth(db, personas.alice))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["start (UTC)"] for row in rows] == [
        "2026-03-06T09:00:00Z", "2026-03-05T10:00:00Z", "2026-03-02T10:00:00Z",
    ]  # fmt: skip


def test_outcome_cancel_and_reassign(
    client: TestClient, db: Database, personas: Personas, ids: dict[str, object]
) -> None:
    bob, alice = auth(db, personas.bob), auth(db, personas.alice)
    held = client.post(f"/api/v1/admin/meetings/{ids['ended']}/outcome", json={"outcome": "held"}, headers=bob)
    assert (held.status_code, held.json()["status"]) == (200, "held")
    early = client.post(f"/api/v1/admin/meetings/{ids['upcoming']}/outcome", json={"outcome": "held"}, headers=bob)
    assert early.status_code == 422
    assert client.post(f"/api/v1/admin/meetings/{ids['upcoming']}/reassign", json={"agent_id": ids["dave"]},
                       headers=bob).status_code == 403  # fmt: skip
    moved = client.post(
        f"/api/v1/admin/meetings/{ids['upcoming']}/reassign", json={"agent_id": ids["dave"]}, headers=alice
    )
    assert (moved.status_code, moved.json()["agent_name"], moved.json()["routing"]["mode"]) == (
        200, "Dave Dee", "reassigned",
    )  # fmt: skip
    cancelled = client.post(f"/api/v1/admin/meetings/{ids['upcoming']}/cancel", headers=alice)
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/admin/meetings/{ids['upcoming']}/cancel", headers=alice)
    assert (again.status_code, again.json()["error"]) == (409, "This meeting is already cancelled.")
    with db.read() as session:
        assert session.scalars(select(Activity.type).order_by(Activity.id)).all() == [
            "meeting.outcome", "meeting.rescheduled", "meeting.cancelled",
        ]  # fmt: skip
        meeting = session.scalar(select(Meeting).where(Meeting.public_id == ids["upcoming"]))
        assert meeting is not None and meeting.agent_id == ids["dave"]


def test_an_agent_cannot_read_another_agents_meeting(
    client: TestClient, db: Database, personas: Personas, ids: dict[str, object]
) -> None:
    response = client.get(f"/api/v1/admin/meetings/{ids['daves']}", headers=auth(db, personas.bob))
    assert response.status_code == 404
