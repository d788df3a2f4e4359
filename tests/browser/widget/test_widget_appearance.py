"""The site's appearance as a visitor sees it in the real widget: each element's own text colour (a dark brand header
keeps the bubbles readable), the teaser text beside the launcher whatever the dialogue says first, and the header
with the avatar or the bot's initial and the bot's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from overture.db import Database
from overture.sites import appearance
from overture.sites.models import Site

from pages import axe_violations
from widgets import launcher, messages, panel, publish_test_dialogue, teaser

WHITE, INK = "rgb(255, 255, 255)", "rgb(27, 35, 48)"


def set_appearance(db: Database, **settings: Any) -> None:
    with db.write() as session:
        appearance.save(session, session.query(Site).filter_by(key="www").one(), settings)


def open_the_chat(page: Page) -> None:
    page.goto("/demo/pricing")
    launcher(page).click()
    expect(messages(page)).to_have_count(2)


def test_a_dark_header_with_light_text_keeps_the_bubbles_and_buttons_dark_on_light(
    browser: Browser, site: str, db: Database
) -> None:
    publish_test_dialogue(db)
    set_appearance(db, colors={"header": "#0b3d91", "header_text": "#ffffff"})
    # The demo's CSP refuses inline scripts: the contrast checker is injected past it.
    context = browser.new_context(base_url=site, bypass_csp=True, reduced_motion="reduce")
    visitor = context.new_page()
    open_the_chat(visitor)
    header = panel(visitor).locator("header")
    expect(header).to_have_css("background-color", "rgb(11, 61, 145)")
    expect(header.get_by_role("heading")).to_have_css("color", WHITE)
    expect(header.get_by_role("button", name="Minimize")).to_have_css("color", WHITE)
    expect(messages(visitor).first).to_have_css("color", INK)
    expect(visitor.get_by_role("button", name="Yes please")).to_have_css("color", INK)
    visitor.get_by_role("button", name="Yes please").click()
    expect(visitor.locator("#overture-widget .msg.visitor")).to_have_css("color", INK)
    assert [found for found in axe_violations(visitor) if found.startswith("color-contrast")] == []
    context.close()


def test_the_teaser_says_the_sites_text_beside_the_launcher_when_the_dialogue_greets_too(
    visitor: Page, db: Database
) -> None:
    publish_test_dialogue(db)  # its first card says "Hi! I can help you pick a plan." and "Shall we?"
    set_appearance(db, teaser={"text": "Need a hand choosing a plan?"})
    visitor.goto("/demo/pricing")
    expect(teaser(visitor).locator("b")).to_have_text("Need a hand choosing a plan?")
    expect(teaser(visitor).locator("span")).to_have_text("Shall we?")
    expect(panel(visitor)).to_be_hidden()


def test_the_header_shows_the_bots_initial_and_name_beside_the_label(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    set_appearance(db, header_label="Talk to sales", bot_name="ada")
    open_the_chat(visitor)
    header = panel(visitor).locator("header")
    expect(header.get_by_role("heading")).to_have_text("Talk to sales")
    expect(header.locator(".name")).to_have_text("ada")
    expect(header.locator(".avatar")).to_have_text("A")
    expect(header.locator(".avatar")).to_be_visible()
    expect(panel(visitor)).to_have_accessible_name("Talk to sales")


def test_the_widget_on_the_demo_on_desktop_and_phone(browser: Browser, site: str, db: Database, shots: Path) -> None:
    publish_test_dialogue(db)
    set_appearance(db, colors={"header": "#0b3d91", "header_text": "#ffffff"}, teaser={"mobile": True})
    for name, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})):
        context = browser.new_context(base_url=site, viewport=viewport, reduced_motion="reduce")
        page = context.new_page()
        page.goto("/demo/pricing")
        expect(teaser(page)).to_be_visible()
        page.screenshot(path=shots / f"widget-{name}-teaser.png")
        launcher(page).click()
        expect(messages(page)).to_have_count(2)
        page.screenshot(path=shots / f"widget-{name}-open.png")
        context.close()
