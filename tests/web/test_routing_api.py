"""The Routing admin API: teams and their rotation, account owners with CSV upload, rules and meeting types, with
the one error shape and the role guard."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import delete

from overture.calendars.models import CalendarConnection
from overture.db import Database
from overture.scheduling import rotation, rules, teams
from overture.scheduling.models import Agent
from overture.users import service as users
from scheduling.bookings import connect_builtin

from support import PASSWORD, Personas, token_for

API = "/api/v1/admin/routing"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BIG = {"field": "company.employees", "op": "gte", "value": 1000}


def auth(db: Database, persona: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}  # type: ignore[arg-type]


def _agents(db: Database, *names: str) -> list[int]:
    with db.write() as session:
        ids = []
        for name in names:
            user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
            agent = rotation.create_agent(session, user)
            connect_builtin(session, agent)
            ids.append(agent.id)
        return ids


def _rotation(body: dict[str, object]) -> list[tuple[str, bool, bool]]:
    members = body["members"]
    assert isinstance(members, list)
    return [(m["agent"]["name"], m["is_next"], m["paused"]) for m in members]


@pytest.mark.parametrize("who", ["mark", "bob"])
def test_marketers_and_agents_cannot_use_the_routing_api(
    db: Database, client: TestClient, personas: Personas, who: str
) -> None:
    headers = auth(db, getattr(personas, who))
    calls = [("GET", "/teams"), ("POST", "/teams"), ("GET", "/accounts"), ("POST", "/accounts/import"),
             ("GET", "/rules"), ("PUT", "/rules/order"), ("GET", "/meeting-types"), ("GET", "/agents")]  # fmt: skip
    for method, path in calls:
        response = client.request(method, API + path, headers=headers)
        assert response.status_code == 403, f"{who} reached {method} {path}"
        assert response.json()["error"].endswith("does not give access to Routing.")


def test_a_team_is_built_and_its_rotation_managed_through_the_api(
    db: Database, client: TestClient, personas: Personas
) -> None:
    ann, ben, cat = _agents(db, "Ann", "Ben", "Cat")
    headers = auth(db, personas.sam)
    made = client.post(f"{API}/teams", json={"key": "sales", "name": "Sales", "mode": "availability"}, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json() | {"members": []} == {
        "key": "sales",
        "name": "Sales",
        "mode": "availability",
        "credit_back": False,
        "next_agent_id": None,
        "members": [],
    }
    for email in ("ann@example.com", "BEN@example.com", "cat@example.com"):
        assert client.post(f"{API}/teams/sales/members", json={"agent": email}, headers=headers).status_code == 201
    assert _rotation(client.get(f"{API}/teams/sales", headers=headers).json()) == [
        ("Ann", True, False),
        ("Ben", False, False),
        ("Cat", False, False),
    ]

    with db.write() as session:
        rotation.next_agent(session, "sales", NOW, lambda _agent_id: True)  # Ann
    paused = client.patch(f"{API}/teams/sales/members/{ben}", json={"paused": True}, headers=headers)
    assert _rotation(paused.json()) == [("Ann", False, False), ("Ben", False, True), ("Cat", True, False)]
    assert paused.json()["next_agent_id"] == cat

    order = ["cat@example.com", "ann@example.com", "ben@example.com"]
    reordered = client.put(f"{API}/teams/sales/order", json={"agents": order}, headers=headers)
    assert [m["agent"]["id"] for m in reordered.json()["members"]] == [cat, ann, ben]
    assert reordered.json()["next_agent_id"] == cat, "the pointer stays on Ann; Ben is paused: Cat wraps round"

    removed = client.delete(f"{API}/teams/sales/members/{ann}", headers=headers)
    assert [m["agent"]["id"] for m in removed.json()["members"]] == [cat, ben]
    changed = client.patch(f"{API}/teams/sales", json={"name": "Sales EMEA", "credit_back": True}, headers=headers)
    assert (changed.json()["name"], changed.json()["mode"], changed.json()["credit_back"]) == (
        "Sales EMEA",
        "availability",
        True,
    )
    assert [t["key"] for t in client.get(f"{API}/teams", headers=headers).json()] == ["sales"]
    assert client.delete(f"{API}/teams/sales", headers=headers).status_code == 200
    assert client.get(f"{API}/teams/sales", headers=headers).status_code == 404


def test_team_refusals_use_the_error_shape(db: Database, client: TestClient, personas: Personas) -> None:
    (ann,) = _agents(db, "Ann")
    headers = auth(db, personas.alice)
    bad = client.post(f"{API}/teams", json={"key": "Bad Key", "name": "", "mode": "fast"}, headers=headers)
    assert bad.status_code == 422
    assert set(bad.json()) == {"ok", "error", "errors", "status"}
    assert [e["path"] for e in bad.json()["errors"]] == ["key", "name", "mode"]
    client.post(f"{API}/teams", json={"key": "sales", "name": "Sales"}, headers=headers)
    assert client.post(f"{API}/teams", json={"key": "sales", "name": "Again"}, headers=headers).status_code == 409
    unknown = client.post(f"{API}/teams/sales/members", json={"agent": "nobody@example.com"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"] == [
        {"path": "agent.0", "message": "nobody@example.com is not an agent."}
    ]
    client.post(f"{API}/teams/sales/members", json={"agent": "ann@example.com"}, headers=headers)
    twice = client.post(f"{API}/teams/sales/members", json={"agent": "ann@example.com"}, headers=headers)
    assert twice.status_code == 409
    assert client.patch(f"{API}/teams/sales/members/999", json={"paused": True}, headers=headers).status_code == 404
    short = client.put(f"{API}/teams/sales/order", json={"agents": []}, headers=headers)
    assert short.status_code == 422 and "each of its members exactly once" in short.json()["error"]
    assert ann


def test_accounts_are_managed_and_uploaded_through_the_api(
    db: Database, client: TestClient, personas: Personas
) -> None:
    _agents(db, "Ann", "Ben")
    headers = auth(db, personas.sam)
    made = client.post(
        f"{API}/accounts", json={"company_name": "Acme", "domain": "www.Acme.com", "owner": "ann@example.com"},
        headers=headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert (made.json()["domain"], made.json()["owner"]["email"]) == ("acme.com", "ann@example.com")
    account_id = made.json()["id"]
    changed = client.patch(f"{API}/accounts/{account_id}", json={"owner": "ben@example.com"}, headers=headers)
    assert (changed.json()["company_name"], changed.json()["owner"]["name"]) == ("Acme", "Ben")
    taken = client.post(f"{API}/accounts", json={"domain": "acme.com", "owner": "ann@example.com"}, headers=headers)
    assert taken.status_code == 409

    csv = (
        "company name,domain,owner email\nAcme Inc,acme.com,ann@example.com\n,globex.io,ann@example.com\nX,x,z@y.com\n"
    )
    uploaded = client.post(
        f"{API}/accounts/import", files={"file": ("a.csv", csv.encode(), "text/csv")}, headers=headers
    )
    assert uploaded.status_code == 200, uploaded.text
    report = uploaded.json()
    assert (report["added"], report["updated"], report["bad_lines"], report["written"]) == (1, 1, [4], True)
    assert [p["message"] for p in report["problems"]] == [
        "Bad domain: 'x' is not a domain name like acme.com.",
        "Unknown agent: no agent has the email z@y.com.",
    ]
    listed = client.get(f"{API}/accounts", headers=headers).json()
    assert [(a["company_name"], a["domain"], a["owner"]["email"]) for a in listed] == [
        ("Acme Inc", "acme.com", "ann@example.com"),
        ("Globex", "globex.io", "ann@example.com"),
    ]
    strict = client.post(
        f"{API}/accounts/import", files={"file": ("a.csv", b"domain,owner\nnew.com,nobody@x.com\n", "text/csv")},
        data={"all_or_nothing": "true"}, headers=headers,
    )  # fmt: skip
    assert (strict.json()["written"], strict.json()["bad_lines"]) == (False, [2])
    assert client.delete(f"{API}/accounts/{account_id}", headers=headers).status_code == 200
    assert client.get(f"{API}/accounts/{account_id}", headers=headers).status_code == 404


def test_rules_are_managed_and_reordered_through_the_api(db: Database, client: TestClient, personas: Personas) -> None:
    ann, ben = _agents(db, "Ann", "Ben")
    headers = auth(db, personas.sam)
    body = {"key": "enterprise", "name": "Enterprise", "priority": 10, "conditions": BIG,
            "agents": ["ann@example.com", "ben@example.com"]}  # fmt: skip
    made = client.post(f"{API}/rules", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["conditions"] == BIG
    assert [m["agent"]["id"] for m in made.json()["team"]["members"]] == [ann, ben]
    assert made.json()["team"]["key"] == "rule:enterprise"
    french = {"field": "company.country", "op": "equals", "value": "FR"}
    client.post(f"{API}/rules", json={**body, "key": "france", "priority": 20, "conditions": french}, headers=headers)

    visit = {"field": "visit.country", "op": "equals", "value": "FR"}
    bad = client.post(f"{API}/rules", json={**body, "key": "bad", "conditions": visit}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "path": "conditions.field",
            "message": "visit.country: routing rules look at person.* and company.* fields only.",
        }
    ]

    order = client.put(f"{API}/rules/order", json={"keys": ["france", "enterprise"]}, headers=headers)
    assert [(r["key"], r["priority"]) for r in order.json()] == [("france", 10), ("enterprise", 20)]
    with db.read() as session:
        found = rules.matching_rule(session, {"company.employees": 5000, "company.country": "FR"}, NOW)
        assert found is not None and found.key == "france"

    changed = client.patch(f"{API}/rules/enterprise", json={"agents": ["ben@example.com"]}, headers=headers)
    assert [m["agent"]["id"] for m in changed.json()["team"]["members"]] == [ben]
    assert client.delete(f"{API}/rules/enterprise", headers=headers).status_code == 200
    assert [r["key"] for r in client.get(f"{API}/rules", headers=headers).json()] == ["france"]


def test_meeting_types_are_managed_through_the_api(db: Database, client: TestClient, personas: Personas) -> None:
    headers = auth(db, personas.sam)
    client.post(f"{API}/teams", json={"key": "sales", "name": "Sales"}, headers=headers)
    made = client.post(
        f"{API}/meeting-types", json={"key": "demo", "name": "Demo", "duration_minutes": 45, "team": "sales"},
        headers=headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert (made.json()["duration_minutes"], made.json()["notice_minutes"], made.json()["team"]) == (45, None, "sales")
    changed = client.patch(f"{API}/meeting-types/demo", json={"team": None, "daily_max": 2}, headers=headers)
    assert (changed.json()["team"], changed.json()["daily_max"], changed.json()["duration_minutes"]) == (None, 2, 45)
    bad = client.patch(f"{API}/meeting-types/demo", json={"step_minutes": 1, "name": None}, headers=headers)
    assert bad.status_code == 422 and [e["path"] for e in bad.json()["errors"]] == ["step_minutes", "name"]
    assert client.delete(f"{API}/meeting-types/demo", headers=headers).status_code == 200
    assert client.get(f"{API}/meeting-types", headers=headers).json() == []


def test_agents_are_listed_with_their_calendar_and_attention(
    db: Database, client: TestClient, personas: Personas
) -> None:
    (ann,) = _agents(db, "Ann")
    headers = auth(db, personas.alice)
    assert client.get(f"{API}/agents", headers=headers).json() == [
        {"id": ann, "name": "Ann", "email": "ann@example.com", "active": True, "calendar": "builtin", "attention": None}
    ]


def test_the_team_api_names_who_booking_would_pick_and_why_the_others_are_skipped(
    db: Database, client: TestClient, personas: Personas
) -> None:
    ann, ben, cat = _agents(db, "Ann", "Ben", "Cat")
    with db.write() as session:
        session.get_one(Agent, ann).out_of_office = [{"start": "2026-11-01", "end": "2027-02-28"}]
        session.execute(delete(CalendarConnection).where(CalendarConnection.agent_id == ben))
        team = teams.create(session, "sales", "Sales")
        for agent_id in (ann, ben, cat):
            teams.add_agent(session, team, session.get_one(Agent, agent_id))
    with time_machine.travel(NOW):
        body = client.get(f"{API}/teams/sales", headers=auth(db, personas.sam)).json()

    assert body["next_agent_id"] == cat
    assert [(m["agent"]["name"], m["is_next"], m["skipped"]) for m in body["members"]] == [
        ("Ann", False, "Out of office until 2027-02-28."),
        ("Ben", False, "No calendar connected."),
        ("Cat", True, None),
    ]
