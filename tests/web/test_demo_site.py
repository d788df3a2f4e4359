"""The demo website as `overture demo` seeds it: every page serves the widget and has a dialogue to show, on a
desktop and on a phone; and Overture's own address leads a browser to the admin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from fastapi.testclient import TestClient

from overture.cli.demo import seed_demo_content
from overture.db import Database
from overture.settings import Settings
from overture.web.pages.demo import POSTS

T0 = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)  # a Tuesday, inside every example's schedule
HOME = "http://testserver/demo"

# Each page of the demo website and the example dialogue it shows.
DEMO_PAGES = {
    "/demo": "welcome",
    "/demo/product": "qualify-lead",
    "/demo/pricing": "pricing-demo",
    "/demo/blog": "newsletter",
    **{f"/demo/blog/{slug}": "newsletter" for slug in POSTS},
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"demo": True})


@pytest.fixture
def seeded(db: Database) -> Iterator[None]:
    with time_machine.travel(T0, tick=False):
        with db.write() as session:
            seed_demo_content(session)
        yield


def test_every_demo_page_shows_a_dialogue_to_a_new_visitor_on_a_desktop_and_a_phone(
    client: TestClient, seeded: None
) -> None:
    shown = {}
    for path in DEMO_PAGES:
        page = client.get(path)
        assert page.status_code == 200
        assert '<script src="/widget.js" data-site="www" async></script>' in page.text
        for device in ("desktop", "mobile"):
            visit = client.post(
                "/api/v1/widget/visit", json={"site": "www", "url": f"http://testserver{path}", "device": device}
            )
            assert visit.status_code == 200, visit.text
            chosen = visit.json()["dialogue"]
            shown[path, device] = chosen["key"] if chosen else None
    assert shown == {(path, device): key for path, key in DEMO_PAGES.items() for device in ("desktop", "mobile")}


def test_the_home_page_greets_at_once(client: TestClient, seeded: None) -> None:
    visit = client.post("/api/v1/widget/visit", json={"site": "www", "url": HOME})
    assert visit.json()["dialogue"]["trigger"] == {"on": "page_load"}


def test_overtures_own_address_sends_a_browser_to_the_admin(client: TestClient) -> None:
    for answer in (client.get("/"), client.head("/")):
        assert answer.status_code == 307
        assert answer.headers["location"] == "/admin"
    assert client.get("/", follow_redirects=True).url.path == "/admin/login"


def test_the_home_page_visitor_who_asks_for_sales_is_offered_times_of_the_demo_team(
    client: TestClient, seeded: None
) -> None:
    started = client.post("/api/v1/widget/conversations", json={"dialogue": "welcome", "page_url": HOME})
    assert started.status_code == 201, started.text
    chat = started.json()
    assert [choice["label"] for choice in chat["expected"]["choices"]] == [
        "How does it work?",
        "What does it cost?",
        "Talk to sales",
        "Just looking",
    ]
    headers = {"X-Conversation-Token": chat["token"]}
    replies = f"/api/v1/widget/conversations/{chat['conversation_id']}/replies"
    asked = client.post(replies, json={"step": chat["step"], "choice": "2"}, headers=headers).json()
    offered = client.post(replies, json={"step": asked["step"], "text": "eva@evaluator.example"}, headers=headers)
    assert offered.status_code == 200, offered.text
    meeting = offered.json()["meeting"]
    assert meeting["days"] and meeting["days"][0]["times"], "the demo's sales team has free times"
