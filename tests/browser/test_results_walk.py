"""A marketer's walk through what chat yields, in Chromium, on a desktop and a phone, by the links a person follows:
Home's figures of the week, the Conversations inbox and one transcript, the Reports dashboard, a dialogue's report
and its funnel, and the A/B test it runs. Every page is free of axe violations. Screenshots: walk-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from analytics.reports import Chat
from conversations.test_assignment import experiment_offer
from overture.db import Database

from pages import axe_violations, heading, shoot, sign_in
from support import Personas, publish

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday 4 March 2026
DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    # tick=True: the server thread's clock runs on from NOW (uvicorn waits on it); the dates stay March 2026.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def a_week_of_chats(client: TestClient, db: Database) -> None:
    """The offer dialogue runs an A/B test of its greeting; this week five visitors chatted: three gave their email
    (the goal), one said no thanks, one closed the chat."""
    publish(db, experiment_offer(minimum_sample=100))
    with time_machine.travel(NOW - timedelta(days=2), tick=False) as clock:
        for number, kind in enumerate(("email", "email", "no", "close", "email")):
            chat = Chat(client)
            chat.open(page="https://example.com/pricing?utm_source=news")
            if kind == "email":
                chat.choose("0")
                chat.type(f"visitor{number}@acme.example")
            elif kind == "no":
                chat.choose("1")
            else:
                chat.close()
            clock.shift(timedelta(hours=3))


def walk_to(page: Page, link: str, title: str) -> None:
    """Follows a link of the menu (Areas), as a person would."""
    page.get_by_role("navigation", name="Areas").get_by_role("link", name=link).click()
    expect(heading(page)).to_have_text(title)


def accessible(page: Page) -> None:
    assert axe_violations(page) == [], page.url


@pytest.mark.parametrize("device", DEVICES)
def test_a_marketer_walks_from_home_to_the_conversations_the_reports_and_the_ab_test(
    browser: Browser, live_server: str, personas: Personas, a_week_of_chats: None, screenshots: Path, device: str
) -> None:
    # bypass_csp: axe-core is injected as an inline script, which the admin's CSP rightly refuses.
    context = browser.new_context(base_url=live_server, viewport=DEVICES[device], bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, personas.mark.email, personas.mark.password)

    week = page.get_by_role("region", name="This week")
    expect(week.get_by_role("link", name="Conversations")).to_have_accessible_name(
        "Conversations 5 up 5 from none last week"
    )
    expect(week.get_by_role("link", name="People acquired")).to_have_accessible_name(
        "People acquired 3 up 3 from none last week"
    )
    accessible(page)
    shoot(page, screenshots, f"walk-home-{device}.png")

    walk_to(page, "Conversations", "Conversations")
    expect(page.get_by_role("row")).to_have_count(1 + 5)
    row = page.get_by_role("row").filter(has_text="visitor4@acme.example")
    accessible(page)
    shoot(page, screenshots, f"walk-conversations-{device}.png")
    row.get_by_role("link").first.click()
    expect(page.get_by_text("Tell me more").first).to_be_visible()
    expect(page.get_by_text("visitor4@acme.example").first).to_be_visible()
    accessible(page)
    shoot(page, screenshots, f"walk-transcript-{device}.png")

    walk_to(page, "Reports", "Reports")
    expect(page.locator("[data-chart] canvas")).to_have_count(2)
    accessible(page)
    shoot(page, screenshots, f"walk-dashboard-{device}.png")

    page.get_by_role("region", name="Top dialogues").get_by_role("link", name="Offer").click()
    expect(heading(page)).to_have_text("Offer")
    funnel = page.get_by_role("region", name="Funnel")
    expect(funnel.get_by_role("row", name=re.compile(r"^hello 5 100 %"))).to_have_count(1)  # reached by all five
    expect(funnel.get_by_role("row", name=re.compile(r"^thanks 3 "))).to_have_count(1)
    expect(funnel.get_by_role("row", name=re.compile(r"^hello Tell me more 3 "))).to_have_count(1)
    accessible(page)
    shoot(page, screenshots, f"walk-dialogue-{device}.png")

    page.get_by_role("link", name="Its A/B test").click()
    expect(page.get_by_text("Not enough data yet")).to_be_visible()
    accessible(page)
    shoot(page, screenshots, f"walk-experiment-{device}.png")
    context.close()
