"""The automations' admin API as a script would use it: every mistake named at its path and nothing saved, trying an
automation against a recent activity without doing anything, switching one off, and who may call it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient

from overture.activities.service import ActivityType
from overture.db import Database

from .helpers import T0, activity, goal_automation, person, program, run_job, runs, static_list
from support import Personas, token_for

API = "/api/v1/admin/automations"


def auth(db: Database, personas: Personas) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


def test_a_marketer_adds_an_automation_and_reads_it_back(client: TestClient, db: Database, personas: Personas) -> None:
    spring, hot = program(db), static_list(db)
    headers = auth(db, personas)
    made = client.post(API, json=goal_automation(spring, hot), headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["trigger"]["where"] == {"field": "company.employees", "op": "gte", "value": 200}
    assert body["actions"][0] == {
        "type": "program_status",
        "program": spring,
        "status": "Engaged",
        "only_forward": True,
    }
    assert [a["name"] for a in client.get(API, headers=headers).json()] == ["Demo requests to sales"]
    kinds = {kind["type"] for kind in client.get(f"{API}/actions", headers=headers).json()}
    assert kinds >= {"program_status", "add_to_list", "remove_from_list", "set_field", "notify", "webhook", "chat"}


def test_every_mistake_is_named_at_its_path_and_nothing_is_saved(
    client: TestClient, db: Database, personas: Personas
) -> None:
    spring = program(db)
    wrong: dict[str, Any] = {
        "name": " ",
        "trigger": {
            "activity": "goal.reachd",
            "attributes": [{"name": "goal", "op": "in", "value": "demo"}],
            "where": {"field": "company.employes", "op": "gte", "value": 200},
        },
        "actions": [
            {"type": "program_status", "program": spring, "status": "Won"},
            {"type": "add_to_list", "list": 99},
            {"type": "notify", "to": "user"},
            {"type": "set_field", "field": "company.employees", "value": "many"},
            {"type": "teleport"},
        ],
    }
    refused = client.post(API, json=wrong, headers=auth(db, personas))
    assert refused.status_code == 422, refused.text
    problems = {problem["path"]: problem["message"] for problem in refused.json()["errors"]}
    assert set(problems) == {
        "name", "trigger.activity", "trigger.attributes.0.value", "trigger.where.field",
        "actions.0", "actions.1", "actions.2", "actions.3", "actions.4",
    }  # fmt: skip
    assert "'goal.reachd' is not an activity" in problems["trigger.activity"]
    assert "Did you mean company.employees?" in problems["trigger.where.field"]
    assert "'Won' is not a status of Spring chat. Its statuses: Invited, Engaged" in problems["actions.0"]
    assert problems["actions.1"] == "There is no list with id 99."
    assert problems["actions.2"] == "to=user needs the user's id in user."
    assert problems["actions.3"].startswith("company.employees: ")
    assert problems["actions.4"].startswith("'teleport' is not an action: use one of program_status")
    assert client.get(API, headers=auth(db, personas)).json() == []


def test_trying_an_automation_on_a_recent_activity_says_what_it_would_do_and_does_nothing(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    small = person(db, email="bob@small.example", first_name="Bob", company={"name": "Small", "employees": 20})
    activity(db, ada, ActivityType.goal_reached, T0, goal="demo_requested")
    activity(db, small, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
    headers = auth(db, personas)
    recent = client.get(f"{API}/activities", params={"type": "goal.reached"}, headers=headers).json()
    assert [(a["person"], a["summary"]) for a in recent] == [
        ("Bob Lovelace", "goal.reached goal demo_requested"),
        ("Ada Lovelace", "goal.reached goal demo_requested"),
    ]
    draft = goal_automation(spring, hot)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        yes = client.post(f"{API}/preview", json={"automation": draft, "activity_id": recent[1]["id"]}, headers=headers)
        no = client.post(f"{API}/preview", json={"automation": draft, "activity_id": recent[0]["id"]}, headers=headers)
    assert yes.json() == {
        "matches": True,
        "why_not": None,
        "actions": [
            "Would set Ada Lovelace's status in Spring chat to Engaged (not a member yet).",
            "Would add Ada Lovelace to Hot leads (not a member now).",
            'Would email olga@example.com: "Demo requests to sales: Ada Lovelace (Acme)".',
        ],
    }
    assert no.json()["matches"] is False
    assert no.json()["why_not"] == "company.employees is 20, needs gte 200"
    assert client.get(API, headers=headers).json() == [] and runs(db) == []


def test_an_automation_switched_off_does_not_run(client: TestClient, db: Database, personas: Personas) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    headers = auth(db, personas)
    with time_machine.travel(T0, tick=False):
        made = client.post(API, json=goal_automation(spring, hot), headers=headers).json()
    off = client.patch(f"{API}/{made['id']}", json={"enabled": False}, headers=headers)
    assert off.json()["enabled"] is False
    activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
    assert run_job(db, T0 + timedelta(minutes=2)) == 0
    assert client.get(f"{API}/{made['id']}/runs", headers=headers).json() == {"items": [], "next_cursor": None}


def test_agents_and_sales_admins_cannot_touch_automations(client: TestClient, db: Database, personas: Personas) -> None:
    for persona in (personas.bob, personas.sam):
        headers = {"Authorization": f"Bearer {token_for(db, persona)}"}
        assert client.get(API, headers=headers).status_code == 403
        assert client.post(API, json={}, headers=headers).status_code == 403


def test_ids_past_the_databases_integers_are_refused_not_a_server_error(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas)
    too_big = str(2**31)
    assert client.get(f"{API}/runs", params={"person_id": too_big}, headers=headers).status_code == 422
    assert client.get(f"{API}/runs", params={"cursor": too_big}, headers=headers).status_code == 422
