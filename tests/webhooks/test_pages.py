"""The Webhooks pages: an admin adds an endpoint by its form (event types as checkboxes) and sees its secret once,
a refused form says what is wrong where, the log shows each delivery's status and answer, and a delivery is sent
again from its row."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import time_machine
from fastapi.testclient import TestClient

from overture.db import Database
from overture.webhooks.delivery import Outbound, deliver_due
from webhooks.helpers import deliveries
from webhooks.receiver import receiving

from support import Personas, csrf_from, sign_in

PAGE = "/admin/integrations/webhooks"
T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def add(client: TestClient, **data: object) -> object:
    return client.post(PAGE, data={**data, "csrf_token": csrf_from(client, PAGE)})


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    with receiving() as receiver:
        answer = add(client, url=receiver.url, description="CRM", event_types=["meeting.booked", "goal.reached"],
                     allow_private="true")  # fmt: skip
    assert answer.status_code == 201  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', page)
    assert secret, "the secret is shown"
    endpoint_url = re.search(r'action="(/admin/integrations/webhooks/\d+)"', page)
    assert endpoint_url
    again = client.get(endpoint_url.group(1)).text
    assert secret.group(1) not in again, "and never again"
    assert 'value="meeting.booked" checked' in again and 'value="link.clicked">' in again
    assert "CRM" in client.get(PAGE).text


def test_a_refused_endpoint_keeps_what_was_typed_and_names_each_problem(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    answer = add(client, url="http://127.0.0.1:9/hooks", description="Local")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert 'value="http://127.0.0.1:9/hooks"' in page and 'value="Local"' in page
    assert 'id="url-problem"' in page and "private or local address" in page
    assert 'name="url" value="http://127.0.0.1:9/hooks"' in page and 'aria-invalid="true"' in page


def test_the_log_shows_each_delivery_and_sends_one_again(client: TestClient, db: Database, personas: Personas) -> None:
    with receiving(failures=1) as receiver, time_machine.travel(T0, tick=False):
        sign_in(client, personas.alice)
        answer = add(client, url=receiver.url, event_types=["goal.reached"], allow_private="true")
        receiver.secret = re.findall(r'id="new-secret">(whsec_[^<]+)<', answer.text)[0]  # type: ignore[attr-defined]
        endpoint = re.findall(r'action="(/admin/integrations/webhooks/\d+)"', answer.text)[0]  # type: ignore[attr-defined]
        client.post(f"{endpoint}/test", data={"csrf_token": csrf_from(client, endpoint)})
        outbound = Outbound()
        deliver_due(db, outbound)

        log = client.get(endpoint).text
        [row] = deliveries(db)
        assert "webhook.test" in log and "Waiting" in log and "500" in log
        detail = client.get(f"{endpoint}/deliveries/{row.id}").text
        assert "busy, try later" in detail, "the answer's excerpt"

        sent = client.post(
            f"{endpoint}/deliveries/{row.id}/redeliver", data={"csrf_token": csrf_from(client, endpoint)}
        )
        assert sent.status_code == 303
        deliver_due(db, outbound)
        outbound.close()
        assert "Delivered" in client.get(sent.headers["location"]).text
    assert [r.answered for r in receiver.verified()] == [500, 200]


def test_marketers_cannot_open_webhooks(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    assert client.get(PAGE).status_code == 403


def test_the_integrations_area_leads_to_webhooks(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    assert f'href="{html.escape(PAGE)}"' in client.get("/admin/integrations").text
