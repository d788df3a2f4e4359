"""A dialogue's breakdowns against one hand-counted day: four conversations of three visitors, read through the
admin API by page, UTM source and campaign, company, and known or anonymous visitor (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from overture.db import Database

from .reports import REPORTS, Chat, headers, offer
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
DAY = {"from": "2026-03-16", "to": "2026-03-16"}
PRICING = "https://example.com/pricing"


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


@pytest.fixture
def day(client: TestClient, db: Database) -> Iterator[None]:
    """Ada lands from the spring newsletter and signs up on /pricing, then (same visit) comes back by an ad and says
    no thanks; a stranger closes the chat on /pricing?ref=x; Bob signs up on the blog."""
    publish(db, offer())
    with time_machine.travel(T0, tick=False) as clock:
        landed = client.post(
            "/api/v1/widget/visit",
            json={"site": "default", "url": "https://example.com/landing?utm_source=news&utm_campaign=spring"},
        )
        assert landed.status_code == 200, landed.text
        ada = Chat(client, landed.json()["visitor_id"])
        ada.open(page=PRICING)
        ada.choose("0")
        ada.type("ada@acme.example")
        clock.shift(timedelta(minutes=10))
        ada.open(page=PRICING + "?utm_source=ads")
        ada.choose("1")
        stranger = Chat(client)
        stranger.open(page=PRICING + "?ref=x#top")
        stranger.close()
        bob = Chat(client)
        bob.open(page="https://example.com/blog")
        bob.choose("0")
        bob.type("bob@globex.example")
        yield


def rows(client: TestClient, auth: dict[str, str], by: str) -> list[tuple[Any, ...]]:
    response = client.get(f"{REPORTS}/offer/breakdowns", params={"by": by, **DAY}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["by"], body["from"], body["to"]) == (by, DAY["from"], DAY["to"])
    return [
        (row["label"], row["conversations"], row["engaged"], row["completed"], row["people_acquired"])
        for row in body["rows"]
    ]


def test_by_page_without_query_or_fragment(client: TestClient, auth: dict[str, str], day: None) -> None:
    assert rows(client, auth, "page") == [(PRICING, 3, 2, 2, 1), ("https://example.com/blog", 1, 1, 1, 1)]


def test_by_utm_source_the_pages_own_else_the_visits_landing_page(
    client: TestClient, auth: dict[str, str], day: None
) -> None:
    assert rows(client, auth, "utm_source") == [("(none)", 2, 1, 1, 1), ("ads", 1, 1, 1, 0), ("news", 1, 1, 1, 1)]


def test_by_utm_campaign(client: TestClient, auth: dict[str, str], day: None) -> None:
    assert rows(client, auth, "utm_campaign") == [("(none)", 2, 1, 1, 1), ("spring", 2, 2, 2, 1)]


def test_by_company_of_the_visitor(client: TestClient, auth: dict[str, str], day: None) -> None:
    assert rows(client, auth, "company") == [
        ("Acme", 2, 2, 2, 1),
        ("(no company)", 1, 0, 0, 0),
        ("Globex", 1, 1, 1, 1),
    ]


def test_known_means_the_email_was_given_before_the_conversation_started(
    client: TestClient, auth: dict[str, str], day: None
) -> None:
    assert rows(client, auth, "known") == [("Known", 1, 1, 1, 0), ("Anonymous", 3, 2, 2, 2)]


def test_an_unknown_breakdown_is_named(client: TestClient, auth: dict[str, str], day: None) -> None:
    response = client.get(f"{REPORTS}/offer/breakdowns", params={"by": "weather"}, headers=auth)
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["path"].endswith("by") and "page, utm_source, utm_campaign, company, known" in problem["message"]


def test_conversations_started_on_the_landing_page_are_their_own_channel(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    publish(db, offer())
    with time_machine.travel(T0, tick=False):
        Chat(client).open(page=PRICING)
        for _ in range(2):
            landed = client.post(
                "/api/v1/widget/conversations",
                json={
                    "dialogue": "offer",
                    "page_url": "https://example.com/chat/default/offer",
                    "channel": "landing_page",
                },
            )
            assert landed.status_code == 201, landed.text
    assert [row[:2] for row in rows(client, auth, "channel")] == [("Landing page", 2), ("Chat on the site", 1)]
