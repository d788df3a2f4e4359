"""The conversational landing page in Chromium: /chat/www/{dialogue} opens the dialogue full-page in the site's look
(the widget's inline chat, sized to the window), a visitor runs it to its end on a desktop and on a phone, and the
conversation is recorded with the channel `landing_page`."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from overture.sites import appearance
from overture.sites.models import Site

from pages import shoot
from widgets import publish_test_dialogue

PATH = "/chat/www/plan-help"
PHONE = {"width": 390, "height": 844}


def _run_the_dialogue(page: Page) -> None:
    chat = page.locator("[data-overture-inline]").get_by_role("region")
    expect(chat.get_by_role("log").locator(".msg").first).to_have_text("Fernbot: Hi! I can help you pick a plan.")
    chat.get_by_role("button", name="Yes please").click()
    box = chat.get_by_role("textbox", name="Type your answer")
    for typed in ("ada@agency.example", "40", "Ada"):
        box.fill(typed)
        box.press("Enter")
    expect(chat.get_by_text("Thanks Ada! Our team will be in touch.")).to_be_visible()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, PHONE], ids=["desktop", "phone"])
def test_a_visitor_runs_the_dialogue_on_its_landing_page_and_the_channel_is_recorded(
    browser: Browser, site: str, db: Database, viewport: dict[str, int], shots: Path
) -> None:
    # The dialogue targets no page of the site: only its landing page opens it.
    publish_test_dialogue(db, pages=("/nowhere*",))
    with db.write() as session:
        www = session.query(Site).filter_by(key="www").one()
        appearance.save(session, www, {"bot_name": "Fernbot", "colors": {"header": "#0b3d2e", "buttons": "#ffd166"}})
    context = browser.new_context(base_url=site, viewport=viewport, reduced_motion="reduce")  # type: ignore[arg-type]
    context.set_default_timeout(15_000)  # a bound on failure, not a timing
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(PATH)

    expect(page.get_by_role("heading", name="Test plan-help")).to_be_visible()
    expect(page.locator(".brand")).to_have_css("background-color", "rgb(11, 61, 46)")
    chat = page.locator("[data-overture-inline]").get_by_role("region")
    expect(chat).to_be_visible()
    # The chat wears the site's look although it was drawn before the visit answer brought it.
    expect(chat.get_by_role("heading", name="Chat with us")).to_be_visible()
    expect(chat.get_by_text("Fernbot", exact=True)).to_be_visible()
    height = chat.bounding_box()
    assert height is not None and height["height"] > viewport["height"] * 0.7, "the chat fills the window"
    expect(page.get_by_role("dialog")).to_have_count(0)  # not the popup
    name = "desktop" if viewport["width"] > 400 else "phone"
    shoot(page, shots, f"landing-page-{name}.png")
    _run_the_dialogue(page)
    shoot(page, shots, f"landing-page-{name}-done.png")
    assert errors == []
    context.close()

    with db.read() as session:
        triggered = session.scalars(select(Activity).where(Activity.type == "dialogue.triggered")).one()
        conversation = session.scalars(select(Conversation)).one()
    assert triggered.attributes["channel"] == "landing_page"
    assert conversation.page_url == site + PATH
    assert conversation.status == "completed"
