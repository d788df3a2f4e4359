"""The reports API refuses what it cannot answer, saying what is wrong, and only to those who may read reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.reports import REPORTS, offer
from overture.db import Database

from support import Personas, publish, token_for

ERROR_SHAPE = {"ok", "error", "errors", "status"}


def refusal(client: TestClient, headers: dict[str, str], path: str, status: int, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_SHAPE and body["status"] == status
    return body


@pytest.fixture
def mark(db: Database, personas: Personas) -> dict[str, str]:
    publish(db, offer())
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


@pytest.mark.parametrize(
    ("params", "field", "says"),
    [
        ({"from": "2026-03-10", "to": "2026-03-09"}, "from", "2026-03-10 is after to (2026-03-09)"),
        ({"from": "2025-03-09", "to": "2026-03-10"}, "to", "367 days from 2025-03-09: at most 366"),
        ({"zone": "Mars/Olympus_Mons"}, "zone", "'Mars/Olympus_Mons' is not an IANA time zone"),
        ({"zone": "../etc/passwd"}, "zone", "is not an IANA time zone"),
        ({"from": "2026-02-30"}, "from", ""),
        ({"version": "0"}, "version", ""),
    ],
)
def test_a_wrong_period_zone_or_version_is_named(
    client: TestClient, mark: dict[str, str], params: dict[str, str], field: str, says: str
) -> None:
    body = refusal(client, mark, f"{REPORTS}/offer", 422, **params)
    [problem] = [p for p in body["errors"] if p["path"].endswith(field)]
    assert says in problem["message"]


def test_a_leap_year_is_366_days_and_may_be_asked(client: TestClient, mark: dict[str, str]) -> None:
    response = client.get(f"{REPORTS}/offer", params={"from": "2028-01-01", "to": "2028-12-31"}, headers=mark)
    assert response.status_code == 200, response.text
    assert len(response.json()["daily"]) == 366


def test_an_unknown_dialogue_or_version_is_not_found(client: TestClient, mark: dict[str, str]) -> None:
    assert "no dialogue or flow with the key 'nope'" in refusal(client, mark, f"{REPORTS}/nope", 404)["error"]
    assert "'offer' has no version 2" in refusal(client, mark, f"{REPORTS}/offer", 404, version=2)["error"]


def test_only_admins_and_marketers_read_reports(client: TestClient, db: Database, personas: Personas) -> None:
    publish(db, offer())
    refusal(client, {}, f"{REPORTS}/offer", 401)
    for persona in (personas.bob, personas.sam):
        refusal(client, {"Authorization": f"Bearer {token_for(db, persona)}"}, f"{REPORTS}/offer", 403)
    for persona in (personas.alice, personas.mark):
        headers = {"Authorization": f"Bearer {token_for(db, persona)}"}
        assert client.get(f"{REPORTS}/offer", headers=headers).status_code == 200
