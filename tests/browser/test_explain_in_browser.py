"""A marketer asks, on a dialogue's page, whether it would show to a visitor on a page, and reads why not."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from overture.db import Database

from browsing import shoot, sign_in
from support import Personas, publish

PRICING_ONLY = {
    "key": "pricing-chat",
    "name": "Pricing chat",
    "site": "www",
    "pages": {"include": [{"url": "https://www.example.com/pricing*"}]},
    "flow": {"start": "hi", "cards": {"hi": {"say": "Hi!", "end": True}}},
}


def test_the_explain_box_says_why_a_dialogue_would_not_show(
    page: Page, db: Database, personas: Personas, screenshots: Path
) -> None:
    publish(db, PRICING_ONLY)
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto("/admin/dialogues/pricing-chat")
    box = page.locator("#explain")
    box.get_by_label("Page address").fill("https://www.example.com/blog/post")
    box.get_by_role("button", name="Explain").click()
    verdict = page.locator("#explain").get_by_role("status")
    expect(verdict).to_contain_text("It would not show")
    expect(verdict).to_contain_text("not in the include list")
    shoot(page, screenshots, "dialogue-explain.png")
    box = page.locator("#explain")
    box.get_by_label("Page address").fill("https://www.example.com/pricing")
    box.get_by_role("button", name="Explain").click()
    expect(page.locator("#explain").get_by_role("status")).to_have_text("It would show.")
