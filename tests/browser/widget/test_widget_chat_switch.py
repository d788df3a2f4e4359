"""The widget when a site's chat is switched off: a page's own opening of a flow gets a polite word, not a broken
panel, and a conversation already running goes on."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from overture.db import Database
from overture.sites import service as sites

from support import example, publish
from widgets import answer_box, launcher, messages, panel, publish_test_dialogue


def set_chat(db: Database, enabled: bool) -> None:
    with db.write() as session:
        sites.update(session, sites.get(session, "www"), sites.SiteChanges(chat_enabled=enabled))


def test_opening_a_flow_while_chat_is_off_says_so_politely_in_the_panel(visitor: Page, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    set_chat(db, False)
    visitor.goto("/demo/pricing")
    visitor.wait_for_function("() => window.Overture && window.Overture.open")
    visitor.evaluate("() => Overture.open('qualify')")
    expect(panel(visitor)).to_be_visible()
    expect(messages(visitor)).to_have_text(["Assistant: Chat is not available right now."])


def test_a_conversation_running_when_chat_is_switched_off_goes_on(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    set_chat(db, False)
    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")
