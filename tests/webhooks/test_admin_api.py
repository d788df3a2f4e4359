"""The admin API of webhooks (admins only): endpoints added with their secret shown once, changed, rotated, a test
event sent and verified at a real receiver, the deliveries log paged, a delivery sent again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from overture.db import Database
from overture.webhooks.delivery import Outbound, deliver_due
from webhooks.receiver import receiving

from support import Personas, token_for

API = "/api/v1/admin/webhooks"
T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, personas.alice)}"}


def send(db: Database) -> None:
    outbound = Outbound()
    deliver_due(db, outbound)
    outbound.close()


def test_an_admin_adds_an_endpoint_sends_a_test_event_and_reads_the_log(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    with receiving() as receiver, time_machine.travel(T0, tick=False):
        made = client.post(
            f"{API}/endpoints",
            json={"url": receiver.url, "description": "CRM", "event_types": ["meeting.booked", "person.created"],
                  "allow_private": True},
            headers=auth,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        endpoint = made.json()
        assert endpoint["secret"].startswith("whsec_")
        receiver.secret = endpoint["secret"]
        shown = client.get(f"{API}/endpoints/{endpoint['id']}", headers=auth).json()
        assert "secret" not in shown, "the secret is shown once"

        test = client.post(f"{API}/endpoints/{endpoint['id']}/test", headers=auth)
        assert test.status_code == 202 and test.json()["status"] == "pending"
        send(db)

    [got] = receiver.verified()
    assert got.payload["type"] == "webhook.test" and got.id == test.json()["event_id"]
    log = client.get(f"{API}/endpoints/{endpoint['id']}/deliveries", headers=auth).json()
    assert [d["status"] for d in log["items"]] == ["delivered"] and log["next_before"] is None
    one = client.get(f"{API}/deliveries/{log['items'][0]['id']}", headers=auth).json()
    assert one["attempt_log"][0]["status_code"] == 200 and one["attempt_log"][0]["response_excerpt"] == '{"ok":true}'


def test_a_rotated_secret_signs_the_next_deliveries(client: TestClient, db: Database, auth: dict[str, str]) -> None:
    with receiving() as receiver, time_machine.travel(T0, tick=False):
        made = client.post(
            f"{API}/endpoints", json={"url": receiver.url, "event_types": ["goal.reached"], "allow_private": True},
            headers=auth,
        ).json()  # fmt: skip
        rotated = client.post(f"{API}/endpoints/{made['id']}/secret", headers=auth).json()["secret"]
        assert rotated != made["secret"] and rotated.startswith("whsec_")
        receiver.secret = rotated
        client.post(f"{API}/endpoints/{made['id']}/test", headers=auth)
        send(db)
        [got] = receiver.verified()
        with pytest.raises(Exception, match="signature"):
            Webhook(made["secret"]).verify(got.body, got.headers)


def test_the_log_pages_newest_first_and_a_delivery_is_sent_again(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    with receiving() as receiver, time_machine.travel(T0, tick=False):
        made = client.post(
            f"{API}/endpoints", json={"url": receiver.url, "event_types": ["goal.reached"], "allow_private": True},
            headers=auth,
        ).json()  # fmt: skip
        receiver.secret = made["secret"]
        ids = [client.post(f"{API}/endpoints/{made['id']}/test", headers=auth).json()["id"] for _ in range(3)]
        first = client.get(f"{API}/endpoints/{made['id']}/deliveries?limit=2", headers=auth).json()
        assert [d["id"] for d in first["items"]] == [ids[2], ids[1]]
        rest = client.get(
            f"{API}/endpoints/{made['id']}/deliveries?limit=2&before={first['next_before']}", headers=auth
        )
        assert [d["id"] for d in rest.json()["items"]] == [ids[0]] and rest.json()["next_before"] is None
        send(db)
        again = client.post(f"{API}/deliveries/{ids[0]}/redeliver", headers=auth)
        assert again.status_code == 202 and again.json()["status"] == "pending"
        send(db)
    assert [r.id for r in receiver.verified()].count(again.json()["event_id"]) == 2


def test_bad_endpoints_are_refused_with_each_problem_named(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post(f"{API}/endpoints", json={"url": "ftp://x", "event_types": ["nope.happened"]}, headers=auth)
    assert answer.status_code == 422
    paths = {p["path"]: p["message"] for p in answer.json()["errors"]}
    assert "https://" in paths["url"] and "nope.happened" in paths["event_types"]
    private = client.post(f"{API}/endpoints", json={"url": "http://10.1.2.3/h", "event_types": ["goal.reached"]},
                          headers=auth)  # fmt: skip
    assert private.status_code == 422 and "private" in private.json()["errors"][0]["message"]


def test_only_admins_manage_webhooks(client: TestClient, db: Database, personas: Personas) -> None:
    marketer = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    assert client.get(f"{API}/endpoints", headers=marketer).status_code == 403
