"""The Automations page as a marketer uses it: add one by the form, see each mistake beside its field with what was
typed kept, test it against a recent activity, read its runs, turn it off; agents do not see it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient

from overture.activities.service import ActivityType
from overture.db import Database

from .helpers import T0, activity, person, program, run_job, static_list
from support import Personas, csrf_from, sign_in

PAGE = "/admin/automations"


def form(**given: Any) -> dict[str, Any]:
    """The form as a browser sends it: every row of every table, empty where nothing was typed."""
    rows = 5
    sent: dict[str, Any] = {
        "name": "", "description": "", "enabled": "on", "activity": "goal.reached", "where": "",
        "attr_name": ["", "", ""], "attr_op": ["equals"] * 3, "attr_value": ["", "", ""],
        **{f"action_{key}": [""] * rows for key in ("type", "program", "status", "list", "field", "value", "to",
                                                     "user", "address", "endpoint", "note")},
        "action_direction": ["forward"] * rows,
    }  # fmt: skip
    sent.update(given)
    return sent


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_from(client, PAGE + "/new")})


def goal_form(spring: int, hot: int) -> dict[str, Any]:
    return form(
        name="Demo requests to sales",
        attr_name=["goal", "", ""], attr_value=["demo_requested", "", ""],
        where="field: company.employees\nop: gte\nvalue: 200\n",
        action_type=["program_status", "add_to_list", "", "", ""],
        action_program=[str(spring), "", "", "", ""], action_status=["Engaged", "", "", "", ""],
        action_list=["", str(hot), "", "", ""],
    )  # fmt: skip


def test_a_marketer_adds_an_automation_by_the_form_and_sees_its_runs(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    with time_machine.travel(T0, tick=False):  # the automation acts on what happens after it is made
        sign_in(client, personas.mark)
        assert 'href="/admin/automations"' in client.get("/admin/programs").text
        added = post(client, PAGE, goal_form(spring, hot))
        assert added.status_code == 303, added.text
        page_url = added.headers["location"]
        activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
        run_job(db, T0 + timedelta(minutes=2))
        page = client.get(page_url).text
        listed = client.get(PAGE).text
    assert "Demo requests to sales is on: it acts on what happens from now on." in page
    assert 'value="demo_requested"' in page and "field: company.employees" in page
    assert "ran once" in page
    assert f'<a href="/admin/people/{ada}">Ada Lovelace</a>' in page
    assert "Spring chat: joined (Engaged)." in page and "Hot leads: added." in page
    assert "Demo requests to sales" in listed and "A goal is reached" in listed


def test_a_refused_form_keeps_what_was_typed_and_says_each_problem_beside_its_field(
    client: TestClient, db: Database, personas: Personas
) -> None:
    spring = program(db)
    sign_in(client, personas.mark)
    wrong = form(
        name="Typo", where="field: company.employes\nop: gte\nvalue: 200\n",
        action_type=["program_status", "", "", "", ""], action_program=[str(spring), "", "", "", ""],
        action_status=["Won", "", "", "", ""],
    )  # fmt: skip
    refused = post(client, PAGE, wrong)
    assert refused.status_code == 422
    page = refused.text
    assert 'id="where-problem"' in page and "Did you mean company.employees?" in page
    assert 'id="action_0-problem"' in page and "&#39;Won&#39; is not a status of Spring chat" in page
    assert 'value="Typo"' in page and 'value="Won"' in page and "company.employes" in page
    assert client.get(PAGE).text.count("Typo") == 0, "nothing saved"
    nothing = post(client, PAGE, form(name="Empty"))
    assert nothing.status_code == 422 and "Choose at least one action." in nothing.text


def test_the_test_button_says_what_it_would_do_without_doing_it(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    activity(db, ada, ActivityType.goal_reached, T0, goal="demo_requested")
    sign_in(client, personas.mark)
    new = client.get(PAGE + "/new").text
    [option] = re.findall(r'<option value="(\d+)"[^>]*>[^<]*Ada Lovelace · goal.reached goal demo_requested', new)
    shown = post(client, PAGE, {**goal_form(spring, hot), "intent": "test", "test_activity": option})
    assert shown.status_code == 200
    assert "It would run." in shown.text
    assert "Would set Ada Lovelace&#39;s status in Spring chat to Engaged (not a member yet)." in shown.text
    assert "No automations yet." in client.get(PAGE).text


def test_turning_an_automation_off_and_deleting_it(client: TestClient, db: Database, personas: Personas) -> None:
    spring, hot = program(db), static_list(db)
    sign_in(client, personas.mark)
    page_url = post(client, PAGE, goal_form(spring, hot)).headers["location"]
    off = client.post(page_url + "/switch", data={"csrf_token": csrf_from(client, page_url)})
    assert off.status_code == 303
    assert "Turn on" in client.get(page_url).text
    gone = client.post(page_url + "/delete", data={"csrf_token": csrf_from(client, page_url)})
    assert gone.headers["location"] == PAGE
    assert "No automations yet." in client.get(PAGE).text


def test_agents_cannot_open_automations(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.bob)
    assert client.get(PAGE).status_code == 403


def test_a_persons_page_shows_the_automations_that_ran_for_them(
    client: TestClient, db: Database, personas: Personas
) -> None:
    ada, spring, hot = person(db), program(db), static_list(db)
    with time_machine.travel(T0, tick=False):
        sign_in(client, personas.mark)
        automation_url = post(client, PAGE, goal_form(spring, hot)).headers["location"]
        activity(db, ada, ActivityType.goal_reached, T0 + timedelta(minutes=1), goal="demo_requested")
        run_job(db, T0 + timedelta(minutes=2))
        page = client.get(f"/admin/people/{ada}").text
    assert f'<a href="{automation_url}">Demo requests to sales</a> on goal.reached goal demo_requested: done' in page
    assert "(Spring chat: joined (Engaged). Hot leads: added.)" in page
