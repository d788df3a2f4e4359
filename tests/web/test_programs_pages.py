"""The Programs and Lists pages and a person's memberships on their page: create and edit a program with its
statuses in order, refusals beside the row they are about, members by status, setting a status, the CSV, lists,
CSRF and roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.people import service as people
from overture.programs.models import Program

from support import Personas, csrf_from, sign_in

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def person(db: Database, email: str, first_name: str = "") -> int:
    with db.write() as session:
        found, _ = people.visitor(session, None, NOW)
        found.email, found.first_name = email, first_name or None
        session.flush()
        return found.id


def rows(names: list[str], ids: list[str] | None = None, positions: list[str] | None = None) -> dict[str, object]:
    return {
        "status_id": ids or [""] * len(names),
        "status_name": names,
        "status_position": positions or [str(i) for i in range(1, len(names) + 1)],
    }


def post(client: TestClient, path: str, data: dict[str, object], page: str = "/admin/programs") -> object:
    return client.post(path, data={**data, "csrf_token": csrf_from(client, page)})


def create(client: TestClient, name: str = "Spring chat", statuses: list[str] | None = None) -> int:
    names = statuses or ["Invited", "Engaged", "Meeting booked", "Attended"]
    answer = post(client, "/admin/programs", {"name": name, "channel": "chat", **rows(names + ["", ""])})
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    return int(answer.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]


@pytest.fixture
def marketer(client: TestClient, personas: Personas) -> TestClient:
    sign_in(client, personas.mark)
    return client


def test_a_marketer_creates_a_program_from_the_channels_statuses(marketer: TestClient, db: Database) -> None:
    new = marketer.get("/admin/programs/new", params={"channel": "webinar"})
    assert re.findall(r'name="status_name" value="([^"]+)"', new.text) == [
        "Invited", "Registered", "Attended", "Attended on-demand"
    ]  # fmt: skip

    program_id = create(marketer, "Spring webinar", ["Invited", "Registered", "Attended"])

    page = marketer.get(f"/admin/programs/{program_id}")
    assert "Spring webinar is added." in page.text
    listing = marketer.get("/admin/programs").text
    assert "Invited (0) → Registered (0) → Attended (0)" in listing
    assert '<a href="/admin/programs" aria-current="page">Programs</a>' in listing


def test_a_refused_program_shows_each_problem_beside_its_row_and_keeps_what_was_typed(
    marketer: TestClient, db: Database
) -> None:
    answer = post(marketer, "/admin/programs", {"name": "", "channel": "chat", **rows(["Invited", "", "invited"])})
    assert answer.status_code == 422  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert '<span id="name-problem" class="problem">Give the program a name.</span>' in text
    assert '<span id="status_name_2-problem" class="problem">&#39;invited&#39; is already status 1' in text
    assert re.search(r'name="status_name" value="invited"[^>]*aria-invalid="true"', text)
    with db.read() as session:
        assert session.scalar(select(Program)) is None

    nothing = post(marketer, "/admin/programs", {"name": "Empty", "channel": "chat", **rows(["", ""])})
    assert "A program needs at least one status" in nothing.text  # type: ignore[attr-defined]


def test_statuses_are_reordered_renamed_and_a_held_one_cannot_be_removed(marketer: TestClient, db: Database) -> None:
    program_id = create(marketer)
    ada = person(db, "ada@example.com", "Ada")
    url = f"/admin/programs/{program_id}"
    post(marketer, f"{url}/members", {"person": "ada@example.com", "status": "Engaged"}, url)
    page = marketer.get(url).text
    ids = re.findall(r'name="status_id" value="(\d*)"', page)[:4]

    moved = post(
        marketer,
        url,
        {
            "name": "Spring chat",
            "channel": "chat",
            **rows(["Invited", "Chatted", "Meeting booked", "Attended"], ids, ["2", "1", "3", "4"]),
        },
        url,
    )
    assert moved.status_code == 303  # type: ignore[attr-defined]
    page = marketer.get(url).text
    assert re.findall(r'name="status_name" value="([^"]+)"', page) == [
        "Chatted",
        "Invited",
        "Meeting booked",
        "Attended",
    ]
    assert f'<a href="/admin/people/{ada}">Ada</a>' in page and "1. Chatted" in page

    held = post(
        marketer,
        url,
        {
            "name": "Spring chat",
            "channel": "chat",
            **rows(["Chatted", "Invited"], [ids[1], ids[0]]),
            "status_remove": ["0"],
        },
        url,
    )
    assert held.status_code == 409  # type: ignore[attr-defined]
    assert "Chatted is held by 1 member" in held.text  # type: ignore[attr-defined]


def test_members_are_filtered_by_status_set_and_removed_on_the_page(marketer: TestClient, db: Database) -> None:
    program_id = create(marketer)
    url = f"/admin/programs/{program_id}"
    ada, bo = person(db, "ada@example.com", "Ada"), person(db, "bo@example.com", "Bo")
    post(marketer, f"{url}/members", {"person": "ada@example.com", "status": "Engaged"}, url)
    post(marketer, f"{url}/members", {"person": str(bo), "status": "Attended"}, url)
    back = post(marketer, f"{url}/members", {"person": str(bo), "status": "Invited", "only_forward": "true"}, url)
    assert back.status_code == 303  # type: ignore[attr-defined]
    assert "already at Attended, a later step: nothing changed" in marketer.get(url).text

    engaged = marketer.get(url, params={"status": "Engaged"}).text
    assert f'/admin/people/{ada}"' in engaged and f'/admin/people/{bo}"' not in engaged
    assert f'href="/admin/programs/{program_id}/members.csv?status=Engaged"' in engaged
    exported = marketer.get(f"{url}/members.csv", params={"status": "Engaged"})
    assert exported.text.splitlines()[1].startswith("ada@example.com,Ada,,,Engaged,2,")

    unknown = post(marketer, f"{url}/members", {"person": "nobody@example.com", "status": "Engaged"}, url)
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    assert 'id="member-person-problem"' in unknown.text  # type: ignore[attr-defined]

    post(marketer, f"{url}/members/{ada}/remove", {}, url)
    assert f'/admin/people/{ada}"' not in marketer.get(url).text


def test_a_persons_page_shows_their_programs_and_lists_with_history(marketer: TestClient, db: Database) -> None:
    program_id = create(marketer)
    url = f"/admin/programs/{program_id}"
    ada = person(db, "ada@example.com", "Ada")
    post(marketer, f"{url}/members", {"person": str(ada), "status": "Invited"}, url)
    post(marketer, f"{url}/members", {"person": str(ada), "status": "Meeting booked"}, url)
    listed = post(marketer, "/admin/lists", {"name": "Follow up"}, "/admin/lists")
    list_url = listed.headers["location"]  # type: ignore[attr-defined]
    post(marketer, f"{list_url}/members", {"person": "ADA@example.com"}, list_url)

    page = marketer.get(f"/admin/people/{ada}").text

    assert f'<a href="/admin/programs/{program_id}">Spring chat</a>:' in page
    assert "<strong>3. Meeting booked</strong>" in page
    assert "Invited → Meeting booked\n          · by Mark" in page
    assert "joined at Invited" in page
    assert f'<a href="{list_url}">Follow up</a>: on the list' in page


def test_a_list_is_created_filled_and_deleted_only_when_confirmed(marketer: TestClient, db: Database) -> None:
    ada = person(db, "ada@example.com", "Ada")
    taken = post(marketer, "/admin/lists", {"name": ""}, "/admin/lists")
    assert taken.status_code == 422 and "Give the list a name." in taken.text  # type: ignore[attr-defined]
    made = post(marketer, "/admin/lists", {"name": "Follow up", "description": "This week"}, "/admin/lists")
    url = made.headers["location"]  # type: ignore[attr-defined]
    post(marketer, f"{url}/members", {"person": str(ada)}, url)
    assert f'<a href="/admin/people/{ada}">Ada</a>' in marketer.get(url).text
    assert marketer.get(f"{url}/members.csv").text.splitlines()[1].startswith("ada@example.com,Ada,,,")

    unconfirmed = post(marketer, f"{url}/delete", {}, url)
    assert unconfirmed.headers["location"] == url  # type: ignore[attr-defined]
    assert "Not deleted: tick the box" in marketer.get(url).text
    post(marketer, f"{url}/delete", {"confirm": "true"}, url)
    assert "No lists yet." in marketer.get("/admin/lists").text


def test_forms_need_their_csrf_token(marketer: TestClient, db: Database) -> None:
    program_id = create(marketer)
    for path in ("/admin/programs", f"/admin/programs/{program_id}/members", f"/admin/programs/{program_id}/delete",
                 "/admin/lists"):  # fmt: skip
        refused = marketer.post(path, data={"name": "X", "person": "1", "status": "Invited", "confirm": "true"})
        assert refused.status_code == 403, path
    assert marketer.get(f"/admin/programs/{program_id}").status_code == 200


def test_agents_and_sales_admins_see_neither_the_pages_nor_the_link(
    client: TestClient, db: Database, personas: Personas
) -> None:
    for persona in (personas.bob, personas.sam):
        client.cookies.clear()
        sign_in(client, persona)
        assert client.get("/admin/programs").status_code == 403
        assert client.get("/admin/lists").status_code == 403
        assert 'href="/admin/programs"' not in client.get("/admin").text
    client.cookies.clear()
    sign_in(client, personas.alice)
    assert 'href="/admin/programs"' in client.get("/admin").text
