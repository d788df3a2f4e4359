"""The programs and lists admin API: CRUD with refusals by field, members paged and filtered by status, setting and
removing a person's status, the CSV of members, and who may call it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import time_machine
from fastapi.testclient import TestClient

from overture.db import Database
from overture.people import service as people
from overture.people.models import Company

from support import Persona, Personas, token_for

PROGRAMS = "/api/v1/admin/programs"
LISTS = "/api/v1/admin/lists"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
CHAT = [{"name": "Invited"}, {"name": "Engaged"}, {"name": "Meeting booked"}, {"name": "Attended", "success": True}]


def auth(db: Database, persona: Persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}


def person(db: Database, email: str | None = None, first_name: str | None = None, company: str | None = None) -> int:
    with db.write() as session:
        found, _ = people.visitor(session, None, NOW)
        found.email, found.first_name = email, first_name
        if company:
            row = Company(name=company)
            session.add(row)
            session.flush()
            found.company_id = row.id
        session.flush()
        return found.id


def test_a_marketer_creates_a_program_moves_people_through_it_and_reads_its_members(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    created = client.post(PROGRAMS, json={"name": "Spring chat", "channel": "chat", "statuses": CHAT}, headers=headers)
    assert created.status_code == 201, created.text
    program = created.json()
    assert [(s["name"], s["step"], s["success"]) for s in program["statuses"]] == [
        ("Invited", 1, False), ("Engaged", 2, False), ("Meeting booked", 3, False), ("Attended", 4, True)
    ]  # fmt: skip
    ada, bo = person(db, "ada@example.com", "Ada"), person(db, "bo@example.com")
    members_url = f"{PROGRAMS}/{program['id']}/members"

    with time_machine.travel(NOW, tick=False):
        joined = client.put(f"{members_url}/{ada}", json={"status": "Engaged"}, headers=headers)
    assert joined.json()["outcome"] == "joined"
    assert joined.json()["member"]["person"] == {"id": ada, "name": "Ada", "email": "ada@example.com", "company": None}
    assert joined.json()["member"]["changed_at"] == "2026-03-15T12:00:00Z"
    again = client.put(f"{members_url}/{ada}", json={"status": "engaged"}, headers=headers)
    assert again.json()["outcome"] == "unchanged"
    back = client.put(f"{members_url}/{ada}", json={"status": "Invited", "only_forward": True}, headers=headers)
    assert back.json()["outcome"] == "not moved back" and back.json()["member"]["status"] == "Engaged"
    client.put(f"{members_url}/{bo}", json={"status": "Attended"}, headers=headers)

    everyone = client.get(members_url, params={"limit": 1}, headers=headers).json()
    assert [m["person"]["id"] for m in everyone["items"]] == [bo] and everyone["total"] == 2
    rest = client.get(members_url, params={"limit": 1, "cursor": everyone["next_cursor"]}, headers=headers).json()
    assert [m["person"]["id"] for m in rest["items"]] == [ada] and rest["next_cursor"] is None
    engaged = client.get(members_url, params={"status": "Engaged"}, headers=headers).json()
    assert [m["person"]["id"] for m in engaged["items"]] == [ada] and engaged["total"] == 1
    shown = client.get(f"{PROGRAMS}/{program['id']}", headers=headers).json()
    assert {s["name"]: s["members"] for s in shown["statuses"]} == {
        "Invited": 0, "Engaged": 1, "Meeting booked": 0, "Attended": 1
    }  # fmt: skip

    removed = client.delete(f"{members_url}/{ada}", headers=headers)
    assert removed.json() == {"removed": True}
    assert client.get(members_url, headers=headers).json()["total"] == 1


def test_program_refusals_name_their_field(client: TestClient, db: Database, personas: Personas) -> None:
    headers = auth(db, personas.alice)
    empty = client.post(PROGRAMS, json={"name": "Webinar", "channel": "webinar", "statuses": []}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["errors"] == [
        {"path": "statuses", "message": "A program needs at least one status (for example Invited, Engaged)."}
    ]
    twice = [{"name": "Invited"}, {"name": "INVITED"}]
    duplicate = client.post(
        PROGRAMS, json={"name": "Webinar", "channel": "webinar", "statuses": twice}, headers=headers
    )
    assert duplicate.json()["errors"] == [
        {"path": "statuses.1.name", "message": "'INVITED' is already status 1: names are unique."}
    ]
    bad_channel = client.post(PROGRAMS, json={"name": "W", "channel": "fax", "statuses": CHAT}, headers=headers)
    assert bad_channel.status_code == 422 and bad_channel.json()["ok"] is False

    program = client.post(PROGRAMS, json={"name": "Webinar", "channel": "webinar", "statuses": CHAT}, headers=headers)
    taken = client.post(PROGRAMS, json={"name": "webinar", "channel": "chat", "statuses": CHAT}, headers=headers)
    assert taken.status_code == 409 and taken.json()["errors"][0]["path"] == "name"

    program_id = program.json()["id"]
    ada = person(db, "ada@example.com")
    client.put(f"{PROGRAMS}/{program_id}/members/{ada}", json={"status": "Engaged"}, headers=headers)
    without_engaged = [{"id": s["id"], "name": s["name"]} for s in program.json()["statuses"] if s["name"] != "Engaged"]
    held = client.patch(f"{PROGRAMS}/{program_id}", json={"statuses": without_engaged}, headers=headers)
    assert held.status_code == 409
    assert held.json()["error"].startswith("A status that members hold cannot be deleted: Engaged is held by 1 member.")

    unknown = client.put(f"{PROGRAMS}/{program_id}/members/{ada}", json={"status": "Registered"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "status"
    nobody = client.put(f"{PROGRAMS}/{program_id}/members/999999", json={"status": "Engaged"}, headers=headers)
    assert nobody.status_code == 404
    assert client.get(f"{PROGRAMS}/999999", headers=headers).status_code == 404
    bad_filter = client.get(f"{PROGRAMS}/{program_id}/members", params={"status": "Nope"}, headers=headers)
    assert bad_filter.status_code == 422


def test_the_members_csv_has_email_name_company_status_and_when(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    program_id = client.post(
        PROGRAMS, json={"name": "Spring chat", "channel": "chat", "statuses": CHAT}, headers=headers
    ).json()["id"]
    ada = person(db, "ada@example.com", "Ada", company="Acme")
    sly = person(db, "sly@example.com", "=HYPERLINK(1)")
    with time_machine.travel(NOW, tick=False):
        client.put(f"{PROGRAMS}/{program_id}/members/{ada}", json={"status": "Attended"}, headers=headers)
        client.put(f"{PROGRAMS}/{program_id}/members/{sly}", json={"status": "Invited"}, headers=headers)

    answer = client.get(f"{PROGRAMS}/{program_id}/members.csv", headers=headers)

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows == [
        ["email", "first_name", "last_name", "company", "status", "step", "changed_at", "joined_at"],
        ["sly@example.com", "'=HYPERLINK(1)", "", "", "Invited", "1", "2026-03-15T12:00:00Z", "2026-03-15T12:00:00Z"],
        ["ada@example.com", "Ada", "", "Acme", "Attended", "4", "2026-03-15T12:00:00Z", "2026-03-15T12:00:00Z"],
    ]
    only = client.get(f"{PROGRAMS}/{program_id}/members.csv", params={"status": "Attended"}, headers=headers)
    assert [row[0] for row in csv.reader(io.StringIO(only.text))] == ["email", "ada@example.com"]


def test_lists_are_created_filled_emptied_exported_and_deleted(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    created = client.post(LISTS, json={"name": "Follow up", "description": "This week"}, headers=headers)
    assert created.status_code == 201
    list_id = created.json()["id"]
    ada = person(db, "ada@example.com", "Ada")
    assert client.put(f"{LISTS}/{list_id}/members/{ada}", headers=headers).json() == {"outcome": "added"}
    assert client.put(f"{LISTS}/{list_id}/members/{ada}", headers=headers).json() == {"outcome": "already a member"}
    page = client.get(f"{LISTS}/{list_id}/members", headers=headers).json()
    assert [m["person"]["email"] for m in page["items"]] == ["ada@example.com"]
    exported = client.get(f"{LISTS}/{list_id}/members.csv", headers=headers).text
    assert exported.splitlines()[0] == "email,first_name,last_name,company,added_at"
    assert exported.splitlines()[1].startswith("ada@example.com,Ada,,,")
    renamed = client.patch(f"{LISTS}/{list_id}", json={"name": "Call back"}, headers=headers)
    assert renamed.json()["name"] == "Call back" and renamed.json()["members"] == 1
    assert client.post(LISTS, json={"name": "call BACK"}, headers=headers).status_code == 409
    assert client.delete(f"{LISTS}/{list_id}/members/{ada}", headers=headers).json() == {"outcome": "removed"}
    assert client.delete(f"{LISTS}/{list_id}", headers=headers).status_code == 204
    assert client.get(LISTS, headers=headers).json() == []


def test_agents_and_sales_admins_cannot_use_programs_or_lists(
    client: TestClient, db: Database, personas: Personas
) -> None:
    for persona in (personas.bob, personas.sam):
        headers = auth(db, persona)
        assert client.get(PROGRAMS, headers=headers).status_code == 403
        assert client.post(LISTS, json={"name": "x"}, headers=headers).status_code == 403
