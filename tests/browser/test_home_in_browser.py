"""Home in a real browser (Chromium), on a desktop and on a phone: an admin sees what needs attention with the links
that fix it, an agent their own calendar's failure and next meetings, each page free of axe violations. Screenshots
(home-<who>-<device>.png) go to $OVERTURE_SCREENSHOTS; the server's clock is pinned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from overture.db import Database, utcnow
from overture.mail.schemas import NewMessage
from overture.mail.service import deliver_due, enqueue
from overture.mail.smtp import MailError
from overture.scheduling import attention
from scheduling.bookings import Visitor, make_agents, publish_booking
from scheduling.rows import BASE_URL, at, make_agent, make_meeting, make_person

from pages import axe_violations, heading, shoot, sign_in
from support import Persona, Personas

NOW = at(4, 12)  # Wednesday 4 March 2026, noon UTC
DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    # tick=True: the server thread's clock runs on from NOW (uvicorn waits on it); the dates stay March 2026.
    with time_machine.travel(NOW, tick=True):
        yield


class Refusing:
    def send(self, email: object) -> None:
        raise MailError("550 5.1.1 mailbox unavailable", permanent=True)


@pytest.fixture
def troubles(db: Database, client: TestClient) -> None:
    """Visitors chatted last week and this week; Bob's calendar refused Overture; an invitation bounced; Bob has
    two meetings left this week."""
    make_agents(db, 1)
    publish_booking(db)
    # Three this week (Monday 2 and Tuesday 3 March), two on last week's same days (Monday 23 February).
    last_monday = at(2, 10) - timedelta(days=7)
    for number, when in enumerate((at(2, 10), at(2, 11), at(3, 10), last_monday, last_monday + timedelta(hours=1))):
        with time_machine.travel(when, tick=False):
            Visitor(client).to_the_slots(f"visitor{number}@acme.example")
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob", provider="caldav", zone="Europe/Paris")
        attention.mark(session, bob, "The CalDAV server refused the password.", at(3, 8), BASE_URL)
        ann = make_person(session, "ann@acme.example", "Ann", "Lee", company="Acme")
        make_meeting(session, bob, at(4, 15), person=ann, title="Demo with Ann Lee")
        make_meeting(session, bob, at(6, 9), person=ann, title="Pricing follow-up with Acme")
        enqueue(session, NewMessage(to=["zoe@other.example"], subject="Your demo with Bob", text_body="See you\n"))
    deliver_due(db, Refusing(), "overture@example.org", utcnow())


def open_home(browser: Browser, live_server: str, persona: Persona, device: str) -> Page:
    # bypass_csp: axe-core is injected as an inline script, which the page's CSP rightly refuses.
    context = browser.new_context(base_url=live_server, viewport=DEVICES[device], bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, persona.email, persona.password)
    return page


@pytest.mark.parametrize("device", DEVICES)
def test_an_admin_sees_what_needs_attention_and_follows_a_link_to_its_fix(
    browser: Browser, live_server: str, personas: Personas, troubles: None, screenshots: Path, device: str
) -> None:
    page = open_home(browser, live_server, personas.alice, device)

    acquired = page.get_by_role("region", name="This week").get_by_role("link", name="People acquired")
    expect(acquired).to_have_accessible_name("People acquired 3 up 1 (+50%) from 2 last week")
    items = page.get_by_role("region", name="What needs attention").get_by_role("listitem")
    expect(items).to_have_count(3)  # Bob's calendar, the mail to Bob about it, and the invitation
    expect(items.first).to_contain_text("Calendar failed")
    expect(items.first).to_contain_text("Bob’s calendar needs attention")
    expect(page.get_by_text("“Your demo with Bob” to zoe@other.example was not delivered")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, screenshots, f"home-admin-{device}.png")

    page.get_by_role("link", name="Open Bob’s calendar").click()
    expect(heading(page)).to_contain_text("Bob")
    expect(page.get_by_role("alert")).to_contain_text("The CalDAV server refused the password.")
    page.context.close()


@pytest.mark.parametrize("device", DEVICES)
def test_an_agent_sees_their_calendar_to_fix_and_their_next_meetings(
    browser: Browser, live_server: str, personas: Personas, troubles: None, screenshots: Path, device: str
) -> None:
    page = open_home(browser, live_server, personas.bob, device)

    attention_items = page.get_by_role("region", name="What needs attention").get_by_role("listitem")
    expect(attention_items).to_have_count(1)
    expect(attention_items).to_contain_text("Your calendar needs attention")
    meetings = page.get_by_role("region", name="Your next meetings").get_by_role("listitem")
    expect(meetings).to_have_text([
        "Today, 16:00–16:30 Demo with Ann Lee with Ann Lee",
        "Friday 6 March, 10:00–10:30 Pricing follow-up with Acme with Ann Lee",
    ])  # fmt: skip
    assert axe_violations(page) == []
    shoot(page, screenshots, f"home-agent-{device}.png")

    page.get_by_role("link", name="Fix your calendar").click()
    expect(heading(page)).to_have_text("Your calendar")
    page.context.close()


def test_a_marketer_is_told_plainly_that_nothing_needs_them(
    browser: Browser, live_server: str, personas: Personas, troubles: None, screenshots: Path
) -> None:
    page = open_home(browser, live_server, personas.mark, "phone")

    expect(page.get_by_role("region", name="What needs attention")).to_contain_text("Nothing needs your attention.")
    assert axe_violations(page) == []
    shoot(page, screenshots, "home-marketer-phone.png")
    page.context.close()
