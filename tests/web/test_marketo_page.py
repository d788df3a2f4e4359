"""The Marketo page (Integrations, admins): an admin connects the fake Marketo and sees the status and the proposed
mapping; a wrong secret is refused beside the form with the other values kept; the mapping is edited (a wrong row
named beside its select) and an unmapped field becomes a custom field in one click; Disconnect asks for the box;
the sync's status (phase, counts, last error, skipped records) on the page and as JSON; Sync now queues the job;
everyone but an admin is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from integrations.connect_support import SECRET, form, running_marketo
from integrations.marketo.client_support import Clock
from integrations.marketo.wire_support import clocked_world
from overture.db import Database
from overture.integrations import service
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.marketo.fake_data import stamp
from overture.integrations.marketo.sync_run import run_job
from overture.settings import Settings

from support import Personas, csrf_from, sign_in

PAGE = "/admin/integrations/marketo"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fake Marketo listens on 127.0.0.1: the operator's setting lets integrations reach it."""
    return settings.model_copy(update={"integrations_private_addresses": True})


@pytest.fixture
def fake() -> Iterator[FakeMarketo]:
    with running_marketo() as running:
        yield running


def post(client: TestClient, path: str, data: dict[str, str]) -> object:
    return client.post(path, data={**data, "csrf_token": csrf_from(client, PAGE)})


def connected(client: TestClient, fake: FakeMarketo) -> None:
    answer = post(client, PAGE + "/connect", form(fake))
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]


def test_an_admin_connects_marketo_and_sees_the_status_and_the_mapping(
    client: TestClient, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    assert "Connect Marketo" in client.get(PAGE).text
    connected(client, fake)
    page = client.get(PAGE).text
    assert "Connected" in page and "alice@example.com" in page and fake.url in page
    assert "29 lead fields and 14 company fields can be read" in page
    assert "No sync has run yet." in page
    assert re.search(r'<select name="lead.email"[^>]*>.*?<option value="person.email" selected>', page, re.S)
    assert SECRET not in page


def test_a_wrong_secret_is_refused_beside_the_form_with_the_values_kept(
    client: TestClient, db: Database, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    answer = post(client, PAGE + "/connect", form(fake, client_secret="wrong-secret"))
    page = answer.text  # type: ignore[attr-defined]
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert 'id="client_secret-problem"' in page and "Marketo refused the client id and client secret" in page
    assert f'name="base_url" value="{fake.url}"' in page and 'name="client_id" value="overture"' in page
    assert "wrong-secret" not in page, "a secret is never sent back into the page"
    with db.read() as session:
        assert service.find(session, "marketo") is None


def test_a_mapping_row_of_the_wrong_type_is_named_beside_its_select(
    client: TestClient, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    connected(client, fake)
    answer = post(client, PAGE + "/mapping", {"lead.createdAt": "person.consent", "lead.email": "person.email"})
    page = answer.text  # type: ignore[attr-defined]
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert 'id="lead-createdAt-problem"' in page
    assert "Lead field Created At (createdAt): a Marketo datetime cannot map to person.consent" in page


def test_an_admin_stops_syncing_a_field_and_makes_another_a_custom_field(
    client: TestClient, db: Database, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    connected(client, fake)
    assert post(client, PAGE + "/mapping", {"lead.firstName": ""}).status_code == 303  # type: ignore[attr-defined]
    made = post(client, PAGE + "/custom-field", {"field": "lead.productInterest"})
    assert made.status_code == 303  # type: ignore[attr-defined]
    page = client.get(PAGE).text
    assert "The custom field person.product_interest (text) is made" in page
    with db.read() as session:
        mapping = service.connected(session, "marketo").mapping
    assert mapping["lead"]["firstName"] is None
    assert mapping["lead"]["productInterest"] == "person.product_interest"
    assert mapping["lead"]["email"] == "person.email"


def test_disconnecting_needs_the_box_ticked_and_then_forgets_the_secret(
    client: TestClient, db: Database, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    connected(client, fake)
    post(client, PAGE + "/disconnect", {})
    assert "tick the box to confirm" in client.get(PAGE).text
    post(client, PAGE + "/disconnect", {"confirm": "true"})
    page = client.get(PAGE).text
    assert "is disconnected: nothing is synced" in page and "Connect Marketo" in page
    with db.read() as session:
        row = service.find(session, "marketo")
    assert row is not None and row.status == "disconnected" and row.secret is None


def test_test_connection_says_what_failed(client: TestClient, personas: Personas, fake: FakeMarketo) -> None:
    sign_in(client, personas.alice)
    connected(client, fake)
    fake.fail_next("603", path="describe2")
    post(client, PAGE + "/test", {})
    page = client.get(PAGE).text
    assert "The test failed. Marketo did not let Overture read the lead fields" in page


@pytest.mark.parametrize("persona", ["mark", "sam", "bob"])
def test_only_admins_open_the_marketo_page(client: TestClient, personas: Personas, persona: str) -> None:
    sign_in(client, getattr(personas, persona))
    assert client.get(PAGE).status_code == 403


def test_the_integrations_area_lists_marketo_beside_webhooks(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    page = client.get("/admin/integrations").text
    assert 'href="/admin/integrations/webhooks"' in page and 'href="/admin/integrations/marketo"' in page


def test_the_page_and_its_json_show_the_sync_phase_counts_last_error_and_skipped_records_with_their_reason(
    client: TestClient, db: Database, settings: Settings, personas: Personas
) -> None:
    clock = Clock()  # the fake's and the sync's: their waits move it
    fake = FakeMarketo(clock=clock, client_secret=SECRET, leads=60, companies=4)
    bad = fake.add_lead(email="nobody@", createdAt=stamp(clock() - timedelta(days=3)))
    sign_in(client, personas.alice)
    with fake.running():
        connected(client, fake)
        post(client, PAGE + "/mapping", {"company.billingCountry": ""})  # country names do not fit ISO codes
        fake.fail_next("603", path="pagingtoken")  # the lead changes, once the initial sync is done
        with clocked_world(settings, clock) as world:
            run_job(db, world)
    page = client.get(PAGE).text
    assert "Failed</span>\n  Lead changes (the initial sync is done)." in page
    assert "60 created, 0 updated, 1 skipped" in page and "4 created, 0 updated, 0 skipped" in page
    assert '<dd id="sync-error">Marketo did not let Overture start reading activities' in page
    assert f"<td>Lead {bad}</td><td>email: &#39;nobody@&#39; is not a valid email address.</td>" in page
    answer = client.get(PAGE + "/status").json()
    status = answer["status"]
    assert (status["phase"], status["state"], status["in_progress"]) == ("changes", "failed", False)
    assert (status["leads"], status["companies"]["created"]) == ({"created": 60, "updated": 0, "skipped": 1}, 4)
    assert status["last_error"].startswith("Marketo did not let Overture start reading activities")
    assert status["last_error_at"]
    assert [(s["kind"], s["remote_id"], s["reason"]) for s in status["skipped"]] == [
        ("lead", str(bad), "email: 'nobody@' is not a valid email address.")
    ]
    assert '<dd id="sync-leads">60 created, 0 updated, 1 skipped</dd>' in answer["html"]


def test_sync_now_queues_a_run_of_the_job_says_so_and_the_page_follows_it(
    client: TestClient, app: FastAPI, personas: Personas, fake: FakeMarketo
) -> None:
    sign_in(client, personas.alice)
    connected(client, fake)
    answer = post(client, PAGE + "/sync", {})
    assert answer.headers["location"] == PAGE + "?sync=queued#sync"  # type: ignore[attr-defined]
    assert [task.name for task in app.state.context.jobs.huey.pending()] == ["sync_marketo"]
    page = client.get(PAGE + "?sync=queued").text
    assert "A Marketo sync is queued" in page and 'data-follow="queued"' in page


def test_sync_now_is_refused_while_marketo_is_not_connected(
    client: TestClient, app: FastAPI, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    post(client, PAGE + "/sync", {})
    assert "Not synced: Marketo is not connected. Connect it first." in client.get(PAGE).text
    assert app.state.context.jobs.huey.pending() == []
