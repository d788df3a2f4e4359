"""The visitor's reschedule page (the link in the invitation) in Chromium: on a phone the days are tabs (arrow keys
move between them), a press on a time moves the meeting, and the page stays short; without JavaScript the same page
is a plain form of day sections. The server's clock is pinned; screenshots go to $OVERTURE_SCREENSHOTS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from sqlalchemy import select

from overture.db import Database
from overture.scheduling import links
from overture.scheduling.models import Meeting
from overture.sites import appearance
from overture.sites.models import Site
from scheduling.rows import SECRET_KEY, at, make_agent, make_meeting, make_person

from pages import axe_violations, shoot

NOW = at(3, 9)  # Tuesday 3 March 2026, 09:00 UTC
PHONE = {"width": 390, "height": 844}
LOOK = {
    "bot_name": "Fernbot",
    "colors": {"header": "#0b3d2e", "buttons": "#ffd166", "launcher": "#0b3d2e"},
    "corner_radius": 8,
}


@pytest.fixture
def clock() -> Iterator[None]:
    # tick=True: the server thread's clock runs on from NOW (uvicorn waits on it); the dates stay March 2026.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def reschedule_path(db: Database, clock: None) -> str:
    """Chloé's meeting with Bob on Thursday 5 March 10:00 UTC (11:00 in Paris), on the Fern site's look."""
    with db.write() as session:
        site = Site(key="fern", name="Fern", origins=[], blocked_email_domains=[])
        session.add(site)
        session.flush()
        appearance.save(session, site, LOOK)
        bob = make_agent(session, "bob@example.com", "Bob")
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        public_id = make_meeting(session, bob, at(5, 10), person=chloe, site_key="fern").public_id
    return f"/meetings/link/{links.token(SECRET_KEY, public_id, 'reschedule')}"


def open_context(
    browser: Browser, live_server: str, zone: str = "Europe/Paris", **options: object
) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(base_url=live_server, timezone_id=zone, **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)  # a bound on failure, not a timing
    page = context.new_page()
    errors: list[str] = []

    def collect(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", collect)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def meeting_start(db: Database) -> object:
    with db.read() as session:
        return session.scalars(select(Meeting.starts_at).where(Meeting.site_key == "fern")).one()


def test_on_a_phone_the_days_are_tabs_a_time_moves_the_meeting_and_the_page_stays_short(
    browser: Browser, live_server: str, db: Database, reschedule_path: str, screenshots: Path
) -> None:
    context, page, errors = open_context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(reschedule_path)

    days = page.get_by_role("tablist", name="Days")
    expect(days.get_by_role("tab")).to_have_count(20)  # four weeks of weekdays from Wednesday
    first = days.get_by_role("tab", name="Wed 4 Mar")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_have_count(1)
    expect(page.get_by_role("heading", name="Wednesday 4 March 2026")).to_be_visible()
    expect(page.get_by_role("heading", name="Thursday 5 March 2026")).to_be_hidden()
    expect(page.get_by_text("Free times on your clock: Europe/Paris")).to_be_visible()
    expect(page.locator(".brand")).to_have_css("background-color", "rgb(11, 61, 46)")  # the site's header
    expect(page.get_by_text("Fernbot")).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2 * PHONE["height"], f"the page is {height} px tall"
    shoot(page, screenshots, "reschedule-phone.png")

    first.focus()
    page.keyboard.press("ArrowRight")
    thursday = days.get_by_role("tab", name="Thu 5 Mar")
    expect(thursday).to_be_focused()
    expect(thursday).to_have_attribute("aria-selected", "true")
    # The meeting's own time (11:00 in Paris) is not offered; the next half hour is.
    expect(page.get_by_role("button", name="Thursday 5 March 2026, 11:00", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Thursday 5 March 2026, 11:30", exact=True)).to_be_visible()
    page.keyboard.press("End")
    days.get_by_role("tab", name="Fri 6 Mar").click()
    page.get_by_role("button", name="Friday 6 March 2026, 16:00", exact=True).click()

    expect(page.get_by_role("heading", name="Your meeting is moved")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You will get an updated invitation by email.")
    expect(page.get_by_text("Friday 6 March 2026 at 16:00 CET (Europe/Paris)")).to_be_visible()
    shoot(page, screenshots, "reschedule-phone-moved.png")
    assert meeting_start(db) == at(6, 15)
    assert errors == []
    context.close()


def test_on_a_desktop_the_page_wears_the_sites_look(
    browser: Browser, live_server: str, reschedule_path: str, screenshots: Path
) -> None:
    context, page, errors = open_context(browser, live_server, viewport={"width": 1280, "height": 800})
    page.goto(reschedule_path)

    expect(page.get_by_role("tab", name="Wed 4 Mar")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("button", name="Wednesday 4 March 2026, 14:00", exact=True)).to_have_css(
        "background-color", "rgb(255, 209, 102)"
    )
    page.get_by_text("Change time zone").click()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    shoot(page, screenshots, "reschedule-desktop.png")
    assert errors == []
    context.close()


def test_without_javascript_the_days_are_sections_and_a_time_still_moves_the_meeting(
    browser: Browser, live_server: str, db: Database, reschedule_path: str, screenshots: Path
) -> None:
    context, page, _ = open_context(browser, live_server, viewport=PHONE, java_script_enabled=False)
    page.goto(reschedule_path)

    expect(page.get_by_role("tablist")).to_have_count(0)
    expect(page.get_by_role("heading", name="Wednesday 4 March 2026")).to_be_visible()
    expect(page.get_by_role("heading", name="Monday 9 March 2026")).to_be_visible()
    shoot(page, screenshots, "reschedule-phone-no-script.png")
    page.get_by_role("button", name="Friday 6 March 2026, 16:00", exact=True).click()

    expect(page.get_by_role("heading", name="Your meeting is moved")).to_be_visible()
    assert meeting_start(db) == at(6, 15)
    context.close()


def test_axe_finds_nothing_to_fix_on_the_reschedule_page(
    browser: Browser, live_server: str, reschedule_path: str
) -> None:
    # bypass_csp: axe-core is injected as an inline script, which the page's CSP rightly refuses.
    context, page, _ = open_context(browser, live_server, viewport=PHONE, bypass_csp=True)
    page.goto(reschedule_path)
    expect(page.get_by_role("tab", name="Wed 4 Mar")).to_have_attribute("aria-selected", "true")
    page.get_by_text("Change time zone").click()

    assert axe_violations(page) == []
    context.close()


def test_a_device_in_another_zone_is_offered_its_own_clock(
    browser: Browser, live_server: str, reschedule_path: str
) -> None:
    context, page, errors = open_context(browser, live_server, zone="America/New_York", viewport=PHONE)
    page.goto(reschedule_path)

    page.get_by_role("link", name="show the times in America/New_York").click()

    expect(page.get_by_text("Free times on your clock: America/New_York")).to_be_visible()
    expect(page.get_by_text("Thursday 5 March 2026 at 05:00 EST (America/New_York)")).to_be_visible()
    expect(page.get_by_text("Your device is set to another time zone")).to_be_hidden()
    assert errors == []
    context.close()
