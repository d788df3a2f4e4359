"""The Appearance page in a real browser: its preview is the real widget (the files a site loads) on a sample
conversation that writes nothing, and it follows the form as the marketer types, contrast warnings included."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import FrameLocator, Locator, Page, expect
from sqlalchemy import func, select

from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import Person
from overture.sites import service as sites

from pages import shoot, sign_in
from support import Personas

PAGE = "/admin/configuration/sites/www/appearance"
WHITE, INK = "rgb(255, 255, 255)", "rgb(27, 35, 48)"  # the automatic light and dark text colours


def chat(page: Page) -> FrameLocator:
    return page.frame_locator("iframe.chat-frame")


def colour(page: Page, group: str, label: str) -> Locator:
    """A colour input of the form, by its pair ("Header colours") and its own label ("Header text")."""
    return page.get_by_role("group", name=group, exact=True).get_by_label(label, exact=True)


def open_the_page(page: Page, personas: Personas) -> None:
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto(PAGE)
    expect(chat(page).get_by_role("log").locator(".msg")).to_have_count(3)


def rows(db: Database) -> tuple[int, int]:
    with db.read() as session:
        people = session.scalar(select(func.count()).select_from(Person))
        conversations = session.scalar(select(func.count()).select_from(Conversation))
    return people or 0, conversations or 0


def test_the_preview_is_the_real_widget_on_a_sample_conversation_that_writes_nothing(
    page: Page, db: Database, personas: Personas, console_errors: list[str]
) -> None:
    before = rows(db)
    # Every request of the page and its frames (the resource timeline is empty under a moved page clock).
    fetched: set[str] = set()
    page.on("request", lambda request: fetched.add(urlsplit(request.url).path))
    open_the_page(page, personas)
    frame = page.locator("iframe.chat-frame").content_frame
    expect(frame.get_by_role("dialog")).to_be_visible()
    expect(frame.get_by_role("log").locator(".msg")).to_have_text(
        [
            "Assistant: Hi there! Want to see the product live?",
            "You: Yes please",
            "Assistant: Great. When suits you best?",
        ]
    )
    expect(frame.get_by_role("button", name="This week")).to_be_visible()
    handle = page.locator("iframe.chat-frame").element_handle()
    inner = handle.content_frame() if handle else None
    assert inner is not None
    assert inner.evaluate(
        "() => Boolean(document.getElementById('overture-widget').shadowRoot.querySelector('.panel'))"
    )
    assert {"/widget.js", "/widget/panel.js", "/widget/panel.css"} <= fetched
    teaser = page.frame_locator("iframe.teaser-frame").locator("#overture-widget .t")
    expect(teaser).to_have_text("Questions? We are here to help.Hi there! Want to see the product live?")
    page.locator("iframe.chat-frame").scroll_into_view_if_needed()
    frame.get_by_role("button", name="This week").click()  # a click in the preview is answered by the sample
    expect(frame.get_by_role("log").locator(".msg").last).to_have_text(
        "Assistant: This is a preview: nothing was sent."
    )
    assert rows(db) == before
    stored = page.evaluate("() => Object.keys(localStorage).filter((key) => key.startsWith('overture_'))")
    assert stored == [], "the preview kept nothing in this origin's storage, where a real widget keeps its own"
    assert console_errors == []


def test_typing_changes_the_preview_before_saving_and_a_dark_header_keeps_the_bubbles_readable(
    page: Page, db: Database, personas: Personas
) -> None:
    open_the_page(page, personas)
    colour(page, "Header colours", "Header").fill("#0b3d91")
    page.get_by_label("Header label").fill("Talk to sales")
    header = chat(page).locator("header")
    expect(header).to_have_css("background-color", "rgb(11, 61, 145)")
    expect(header.get_by_role("heading")).to_have_text("Talk to sales")
    expect(header.get_by_role("heading")).to_have_css("color", WHITE)  # automatic: white on the dark header
    expect(chat(page).locator(".msg.bot").first).to_have_css("color", INK)  # the bubbles keep dark text
    expect(chat(page).locator(".msg.visitor")).to_have_css("color", INK)
    expect(colour(page, "Header colours", "Header text")).to_have_value("#ffffff")
    expect(page.locator(".contrast-warning:visible")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="not saved yet")).to_be_visible()
    page.get_by_label("Teaser text").fill("Need a hand choosing a plan?")
    teaser = page.frame_locator("iframe.teaser-frame").locator("#overture-widget .t b")
    expect(teaser).to_have_text("Need a hand choosing a plan?")
    with db.read() as session:
        assert sites.get(session, "www").appearance == {}, "nothing is saved before Save"


def test_a_low_contrast_pair_is_warned_about_as_it_is_typed(page: Page, personas: Personas) -> None:
    open_the_page(page, personas)
    colour(page, "Buttons colours", "Button text").fill("#b0c4e8")
    warning = page.locator("#contrast-buttons")
    expect(warning).to_have_text(
        "⚠ The button text (#b0c4e8) on the buttons (#c9dcff) has a contrast of 1.27:1, below the 4.5:1 that "
        "WCAG 2.1 AA asks for: some visitors cannot read it."
    )
    expect(page.get_by_role("group", name="Buttons colours").get_by_label("Automatic")).not_to_be_checked()
    expect(chat(page).get_by_role("button", name="This week")).to_have_css("color", "rgb(176, 196, 232)")
    expect(page.locator(".contrast-warning:visible")).to_have_count(1)
    page.get_by_role("group", name="Buttons colours").get_by_label("Automatic").check()
    expect(warning).to_be_hidden()
    page.get_by_label("Bot name").fill("")
    expect(page.locator("#preview-status")).to_have_text(
        "The preview waits for a valid form: bot_name: This is empty: write one."
    )


def test_the_appearance_page_on_desktop_and_phone(page: Page, personas: Personas, screenshots: Path) -> None:
    open_the_page(page, personas)
    colour(page, "Header colours", "Header").fill("#0b3d91")
    expect(chat(page).locator("header")).to_have_css("background-color", "rgb(11, 61, 145)")
    shoot(page, screenshots, "appearance-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(chat(page).get_by_role("log").locator(".msg")).to_have_count(3)
    expect(page.locator("iframe.chat-frame")).to_be_visible()
    shoot(page, screenshots, "appearance-phone.png")
