"""A marketer writes a dialogue in the admin's YAML editor, sees a mistake where it is, fixes it and publishes."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from pages import sign_in
from support import Personas

FLOW_WITH_A_TYPO = """\
key: pricing-chat
name: Pricing chat
flow:
  start: greet
  cards:
    greet:
      say: Hi {{ person.first_name or 'there' }}!
      buttons:
        - {label: Book a demo, goto: ask_emial}
        - {label: Just browsing, goto: bye}
    ask_email:
      ask: What is your work email?
      capture: person.email
      goto: bye
    bye: {say: Thanks!, end: true}
"""


def test_a_marketer_fixes_the_mistake_shown_on_its_line_and_publishes(
    page: Page, personas: Personas, screenshots: Path, console_errors: list[str]
) -> None:
    sign_in(page, personas.mark.email, personas.mark.password)
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Dialogues").click()
    page.get_by_label("Name").fill("Pricing chat")
    page.get_by_label("Key").fill("pricing-chat")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pricing chat")
    expect(page.get_by_role("heading", name="Ready to publish")).to_be_visible()

    page.get_by_label("Document (YAML)").fill(FLOW_WITH_A_TYPO)
    page.get_by_role("button", name="Save draft").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("line 9")  # the line of the typo, as written
    expect(problems).to_contain_text("ask_emial")
    expect(problems).to_contain_text("ask_email")  # unreachable, and the likely intended card
    expect(page.get_by_role("button", name=re.compile("Publish"))).to_be_disabled()
    page.screenshot(path=screenshots / "dialogue-editor-problems.png", full_page=True)

    page.get_by_label("Document (YAML)").fill(FLOW_WITH_A_TYPO.replace("ask_emial", "ask_email"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Ready to publish")).to_be_visible()
    page.get_by_role("button", name="Publish the saved draft as v1").click()
    expect(page.locator(".flash-success")).to_have_text("Version 1 is published and live.")
    expect(page.get_by_role("link", name="v1")).to_be_visible()
    page.screenshot(path=screenshots / "dialogue-editor-published.png", full_page=True)
    assert console_errors == []


def test_the_create_form_asks_for_the_site_and_the_editor_shows_it(
    page: Page, personas: Personas, screenshots: Path, console_errors: list[str]
) -> None:
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto("/admin/dialogues")
    site = page.get_by_label("Site")
    expect(site.locator("option")).to_have_text(["Default site (default)", "Example website (www)"])
    expect(site).to_have_value("default")
    page.screenshot(path=screenshots / "dialogues-create-form.png", full_page=True)
    page.get_by_label("Name").fill("Website chat")
    page.get_by_label("Key").fill("website-chat")
    site.select_option("www")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Website chat")
    expect(page.get_by_label("Document (YAML)")).to_contain_text("site: www")
    page.get_by_role("link", name="← Dialogues").click()
    expect(page.get_by_label("Site")).to_have_value("www")  # the site the dialogues are for is offered first now
    page.screenshot(path=screenshots / "dialogues-list-with-site.png", full_page=True)
    assert console_errors == []
