"""The widget on the demo website, as a visitor uses it: from the launcher to the goal, with typed answers, server
validation, going back and starting over, reload, dismiss, and the screenshots a person looks at."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from overture.db import Database

from support import example, publish
from widgets import answer_box, launcher, messages, panel, publish_test_dialogue, teaser, teaser_words


def test_a_reader_of_the_demo_blog_signs_up_for_the_newsletter_from_the_bubble(
    visitor: Page, db: Database, page_errors: list[str], shots: Path
) -> None:
    publish(db, example("newsletter.yaml"))
    events: list[str] = []
    visitor.expose_function("record", lambda name: events.append(name))
    visitor.add_init_script(
        "document.addEventListener('overture:goal', () => {});"
        "for (const n of ['triggered','engaged','completed','field_captured'])"
        " document.addEventListener('overture:' + n, () => window.record(n));"
    )
    visitor.goto("/demo/blog/why-dashboards-fail")
    expect(launcher(visitor)).to_be_visible()
    expect(teaser(visitor)).to_be_hidden()  # the trigger is reading 60% of the article
    shots and visitor.screenshot(path=shots / "widget-launcher.png")

    visitor.mouse.wheel(0, 5000)

    expect(teaser_words(visitor)).to_have_text("One email a month with our best articles, and no spam.")
    launcher(visitor).click()
    expect(panel(visitor)).to_be_visible()
    expect(messages(visitor)).to_have_text(
        ["Assistant: Hi there, enjoying the blog?", "Assistant: One email a month with our best articles, and no spam."]
    )
    expect(visitor.get_by_role("button", name="Sign me up")).to_be_focused()
    visitor.get_by_role("button", name="Sign me up").click()

    expect(messages(visitor).last).to_have_text("Assistant: Where should we send it?")
    expect(answer_box(visitor)).to_have_attribute("type", "email")
    answer_box(visitor).fill("not an address")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("alert")).to_have_text("That does not look like an email address; please try again.")
    expect(answer_box(visitor)).to_have_value("not an address")  # kept, to correct

    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: Read the latest issue")
    expect(visitor.get_by_role("link", name="Read the latest issue")).to_have_attribute(
        "href", "https://example.com/newsletter/latest"
    )
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()
    expect(answer_box(visitor)).to_be_hidden()
    shots and visitor.screenshot(path=shots / "widget-panel.png")
    assert events == ["triggered", "engaged", "field_captured", "completed"]
    assert page_errors == []


def test_typed_answers_get_the_right_keyboard_and_back_and_restart_undo_them(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    expect(answer_box(visitor)).to_have_attribute("type", "email")
    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")
    expect(answer_box(visitor)).to_have_attribute("inputmode", "decimal")

    visitor.get_by_role("button", name="Go back one step").click()
    expect(messages(visitor).last).to_have_text("Assistant: What is your work email?")
    expect(visitor.get_by_text("ada@example.com")).to_have_count(0)
    answer_box(visitor).fill("grace@example.com")
    answer_box(visitor).press("Enter")
    answer_box(visitor).fill("many")
    answer_box(visitor).press("Enter")
    expect(visitor.get_by_role("alert")).to_have_text("A number, please, for example 25.")
    answer_box(visitor).fill("40")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: And your first name?")
    expect(answer_box(visitor)).to_have_attribute("autocomplete", "given-name")

    visitor.get_by_role("button", name="Start over").click()
    expect(messages(visitor)).to_have_text(["Assistant: Hi! I can help you pick a plan.", "Assistant: Shall we?"])
    expect(visitor.get_by_role("button", name="Yes please")).to_be_visible()


def test_a_reload_resumes_the_conversation_where_it_was_and_the_next_page_goes_on(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db, pages=("/demo/pricing*", "/demo/product*"))
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")

    visitor.reload()
    expect(panel(visitor)).to_be_visible()  # it was open
    expect(messages(visitor)).to_have_text(
        [
            "Assistant: Hi! I can help you pick a plan.",
            "Assistant: Shall we?",
            "You: Yes please",
            "Assistant: What is your work email?",
            "You: ada@example.com",
            "Assistant: How many people work with you?",
        ]
    )
    answer_box(visitor).fill("12")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: And your first name?")

    visitor.get_by_role("button", name="Minimize").click()
    expect(panel(visitor)).to_be_hidden()
    expect(launcher(visitor)).to_be_focused()
    visitor.goto("/demo/product")
    launcher(visitor).click()
    expect(messages(visitor).last).to_have_text("Assistant: And your first name?")
    answer_box(visitor).fill("Ada")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).filter(has_text="Thanks Ada!")).to_have_count(1)


def test_a_dismissed_dialogue_does_not_show_again(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    dismissed: list[str] = []
    visitor.expose_function("dismissed", lambda key: dismissed.append(key))
    visitor.add_init_script("addEventListener('load', () => Overture.on('dismissed', (e) => dismissed(e.dialogue)))")
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    expect(messages(visitor)).to_have_count(2)
    with visitor.expect_response("**/dismiss"):
        visitor.get_by_role("button", name="Close the conversation").click()
    expect(panel(visitor)).to_be_hidden()
    expect(launcher(visitor)).to_be_hidden()
    assert dismissed == ["plan-help"]

    visitor.reload()
    visitor.wait_for_load_state("networkidle")
    expect(launcher(visitor)).to_be_hidden()
    assert visitor.evaluate("typeof Overture.open") == "function"  # the widget ran and chose to stay away


def test_mobile_visitors_get_a_full_screen_panel(visitor: Page, db: Database, shots: Path) -> None:
    publish_test_dialogue(db)
    visitor.set_viewport_size({"width": 390, "height": 760})
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    expect(messages(visitor)).to_have_count(2)
    box = panel(visitor).bounding_box()
    assert box is not None and (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 760)
    shots and visitor.screenshot(path=shots / "widget-mobile.png")


def test_the_page_language_chooses_the_widget_labels(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    visitor.evaluate("document.documentElement.lang = 'fr'")
    visitor.route(
        "**/demo/pricing",
        lambda route: route.fulfill(
            response=route.fetch(), body=route.fetch().text().replace('lang="en"', 'lang="fr"')
        ),
    )
    visitor.reload()
    visitor.get_by_role("button", name="Ouvrir la discussion").click()
    expect(visitor.get_by_role("button", name="Fermer la conversation")).to_be_visible()
    expect(visitor.get_by_role("button", name=re.compile("Revenir"))).to_be_visible()
