"""The Calendar area's admin API: the same as the page, for scripts. Agents reach their own profile only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.calendars.models import CalendarConnection
from overture.db import Database
from overture.scheduling import agents
from overture.users import service as users

from support import PASSWORD, Persona, Personas, token_for

API = "/api/v1/admin/agents"


def auth(db: Database, persona: Persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}


def new_agent(db: Database, email: str = "dana@example.com") -> int:
    with db.write() as session:
        return agents.ensure_agent(session, users.create_user(session, email, "agent", "Dana", PASSWORD)).id


def test_a_sales_admin_lists_agents_and_sets_one_up(client: TestClient, db: Database, personas: Personas) -> None:
    headers = auth(db, personas.sam)
    dana = new_agent(db)

    listed = client.get(API, headers=headers)
    assert listed.status_code == 200
    assert [(a["email"], a["id"], a["calendar"]["status"]) for a in listed.json()] == [
        ("bob@example.com", None, "not_connected"),
        ("dana@example.com", dana, "not_connected"),
    ]

    made = client.post(API, json={"user_id": personas.bob.id}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["settings"]["notice_minutes"] == 1440 and made.json()["calendar"]["connected"] is False
    refused = client.post(API, json={"user_id": personas.mark.id}, headers=headers)
    assert refused.status_code == 422 and "only users with the agent role" in refused.json()["error"]


def test_an_agents_token_reaches_their_own_profile_only(client: TestClient, db: Database, personas: Personas) -> None:
    dana = new_agent(db)
    headers = auth(db, personas.bob)

    mine = client.post(API, json={"user_id": personas.bob.id}, headers=headers)
    assert mine.status_code == 201
    assert [a["email"] for a in client.get(API, headers=headers).json()] == ["bob@example.com"]
    assert client.get(f"{API}/{dana}", headers=headers).status_code == 403
    assert client.patch(f"{API}/{dana}/settings", json={"duration_minutes": 60}, headers=headers).status_code == 403
    assert client.post(API, json={"user_id": 999_999}, headers=headers).status_code == 404
    assert client.get(API, headers=auth(db, personas.mark)).status_code == 403


def test_settings_change_through_the_api_with_every_mistake_named(
    client: TestClient, db: Database, personas: Personas
) -> None:
    dana = new_agent(db)
    headers = auth(db, personas.alice)

    wrong = client.patch(
        f"{API}/{dana}/settings",
        json={"time_zone": "Mars/Olympus", "weekly_hours": {"mon": ["17:00-09:00"]}, "daily_max": 0},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert {p["path"] for p in wrong.json()["errors"]} == {"time_zone", "weekly_hours.mon", "daily_max"}
    backwards = {"out_of_office": [{"start": "2026-08-15", "end": "2026-08-01"}], "holidays": []}
    refused = client.patch(f"{API}/{dana}/settings", json=backwards, headers=headers)
    assert refused.status_code == 422
    assert {p["path"] for p in refused.json()["errors"]} == {"out_of_office.0", "holidays"}

    changed = client.patch(
        f"{API}/{dana}/settings", json={"time_zone": "Europe/Paris", "duration_minutes": 60}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    settings = changed.json()["settings"]
    assert (settings["time_zone"], settings["duration_minutes"], settings["weekly_hours"]["mon"]) == (
        "Europe/Paris",
        60,
        ["09:00-17:00"],
    )


def test_a_calendar_is_connected_read_and_disconnected_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    dana = new_agent(db)
    headers = auth(db, personas.sam)

    connected = client.put(f"{API}/{dana}/calendar", json={"provider": "builtin"}, headers=headers)
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "connected" and connected.json()["description"] == "Built-in calendar"
    assert client.get(f"{API}/{dana}/calendar", headers=headers).json()["provider"] == "builtin"

    gone = client.delete(f"{API}/{dana}/calendar", headers=headers)
    assert gone.status_code == 200
    assert gone.json()["status"] == "needs_attention" and "disconnected by Sam" in gone.json()["problem"]
    assert client.delete(f"{API}/{dana}/calendar", headers=headers).status_code == 409
    with db.read() as session:
        assert session.scalars(select(CalendarConnection)).all() == []


def test_a_caldav_server_that_cannot_be_reached_is_a_clear_422(
    client: TestClient, db: Database, personas: Personas
) -> None:
    dana = new_agent(db)
    body = {"provider": "caldav", "url": "https://127.0.0.1:9/dav/", "username": "dana", "password": "app-pw"}

    answer = client.put(f"{API}/{dana}/calendar", json=body, headers=auth(db, personas.alice))

    # This Overture does not allow calendars on private addresses.
    assert answer.status_code == 422
    assert [problem["path"] for problem in answer.json()["errors"]] == ["url"]
    assert "private or local address" in answer.json()["errors"][0]["message"]


def test_oauth_needs_an_app_registered_with_the_provider(client: TestClient, db: Database, personas: Personas) -> None:
    dana = new_agent(db)
    answer = client.post(f"{API}/{dana}/calendar/oauth/google", headers=auth(db, personas.alice))
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "provider"
