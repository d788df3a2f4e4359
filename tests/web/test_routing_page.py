"""The Routing page as a sales admin uses it: teams in rotation order with who is next (always as the database has
it), moving, pausing and removing agents, team settings, account owners by hand and by CSV upload, rules and
meeting types; and who may open it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.scheduling import accounts, rotation, rules, teams
from overture.scheduling.models import AccountOwner, Agent, Meeting, MeetingType, RoutingRule
from overture.users import service as users
from scheduling.bookings import Visitor, connect_builtin, first_time, publish_booking

from support import PASSWORD, Personas, post_form, sign_in

PAGE = "/admin/routing"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _sales_team(db: Database, *names: str) -> list[int]:
    """A team "sales" with agents of these names, in this order; returns their agent ids."""
    ids = []
    with db.write() as session:
        team = teams.create(session, "sales", "Sales")
        for name in names:
            user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
            agent = rotation.create_agent(session, user)
            connect_builtin(session, agent)
            teams.add_agent(session, team, agent)
            ids.append(agent.id)
    return ids


def _book(db: Database) -> None:
    with db.write() as session:
        rotation.next_agent(session, "sales", NOW, lambda _agent_id: True)


def _rotation(client: TestClient, key: str = "sales") -> list[str]:
    """The team's rows as the page shows them: "Name" with " (next)" and " (paused)" when marked."""
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    section = page.text.split(f'id="team-{key}"', 1)[1].split("</section>", 1)[0]
    rows = []
    for attributes, body in re.findall(r"<tr([^>]*data-agent[^>]*)>(.*?)</tr>", section, re.S):
        name = re.search(r"<td>\d+</td>\s*<td>([^<]+)<br>", body)
        assert name, body
        shown = name.group(1).strip()
        if 'aria-current="true"' in attributes:
            assert '<span class="status status-published">Next</span>' in body
            shown += " (next)"
        if "status-paused" in body:
            shown += " (paused)"
        rows.append(shown)
    return rows


def _next_line(client: TestClient) -> str:
    found = re.search(r'<p class="next">Next in line: <strong>([^<]+)</strong>', client.get(PAGE).text)
    assert found
    return found.group(1)


# --- access ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mark", "bob"])
def test_marketers_and_agents_cannot_open_the_routing_page(client: TestClient, personas: Personas, who: str) -> None:
    sign_in(client, getattr(personas, who))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/new-rule").status_code == 403
    assert 'href="/admin/routing"' not in client.get("/admin").text


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_admins_and_sales_admins_open_the_routing_page_from_the_menu(
    client: TestClient, personas: Personas, who: str
) -> None:
    sign_in(client, getattr(personas, who))
    assert 'href="/admin/routing"' in client.get("/admin").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'href="/admin/routing" aria-current="page"' in page.text
    assert "<h1>Routing</h1>" in page.text and "Nothing here yet" not in page.text


def test_a_stranger_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get(PAGE)
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login?next=")


# --- rotation -------------------------------------------------------------------------------------------------


def test_the_page_shows_who_is_next_after_every_booking(client: TestClient, db: Database, personas: Personas) -> None:
    _sales_team(db, "Ann", "Ben", "Cat")
    sign_in(client, personas.sam)
    assert _rotation(client) == ["Ann (next)", "Ben", "Cat"]
    expected_next = ["Ben", "Cat", "Ann", "Ben"]
    for name in expected_next:
        _book(db)
        assert _next_line(client) == name
        assert [row for row in _rotation(client) if row.endswith("(next)")] == [f"{name} (next)"]


def test_moving_agents_up_and_down_keeps_the_pointer(client: TestClient, db: Database, personas: Personas) -> None:
    ann, _ben, cat = _sales_team(db, "Ann", "Ben", "Cat")
    _book(db)  # Ann took the last meeting: Ben is next
    sign_in(client, personas.sam)
    moved = post_form(client, f"{PAGE}/teams/sales/members/{cat}/move", {"direction": "up"}, PAGE)
    assert moved.status_code == 303 and moved.headers["location"] == f"{PAGE}#team-sales"  # type: ignore[attr-defined]
    assert "Cat moved up." in client.get(PAGE).text
    assert _rotation(client) == ["Ann", "Cat (next)", "Ben"]
    post_form(client, f"{PAGE}/teams/sales/members/{ann}/move", {"direction": "down"}, PAGE)
    assert _rotation(client) == ["Cat", "Ann", "Ben (next)"], "the pointer stayed on Ann: Ben, after her, is next"
    post_form(client, f"{PAGE}/teams/sales/members/{ann}/move", {"direction": "up"}, PAGE)
    post_form(client, f"{PAGE}/teams/sales/members/{ann}/move", {"direction": "up"}, PAGE)
    assert _rotation(client) == ["Ann", "Cat (next)", "Ben"], "moving the first one up leaves them first"


def test_a_paused_agent_is_shown_paused_skipped_and_resumed(
    client: TestClient, db: Database, personas: Personas
) -> None:
    _ann, ben, _cat = _sales_team(db, "Ann", "Ben", "Cat")
    _book(db)
    sign_in(client, personas.sam)
    post_form(client, f"{PAGE}/teams/sales/members/{ben}/pause", {"paused": "true"}, PAGE)
    page = client.get(PAGE).text
    assert "Ben is paused: skipped, keeping their place." in unescape(page)
    assert _rotation(client) == ["Ann", "Ben (paused)", "Cat (next)"]
    post_form(client, f"{PAGE}/teams/sales/members/{ben}/pause", {"paused": "false"}, PAGE)
    assert _rotation(client) == ["Ann", "Ben (next)", "Cat"]


def test_every_member_paused_says_nobody_is_next(client: TestClient, db: Database, personas: Personas) -> None:
    (ann,) = _sales_team(db, "Ann")
    sign_in(client, personas.sam)
    post_form(client, f"{PAGE}/teams/sales/members/{ann}/pause", {"paused": "true"}, PAGE)
    assert _next_line(client) == "nobody"


def test_agents_are_added_at_the_end_and_removed(client: TestClient, db: Database, personas: Personas) -> None:
    ann, _ben = _sales_team(db, "Ann", "Ben")
    with db.write() as session:
        bob = rotation.create_agent(session, users.get_user(session, personas.bob.id)).id
    sign_in(client, personas.sam)
    assert f'<option value="{bob}">Bob (bob@example.com), no calendar</option>' in client.get(PAGE).text
    post_form(client, f"{PAGE}/teams/sales/members", {"agent_id": str(bob)}, PAGE)
    assert _rotation(client) == ["Ann (next)", "Ben", "Bob"]
    _book(db)  # Ann
    post_form(client, f"{PAGE}/teams/sales/members/{ann}/remove", {}, PAGE)
    assert _rotation(client) == ["Ben (next)", "Bob"]
    again = post_form(client, f"{PAGE}/teams/sales/members/{ann}/remove", {}, PAGE)
    assert again.status_code == 303  # type: ignore[attr-defined]
    assert f"Agent {ann} is not a member of team sales." in client.get(PAGE).text


def test_an_agent_who_needs_attention_is_shown_with_the_reason(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ann, _ben = _sales_team(db, "Ann", "Ben")
    with db.write() as session:
        session.get_one(Agent, ann).attention = "Google refused the calendar token: connect it again."
    sign_in(client, personas.sam)
    section = client.get(PAGE).text.split('id="team-sales"', 1)[1].split("</section>", 1)[0]
    assert '<span class="status status-failed">Needs attention</span> Google refused the calendar token' in section


def test_a_team_is_created_and_its_settings_changed(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.sam)
    refused = post_form(client, f"{PAGE}/teams", {"key": "Sales Team", "name": "", "mode": "strict"}, PAGE)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert 'aria-describedby="team-key-problem"' in text and 'aria-describedby="team-name-problem"' in text
    assert 'value="Sales Team"' in text, "the form keeps what was typed"

    made = post_form(client, f"{PAGE}/teams", {"key": "sales", "name": "Sales", "mode": "availability"}, PAGE)
    assert made.headers["location"] == f"{PAGE}#team-sales"  # type: ignore[attr-defined]
    assert "No agents yet." in client.get(PAGE).text

    saved = post_form(
        client, f"{PAGE}/teams/sales", {"name": "Sales EMEA", "mode": "strict", "credit_back": "true"}, PAGE
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    with db.read() as session:
        team = teams.get(session, "sales")
        assert (team.name, team.mode, team.credit_back) == ("Sales EMEA", "strict", True)
    page = client.get(f"{PAGE}/teams/sales").text
    assert "The settings of &#39;Sales EMEA&#39; are saved." in page
    bad = post_form(client, f"{PAGE}/teams/sales", {"name": "X", "mode": "fastest"}, PAGE)
    assert bad.status_code == 422  # type: ignore[attr-defined]

    deleted = post_form(client, f"{PAGE}/teams/sales/delete", {}, PAGE)
    assert deleted.headers["location"] == PAGE  # type: ignore[attr-defined]
    assert client.get(f"{PAGE}/teams/sales").status_code == 404


# --- accounts -------------------------------------------------------------------------------------------------


def _agent(db: Database, name: str) -> int:
    with db.write() as session:
        user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
        return rotation.create_agent(session, user).id


def test_an_account_is_added_edited_and_removed_on_the_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    _agent(db, "Ann")
    _agent(db, "Ben")
    sign_in(client, personas.sam)
    form = {"company_name": "Acme", "domain": "https://www.acme.com/", "owner": "ann@example.com"}
    added = post_form(client, f"{PAGE}/accounts", form, PAGE)
    assert added.headers["location"] == f"{PAGE}#accounts"  # type: ignore[attr-defined]
    page = client.get(PAGE).text
    assert "Acme (acme.com) is added." in page and "<code>acme.com</code>" in page

    again = post_form(client, f"{PAGE}/accounts", {**form, "company_name": "Acme 2"}, PAGE)
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "acme.com is already listed, as Acme." in again.text  # type: ignore[attr-defined]
    assert 'id="account-domain-problem"' in again.text  # type: ignore[attr-defined]

    with db.read() as session:
        account = accounts.by_domain(session, "acme.com")
        assert account is not None
        account_id = account.id
    edit = {"company_name": "Acme Inc", "domain": "acme.com", "owner": "ben@example.com"}
    post_form(client, f"{PAGE}/accounts/{account_id}", edit, f"{PAGE}/accounts/{account_id}")
    with db.read() as session:
        changed = session.get_one(AccountOwner, account_id)
        assert (changed.company_name, session.get_one(Agent, changed.agent_id).email) == (
            "Acme Inc",
            "ben@example.com",
        )
    bad = post_form(client, f"{PAGE}/accounts/{account_id}", {**edit, "owner": "nobody@example.com"}, PAGE)
    assert bad.status_code == 422 and 'id="owner-problem"' in bad.text  # type: ignore[attr-defined]

    post_form(client, f"{PAGE}/accounts/{account_id}/delete", {}, PAGE)
    with db.read() as session:
        assert session.scalars(select(AccountOwner)).all() == []


def _upload(client: TestClient, text: str, status: int, all_or_nothing: bool = False) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(PAGE).text)
    assert token
    data = {"csrf_token": token.group(1)}
    if all_or_nothing:
        data["all_or_nothing"] = "true"
    response = client.post(
        f"{PAGE}/accounts/import", data=data, files={"file": ("accounts.csv", text.encode(), "text/csv")}
    )
    assert response.status_code == status, response.text
    return unescape(response.text)


def test_a_csv_upload_reports_each_bad_row_by_line_and_keeps_the_good_ones(
    client: TestClient, db: Database, personas: Personas
) -> None:
    _agent(db, "Ann")
    sign_in(client, personas.sam)
    text = "Company;Website;Owner\nAcme;acme.com;ann@example.com\nBad;not a domain;ann@example.com\n"
    text += "Initech;initech.com;nobody@example.com\nAcme;acme.com;ann@example.com\n"
    page = _upload(client, text, 200)
    assert "Added 1, updated 0, bad 3 of 4 rows." in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]+)</td></tr>", page)
    assert rows == [
        ("3", "Website", "Bad domain: 'not a domain' is not a domain name like acme.com."),
        ("4", "Owner", "Unknown agent: no agent has the email nobody@example.com."),
        ("5", "Website", "Duplicate: acme.com is already given on line 2."),
    ]
    with db.read() as session:
        assert [a.domain for a in accounts.list_accounts(session)] == ["acme.com"]


def test_an_all_or_nothing_upload_with_a_bad_row_writes_nothing(
    client: TestClient, db: Database, personas: Personas
) -> None:
    _agent(db, "Ann")
    sign_in(client, personas.sam)
    page = _upload(client, "domain,owner\nglobex.io,ann@example.com\nx,ann@example.com\n", 200, all_or_nothing=True)
    assert "Nothing was imported: 1 bad rows of 2." in page
    with db.read() as session:
        assert accounts.list_accounts(session) == []
    refused = _upload(client, "Company,Country\nAcme,US\n", 422)
    assert "The columns of the file cannot be read; nothing was imported." in refused
    assert "owner email: The file needs a column for the owner email" in refused


# --- rules ----------------------------------------------------------------------------------------------------


def test_a_rule_is_created_with_yaml_conditions_edited_moved_and_deleted(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ann = _agent(db, "Ann")
    ben = _agent(db, "Ben")
    sign_in(client, personas.sam)
    new = client.get(f"{PAGE}/new-rule").text
    assert "company.employees, op: gte, value: 1000" in unescape(new), "an example to start from"

    bad = client.post(
        f"{PAGE}/rules",
        data={
            "csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', new)[0],
            "key": "enterprise",
            "name": "Enterprise",
            "priority": "10",
            "conditions": "{field: company.employes, op: gte, value: 1000}",
            "agents": [str(ann)],
        },
    )
    assert bad.status_code == 422
    assert "company.employes is not a field. Did you mean company.employees?" in bad.text
    assert 'aria-describedby="conditions-problem"' in bad.text
    assert "<li><code>conditions.field</code>: company.employes is not a field." in bad.text

    good = {
        "key": "enterprise",
        "name": "Enterprise",
        "priority": "10",
        "description": "Big companies",
        "conditions": "{field: company.employees, op: gte, value: 1000}",
    }
    token = re.findall(r'name="csrf_token" value="([^"]+)"', new)[0]
    made = client.post(f"{PAGE}/rules", data={**good, "csrf_token": token, "agents": [str(ann), str(ben)]})
    assert made.status_code == 303, made.text
    second = {**good, "key": "france", "name": "France", "priority": "20"}
    second["conditions"] = "{field: company.country, op: equals, value: FR}"
    client.post(f"{PAGE}/rules", data={**second, "csrf_token": token, "agents": [str(ben)]})
    page = unescape(client.get(PAGE).text)
    assert "<code>company.employees gte 1000</code>" in page
    assert page.index(">Enterprise</a>") < page.index(">France</a>")

    client.post(f"{PAGE}/rules/france/move", data={"direction": "up", "csrf_token": token})
    page = client.get(PAGE).text
    assert page.index(">France</a>") < page.index(">Enterprise</a>")

    edit_page = client.get(f"{PAGE}/rules/enterprise").text
    assert "field: company.employees" in edit_page and f'value="{ben}" checked' in edit_page
    saved = client.post(
        f"{PAGE}/rules/enterprise",
        data={**good, "name": "Big accounts", "csrf_token": token, "agents": [str(ben)]},
    )
    assert saved.status_code == 303
    with db.read() as session:
        rule = rules.get(session, "enterprise")
        info = teams.info(session, rules.team_of(session, rule))
        assert (rule.name, [m.agent.name for m in info.members]) == ("Big accounts", ["Ben"])

    client.post(f"{PAGE}/rules/enterprise/delete", data={"csrf_token": token})
    with db.read() as session:
        assert [r.key for r in session.scalars(select(RoutingRule))] == ["france"]


# --- meeting types --------------------------------------------------------------------------------------------


def test_a_meeting_type_is_created_set_and_deleted(client: TestClient, db: Database, personas: Personas) -> None:
    with db.write() as session:
        teams.create(session, "sales", "Sales")
    sign_in(client, personas.sam)
    made = post_form(client, f"{PAGE}/meeting-types", {"key": "demo", "name": "Product demo"}, PAGE)
    assert made.headers["location"] == f"{PAGE}/meeting-types/demo"  # type: ignore[attr-defined]
    form = {"name": "Product demo", "duration_minutes": "45", "notice_minutes": "", "team": "sales"}
    post_form(client, f"{PAGE}/meeting-types/demo", form, f"{PAGE}/meeting-types/demo")
    with db.read() as session:
        row = session.scalar(select(MeetingType).where(MeetingType.key == "demo"))
        assert row is not None and (row.duration_minutes, row.notice_minutes) == (45, None)
    assert "<td>45 min</td>" in client.get(PAGE).text
    bad = post_form(client, f"{PAGE}/meeting-types/demo", {**form, "duration_minutes": "soon"}, PAGE)
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "The duration (minutes) is a whole number from 5 to 480." in bad.text  # type: ignore[attr-defined]
    assert 'value="soon"' in bad.text  # type: ignore[attr-defined]
    post_form(client, f"{PAGE}/meeting-types/demo/delete", {}, PAGE)
    with db.read() as session:
        assert session.scalars(select(MeetingType)).all() == []


def test_next_is_who_booking_picks_and_an_out_of_office_agent_shows_why_they_are_skipped(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ann, _ben, _cat = _sales_team(db, "Ann", "Ben", "Cat")
    with db.write() as session:
        session.get_one(Agent, ann).out_of_office = [{"start": "2026-11-20", "end": "2027-01-31"}]
    publish_booking(db)
    with time_machine.travel(NOW, tick=False):  # the offer and the pick see one instant
        sign_in(client, personas.sam)
        assert _rotation(client) == ["Ann", "Ben (next)", "Cat"]
        assert _next_line(client) == "Ben"
        assert "Out of office until 2027-01-31." in _row(client, "Ann")
        visitor = Visitor(client)
        visitor.pick(first_time(visitor.to_the_slots("zoe@acme.example")))

    with db.read() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert session.get_one(Agent, meeting.agent_id).name == "Ben"


def test_an_agent_without_a_calendar_is_skipped_with_the_reason(
    client: TestClient, db: Database, personas: Personas
) -> None:
    _sales_team(db, "Ann")
    with db.write() as session:
        team = teams.get(session, "sales")
        user = users.create_user(session, "dan@example.com", "agent", "Dan", PASSWORD)
        teams.add_agent(session, team, rotation.create_agent(session, user))
        rotation.next_agent(session, "sales", NOW, lambda _agent_id: True)  # Ann took the last one
    with time_machine.travel(NOW):
        sign_in(client, personas.sam)
        assert _rotation(client) == ["Ann (next)", "Dan"]
        assert "No calendar connected." in _row(client, "Dan")


def _row(client: TestClient, name: str) -> str:
    page = client.get(PAGE).text
    [row] = [
        body for body in re.findall(r"<tr[^>]*data-agent[^>]*>(.*?)</tr>", page, re.S) if f"<td>{name}<br>" in body
    ]
    return unescape(row)
