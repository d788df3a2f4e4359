"""The Conversations inbox in a real browser: after visitors chat, a marketer finds every conversation, filters the
list, opens a transcript with its person, fields, goal and meeting, and downloads the CSV, with the keyboard, on a
desktop and on a phone; axe-core finds nothing. Screenshots go to $OVERTURE_SCREENSHOTS as inbox-*.png."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from analytics.reports import Chat, offer
from overture.db import Database
from scheduling.bookings import Visitor, make_agents, publish_booking

from pages import axe_violations, shoot, sign_in
from support import Personas, publish

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chats(client: TestClient) -> dict[str, str]:
    """Ada signs up on the pricing page (goal), Ben says no thanks, Cat closes the chat, Gus books a demo."""
    ids = {}
    ada = Chat(client)
    ada.open(page="https://example.com/pricing")
    ada.choose("0")
    ada.type("ada@acme.example")
    ids["ada"] = ada.conversation_id
    ben = Chat(client)
    ben.open(page="https://example.com/features")
    ben.choose("1")
    cat = Chat(client)
    cat.open(page="https://example.com/blog/a-very-long-article-address-that-wraps-on-a-phone?utm_source=newsletter")
    cat.close()
    gus = Visitor(client, zone="UTC")
    offered = gus.to_the_slots("gus@globex.example")
    gus.pick(offered["meeting"]["days"][1]["times"][0])  # clear of the minimum notice at any hour
    ids["gus"] = gus.conversation_id
    return ids


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A desktop page whose context lets axe-core's script in (the admin's CSP refuses inline scripts)."""
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_marketer_filters_the_inbox_opens_a_transcript_and_exports_it(
    page: Page,
    db: Database,
    client: TestClient,
    personas: Personas,
    screenshots: Path,
    console_errors: list[str],
) -> None:
    publish(db, offer())
    make_agents(db, 1)
    publish_booking(db)
    ids = chats(client)
    sign_in(page, personas.mark.email, personas.mark.password)

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Conversations").click()
    expect(page.get_by_role("heading", name="Conversations", level=1)).to_be_visible()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(5)  # the header and four conversations, newest first
    expect(rows.nth(1)).to_contain_text("gus@globex.example")
    expect(rows.nth(4)).to_contain_text("ada@acme.example")
    assert axe_violations(page) == []
    shoot(page, screenshots, "inbox-list.png")

    # Filter with the keyboard: choose the outcome, then Enter in the search box submits the form.
    page.get_by_label("Outcome").select_option("goal")
    page.get_by_label("Person or company").fill("ada")
    page.get_by_label("Person or company").press("Enter")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Goal reached")
    shoot(page, screenshots, "inbox-filtered.png")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [row["conversation"] for row in exported] == [ids["ada"]]

    link = rows.nth(1).get_by_role("link").first
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Offer")
    expect(page.get_by_role("link", name="ada@acme.example")).to_have_attribute(
        "href", re.compile(r"^/admin/people/\d+$")
    )
    expect(page.get_by_role("cell", name="ada@acme.example")).to_be_visible()  # the field captured
    expect(page.get_by_text("signed_up")).to_be_visible()
    expect(page.get_by_role("list").filter(has_text="Tell me more")).to_be_visible()  # the transcript
    assert axe_violations(page) == []
    shoot(page, screenshots, "inbox-conversation.png")

    page.goto(f"/admin/conversations/{ids['gus']}")
    expect(page.get_by_text("with Agent 1")).to_be_visible()  # the meeting (a marketer sees no Meetings link)
    shoot(page, screenshots, "inbox-meeting.png")

    page.set_viewport_size(PHONE)
    page.goto("/admin/conversations")
    expect(rows).to_have_count(5)
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    shoot(page, screenshots, "inbox-list-phone.png")
    page.goto(f"/admin/conversations/{ids['ada']}")
    assert no_sideways_scroll(page)
    shoot(page, screenshots, "inbox-conversation-phone.png")
    assert console_errors == []


def test_an_admin_goes_from_a_conversation_to_its_meeting(
    page: Page, db: Database, client: TestClient, personas: Personas
) -> None:
    publish(db, offer())
    make_agents(db, 1)
    publish_booking(db)
    ids = chats(client)
    sign_in(page, personas.alice.email, personas.alice.password)
    page.goto(f"/admin/conversations/{ids['gus']}")
    page.locator('a[href^="/admin/meetings/"]').click()  # the meeting's time
    expect(page).to_have_url(re.compile(r"/admin/meetings/m_"))
    expect(page.get_by_text("gus@globex.example").first).to_be_visible()
