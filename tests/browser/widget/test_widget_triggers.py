"""Triggers run in the visitor's browser as the server describes them; the page clock is Playwright's, so no test
waits for real seconds. A dialogue that triggers shows its first words as a teaser beside the launcher."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from overture.db import Database

from widgets import launcher, messages, panel, publish_test_dialogue, teaser, teaser_words

SHALL_WE = "Shall we?"


def test_a_page_load_trigger_pokes_the_visitor_at_once(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)
    teaser(visitor).click()
    expect(panel(visitor)).to_be_visible()


def test_time_on_page_waits_for_its_seconds_on_this_page(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, trigger={"on": "time_on_page", "seconds": 20})
    visitor.clock.install()
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    visitor.clock.run_for("00:19")
    expect(teaser(visitor)).to_be_hidden()
    visitor.clock.run_for("00:02")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)


def test_time_on_site_counts_the_time_spent_on_earlier_pages(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, trigger={"on": "time_on_site", "seconds": 60})
    visitor.clock.install()
    visitor.goto("/demo/product")  # not a page of the dialogue, but time on the site counts from here
    visitor.clock.run_for("00:45")
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    visitor.clock.run_for("00:10")
    expect(teaser(visitor)).to_be_hidden()
    visitor.clock.run_for("00:06")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)


def test_scroll_percent_waits_until_that_much_of_the_page_is_read(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, trigger={"on": "scroll_percent", "percent": 90}, pages=("/demo/blog/*",))
    visitor.goto("/demo/blog/lead-scoring-without-the-guesswork")
    expect(launcher(visitor)).to_be_visible()
    visitor.evaluate("scrollTo(0, document.documentElement.scrollHeight * 0.3)")
    expect(teaser(visitor)).to_be_hidden()
    visitor.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)


def test_exit_intent_fires_when_the_mouse_leaves_towards_the_tabs(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, trigger={"on": "exit_intent"})
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    visitor.mouse.move(600, 400)
    visitor.mouse.move(600, 300)
    expect(teaser(visitor)).to_be_hidden()
    # Leaving the window through its top edge: the browser's mouseout with no element to go to.
    visitor.evaluate("document.dispatchEvent(new MouseEvent('mouseout', {clientX: 600, clientY: -2, bubbles: true}))")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)


def test_idle_fires_after_the_seconds_without_activity_and_activity_restarts_the_wait(
    visitor: Page, db: Database
) -> None:
    publish_test_dialogue(db, trigger={"on": "idle", "seconds": 15})
    visitor.clock.install()
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    visitor.clock.run_for("00:10")
    visitor.mouse.move(300, 300)
    visitor.clock.run_for("00:10")
    expect(teaser(visitor)).to_be_hidden()
    visitor.clock.run_for("00:06")
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)


def test_a_single_page_app_navigation_runs_targeting_again(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, pages=("/demo/pricing*",))
    visitor.goto("/demo/product")
    visitor.wait_for_load_state("networkidle")
    expect(launcher(visitor)).to_be_hidden()  # no dialogue on the product page

    visitor.evaluate("history.pushState({}, '', '/demo/pricing')")  # what an SPA router does
    expect(teaser_words(visitor)).to_have_text(SHALL_WE)

    visitor.evaluate("history.pushState({}, '', '/demo/product')")
    expect(launcher(visitor)).to_be_hidden()
    visitor.go_back()  # popstate back to /demo/pricing
    expect(launcher(visitor)).to_be_visible()
    launcher(visitor).click()
    expect(messages(visitor)).to_have_count(2)
