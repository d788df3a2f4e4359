"""Booking links in Chromium, as a visitor books: on a phone, the team's page in the site's look, the device's zone
offered, the invitation's fields typed and a time pressed; on a desktop, an agent's page where a time taken in
another tab meanwhile is refused with fresh times, and a signed link that asks nothing it knows. The server's clock
is pinned; screenshots go to $OVERTURE_SCREENSHOTS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.people.models import Person
from overture.scheduling import booking_links
from overture.scheduling.models import Agent, Meeting
from overture.sites import appearance
from overture.sites.models import Site
from scheduling.bookings import make_agents
from scheduling.rows import SECRET_KEY, at, make_person

from pages import axe_violations, shoot

NOW = at(3, 9)  # Tuesday 3 March 2026, 09:00 UTC (10:00 in Paris); the agents need an hour's notice
PHONE = {"width": 390, "height": 844}
LOOK = {"bot_name": "Fernbot", "colors": {"header": "#0b3d2e", "buttons": "#ffd166"}, "corner_radius": 8}


@pytest.fixture
def clock() -> Iterator[None]:
    # tick=True: the server thread's clock runs on from NOW (uvicorn waits on it); the dates stay March 2026.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def agents(db: Database, clock: None) -> list[int]:
    """Agents 1 and 2 in the sales team, free all day (Paris), on the default site's look."""
    with db.write() as session:
        site = session.scalar(select(Site).where(Site.key == "default"))
        if site is None:
            site = Site(key="default", name="Default", origins=[], blocked_email_domains=[])
            session.add(site)
            session.flush()
        appearance.save(session, site, LOOK)
    return make_agents(db, 2)


def open_page(browser: Browser, live_server: str, **options: object) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(base_url=live_server, timezone_id="Europe/Paris", **options)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)  # a bound on failure, not a timing
    page = context.new_page()
    errors: list[str] = []

    def collect(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", collect)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def test_on_a_phone_a_visitor_books_on_the_teams_page_on_their_own_clock(
    browser: Browser, live_server: str, db: Database, agents: list[int], screenshots: Path
) -> None:
    context, page, errors = open_page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/book/sales")
    expect(page.get_by_role("heading", name="Book a meeting with Sales")).to_be_visible()
    expect(page.locator(".brand")).to_have_css("background-color", "rgb(11, 61, 46)")  # the site's header
    expect(page.get_by_text("Free times on your clock: UTC")).to_be_visible()
    page.get_by_role("link", name="show the times in Europe/Paris").click()
    expect(page.get_by_text("Free times on your clock: Europe/Paris")).to_be_visible()
    expect(page.get_by_role("tab", name="Tue 3 Mar")).to_have_attribute("aria-selected", "true")

    # A time pressed before the fields are filled: the browser asks for them, nothing is sent.
    page.get_by_role("button", name="Tuesday 3 March 2026, 14:00", exact=True).click()
    expect(page.get_by_label("First name")).to_be_focused()
    page.get_by_label("First name").fill("Chloé")
    page.get_by_label("Last name").fill("Martin")
    page.get_by_label("Email").fill("chloe@customer.example")
    shoot(page, screenshots, "book-link-phone.png")
    page.get_by_role("button", name="Tuesday 3 March 2026, 14:00", exact=True).click()

    expect(page.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    expect(page.get_by_text("Tuesday 3 March 2026, 14:00 (Europe/Paris)")).to_be_visible()
    expect(page.get_by_text("Agent 1", exact=True)).to_be_visible()
    shoot(page, screenshots, "book-link-phone-booked.png")
    assert errors == []
    context.close()
    with db.read() as session:
        meeting = session.scalars(select(Meeting)).one()
        person = session.get_one(Person, meeting.person_id)
        channels = {a.attributes.get("channel") for a in session.scalars(select(Activity))}
    assert (meeting.starts_at, meeting.visitor_zone, meeting.channel) == (at(3, 13), "Europe/Paris", "link")
    assert (person.first_name, person.contact_email) == ("Chloé", "chloe@customer.example")
    assert channels == {"link"}


def test_on_a_desktop_a_time_taken_in_another_tab_is_refused_with_fresh_times(
    browser: Browser, live_server: str, db: Database, agents: list[int], screenshots: Path
) -> None:
    context, first, errors = open_page(browser, live_server, viewport={"width": 1280, "height": 800})
    second = context.new_page()
    for page in (first, second):
        page.goto("/book/sales/agent2?zone=Europe/Paris")
        expect(page.get_by_role("heading", name="Book a meeting with Agent 2")).to_be_visible()
    two = "Tuesday 3 March 2026, 14:00"
    for page, name in ((first, "Ann"), (second, "Bea")):
        page.get_by_label("First name").fill(name)
        page.get_by_label("Email").fill(f"{name.lower()}@acme.example")
    first.get_by_role("button", name=two, exact=True).click()
    expect(first.get_by_role("heading", name="Your meeting is booked")).to_be_visible()

    second.get_by_role("button", name=two, exact=True).click()
    expect(second.get_by_role("alert")).to_have_text("That time was just taken. Here are the times still free.")
    expect(second.get_by_role("button", name=two, exact=True)).to_have_count(0)
    expect(second.get_by_label("Email")).to_have_value("bea@acme.example")  # what was typed stays
    shoot(second, screenshots, "book-link-desktop-taken.png")
    second.get_by_role("button", name="Tuesday 3 March 2026, 14:30", exact=True).click()
    expect(second.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    assert errors == []
    context.close()
    with db.read() as session:
        booked = session.execute(select(Agent.id, Meeting.starts_at).join(Meeting, Meeting.agent_id == Agent.id))
        assert sorted(booked) == [(agents[1], at(3, 13)), (agents[1], at(3, 13, 30))]


def test_a_signed_link_asks_nothing_it_knows_and_a_changed_one_is_refused(
    browser: Browser, live_server: str, db: Database, agents: list[int], screenshots: Path
) -> None:
    with db.write() as session:
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        url = booking_links.signed_url(live_server, SECRET_KEY, "/book/sales", chloe, NOW + timedelta(days=7))
    # bypass_csp: axe-core is injected as an inline script, which the page's CSP rightly refuses.
    context, page, errors = open_page(browser, live_server, viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page.goto(url)
    expect(page.get_by_text("Booking as Chloé Martin (chloe@customer.example).")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_count(0)
    assert axe_violations(page) == []
    shoot(page, screenshots, "book-link-desktop-signed.png")
    page.get_by_role("button", name="Tuesday 3 March 2026, 13:00", exact=True).click()  # UTC: the link's zone
    expect(page.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    assert errors == []

    page.goto(url.replace("sig=", "sig=x"))  # answered 403, which the console reports
    expect(page.get_by_role("alert")).to_contain_text("This booking link is not valid")
    expect(page.get_by_role("link", name="Book without the personal link")).to_be_visible()
    shoot(page, screenshots, "book-link-desktop-refused.png")
    context.close()
