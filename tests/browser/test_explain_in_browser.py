"""A marketer asks, on a dialogue's page, whether it would show to a visitor on a page, and reads why not."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import update

from overture.db import Database
from overture.sites.models import Site

from pages import shoot, sign_in
from support import Personas, publish

PRICING_ONLY = {
    "key": "pricing-chat",
    "name": "Pricing chat",
    "site": "www",
    "pages": {"include": [{"url": "https://www.example.com/pricing*"}]},
    "flow": {"start": "hi", "cards": {"hi": {"say": "Hi!", "end": True}}},
}


def allow_example_com(db: Database) -> None:
    """www is the website at https://www.example.com."""
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://www.example.com"]))


def explain(page: Page, url: str) -> None:
    box = page.locator("#explain")
    box.get_by_label("Page address").fill(url)
    box.get_by_role("button", name="Explain").click()


def test_the_explain_box_says_why_a_dialogue_would_not_show(
    page: Page, db: Database, personas: Personas, screenshots: Path
) -> None:
    publish(db, PRICING_ONLY)
    allow_example_com(db)
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto("/admin/dialogues/pricing-chat")
    explain(page, "https://www.example.com/blog/post")
    verdict = page.locator("#explain").get_by_role("status")
    expect(verdict).to_contain_text("It would not show")
    expect(verdict).to_contain_text("not in the include list")
    shoot(page, screenshots, "dialogue-explain.png")
    explain(page, "HTTPS://WWW.Example.COM/pricing")
    expect(page.locator("#explain").get_by_role("status")).to_have_text("It would show.")


def test_a_dialogue_created_for_a_site_shows_on_its_pages_and_the_explain_box_names_the_site(
    page: Page, db: Database, personas: Personas, screenshots: Path, console_errors: list[str]
) -> None:
    allow_example_com(db)
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto("/admin/dialogues")
    page.get_by_label("Name").fill("Spring offer")
    page.get_by_label("Key").fill("spring")
    page.get_by_label("Site").select_option("default")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Document (YAML)")).to_contain_text("site: default")
    page.get_by_role("button", name="Publish the saved draft as v1").click()
    expect(page.locator(".flash-success")).to_have_text("Version 1 is published and live.")

    explain(page, "https://www.example.com/pricing")
    expect(page.locator("#explain").get_by_role("status")).to_have_text(
        "It would not show: belongs to site default; this page is on site www."
    )
    expect(page.locator("#explain")).to_contain_text("Visitors of this page get the dialogues of site www.")
    page.locator("#explain").screenshot(path=screenshots / "dialogue-explain-other-site.png")

    # The marketer moves it to the website's site, publishes again, and asks again.
    document = page.get_by_label("Document (YAML)")
    document.fill(document.input_value().replace("site: default", "site: www"))
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Publish the saved draft as v2").click()
    explain(page, "https://www.example.com/pricing")
    expect(page.locator("#explain").get_by_role("status")).to_have_text("It would show.")
    expect(page.locator("#draft-is-live")).to_contain_text("The draft is the live version (v2)")
    shoot(page, screenshots, "dialogue-explain-shown.png")
    assert console_errors == []
