"""The Reports pages in Chromium, on a desktop and a phone: the dashboard and a dialogue's report draw their charts
(uPlot, under the admin's Content-Security-Policy) beside tables of the same numbers, axe-core finds nothing to fix,
a breakdown is chosen from the keyboard, and nothing is wider than a phone. Screenshots: reports-*.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from analytics.reports import Chat, offer
from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from pages import axe_violations, shoot, sign_in
from support import Personas, publish

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
DAYS = 14
PERIOD = "?from=2026-03-02&to=2026-03-15"
DASHBOARD = "/admin/reports" + PERIOD
DIALOGUE = "/admin/reports/dialogues/offer" + PERIOD
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PAGES = ["https://example.com/pricing", "https://example.com/blog?utm_source=news&utm_campaign=spring",
         "https://example.com/features?utm_source=ads"]  # fmt: skip


@pytest.fixture
def two_weeks(client: TestClient, db: Database) -> None:
    """Two weeks of visitors on three pages, each signing up, saying no, closing or leaving at the question; and
    a few demos booked, one held."""
    publish(db, offer())
    make_agents(db, 2)
    publish_booking(db)
    with time_machine.travel(START, tick=False) as clock:
        for day in range(DAYS):
            for number in range(3 + (day * 7) % 5):
                chat = Chat(client)
                chat.open(page=PAGES[(day + number) % len(PAGES)])
                kind = (day + number) % 4
                if kind == 0:
                    chat.choose("0")
                    chat.type(f"visitor{day}-{number}@acme{number % 3}.example")
                elif kind == 1:
                    chat.choose("1")
                elif kind == 2:
                    chat.close()
                else:
                    chat.choose("0")
                clock.shift(timedelta(minutes=40))
            if day % 4 == 1:
                visitor = Visitor(client)
                visitor.pick(first_time(visitor.to_the_slots(f"demo{day}@globex.example")))
            clock.shift(timedelta(days=1) - timedelta(minutes=40) * (3 + (day * 7) % 5))
    with db.write() as session:
        first = session.scalars(select(Meeting.id).order_by(Meeting.id)).first()
        session.execute(update(Meeting).where(Meeting.id == first).values(status="held"))


def open_page(browser: Browser, live_server: str, personas: Personas, viewport: dict[str, int], **options: Any) -> Page:
    context = browser.new_context(base_url=live_server, viewport=viewport, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, personas.mark.email, personas.mark.password)
    return page


def errors_of(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def charts_drawn(page: Page, count: int) -> None:
    expect(page.locator("[data-chart] canvas")).to_have_count(count)


def fits(page: Page, width: int) -> None:
    """Nothing makes the page scroll sideways: wide tables scroll in their own box."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_dashboard_and_a_dialogues_report_draw_their_charts_beside_their_tables(
    browser: Browser, live_server: str, personas: Personas, screenshots: Path, two_weeks: None,
    name: str, viewport: dict[str, int],
) -> None:  # fmt: skip
    page = open_page(browser, live_server, personas, viewport)
    errors = errors_of(page)
    page.goto(DASHBOARD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    charts_drawn(page, 2)
    expect(page.get_by_role("region", name="Day by day").get_by_role("row")).to_have_count(1 + DAYS)
    expect(page.get_by_role("region", name="Meetings by agent").get_by_role("row")).to_have_count(1 + 2)
    fits(page, viewport["width"])
    shoot(page, screenshots, f"reports-dashboard-{name}.png")

    # The top dialogue opens its report, for the same period.
    page.get_by_role("region", name="Top dialogues").get_by_role("link", name="Offer").click()
    expect(page).to_have_url(live_server + DIALOGUE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Offer")
    charts_drawn(page, 1)
    canvas = page.locator("[data-chart] canvas").first.bounding_box()
    assert canvas is not None and canvas["width"] <= viewport["width"]
    expect(page.get_by_role("region", name="Day by day").get_by_role("row")).to_have_count(1 + DAYS)
    fits(page, viewport["width"])
    shoot(page, screenshots, f"reports-dialogue-{name}.png")

    # A breakdown, chosen from the keyboard.
    company = page.get_by_role("navigation", name="Break down by").get_by_role("link", name="Company")
    company.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="By company")).to_be_visible()
    expect(page.get_by_role("navigation", name="Break down by").get_by_role("link", name="Company")).to_have_attribute(
        "aria-current", "page"
    )
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE])
def test_axe_finds_nothing_to_fix_on_the_reports_pages(
    browser: Browser, live_server: str, personas: Personas, two_weeks: None, viewport: dict[str, int]
) -> None:
    # bypass_csp: axe-core is injected as an inline script, which the admin's CSP rightly refuses.
    page = open_page(browser, live_server, personas, viewport, bypass_csp=True)
    for path, charts in ((DASHBOARD, 2), (DIALOGUE, 1), (DIALOGUE + "&by=known", 1)):
        page.goto(path)
        charts_drawn(page, charts)
        assert axe_violations(page) == [], path
    page.context.close()


def test_without_javascript_the_numbers_are_in_the_tables(
    browser: Browser, live_server: str, personas: Personas, two_weeks: None
) -> None:
    page = open_page(browser, live_server, personas, PHONE, java_script_enabled=False)
    page.goto(DIALOGUE)
    expect(page.locator("[data-chart] canvas")).to_have_count(0)
    day = page.get_by_role("region", name="Day by day").get_by_role("row").filter(has_text="Mon 2 Mar 2026")
    expect(day).to_be_visible()
    page.context.close()
