"""The widget for everyone and against everything: keyboard only, axe-core with zero violations, markup typed by a
visitor never runs, a server that does not answer, and a host page on another origin with a strict CSP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from overture.db import Database
from overture.sites.models import Site

from pages import axe_violations
from widgets import answer_box, launcher, messages, panel, publish_test_dialogue, teaser

XSS = [
    "<img src=x onerror=\"window.pwned='img'\">",
    "<script>window.pwned='script'</script>",
    '"><svg onload="window.pwned=\'svg\'">',
    "javascript:window.pwned='link'",
]


def test_a_visitor_runs_the_whole_conversation_with_the_keyboard_alone(visitor: Page, db: Database) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    launcher(visitor).focus()
    visitor.keyboard.press("Enter")
    yes = visitor.get_by_role("button", name="Yes please")
    expect(yes).to_be_focused()
    visitor.keyboard.press("Tab")
    expect(visitor.get_by_role("button", name="No thanks")).to_be_focused()
    visitor.keyboard.press("Shift+Tab")
    visitor.keyboard.press("Enter")

    expect(answer_box(visitor)).to_be_focused()
    visitor.keyboard.type("ada@example.com")
    visitor.keyboard.press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")
    expect(answer_box(visitor)).to_be_focused()
    visitor.keyboard.type("12")
    visitor.keyboard.press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: And your first name?")

    visitor.keyboard.press("Escape")  # closes; focus goes back to the launcher
    expect(panel(visitor)).to_be_hidden()
    expect(launcher(visitor)).to_be_focused()
    visitor.keyboard.press("Enter")
    expect(answer_box(visitor)).to_be_focused()
    visitor.keyboard.type("Ada")
    visitor.keyboard.press("Enter")
    expect(messages(visitor).filter(has_text="Thanks Ada!")).to_have_count(1)
    # Focus is visible: the focused control draws an outline.
    visitor.get_by_role("button", name="Close the conversation").focus()
    visitor.keyboard.press("Shift+Tab")
    outline = visitor.evaluate(
        "() => { const root = document.querySelector('#overture-widget').shadowRoot;"
        " return getComputedStyle(root.activeElement).outlineStyle; }"
    )
    assert outline == "solid"


def test_the_launcher_and_the_open_panel_have_no_accessibility_violations(
    browser: Browser, site: str, db: Database
) -> None:
    publish_test_dialogue(db)
    # The demo's CSP refuses inline scripts: the checker is injected past it.
    context = browser.new_context(base_url=site, bypass_csp=True, reduced_motion="reduce")
    page = context.new_page()
    page.goto("/demo/pricing")
    expect(teaser(page)).to_be_visible()
    assert axe_violations(page) == []
    launcher(page).click()
    page.get_by_role("button", name="Yes please").click()
    answer_box(page).fill("not an email")
    answer_box(page).press("Enter")
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()
    assert axe_violations(page) == []
    context.close()


def test_markup_and_scripts_typed_into_every_input_never_run(
    visitor: Page, db: Database, page_errors: list[str]
) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    for payload in XSS:  # the email question refuses each, and shows it back
        answer_box(visitor).fill(payload)
        answer_box(visitor).press("Enter")
        expect(messages(visitor).filter(has_text=payload)).to_have_count(1)
    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")
    answer_box(visitor).fill(XSS[0])
    answer_box(visitor).press("Enter")
    expect(visitor.get_by_role("alert")).to_have_text("A number, please, for example 25.")
    visitor.reload()  # the transcript drawn again from the server
    expect(messages(visitor).filter(has_text=XSS[0])).to_have_count(2)
    answer_box(visitor).fill("3")
    answer_box(visitor).press("Enter")
    answer_box(visitor).fill(XSS[2])  # the first name: taken, and said back by the bot
    answer_box(visitor).press("Enter")
    expect(messages(visitor).filter(has_text="Our team will be in touch")).to_contain_text(XSS[2])

    widget = visitor.locator("#overture-widget")
    assert widget.locator("img, script, svg:not([aria-hidden])").count() == 0
    assert visitor.evaluate("window.pwned") is None
    assert page_errors == []


def test_a_server_that_does_not_answer_shows_a_polite_retry_and_keeps_what_was_typed(
    visitor: Page, db: Database
) -> None:
    publish_test_dialogue(db)
    visitor.goto("/demo/pricing")
    launcher(visitor).click()
    visitor.get_by_role("button", name="Yes please").click()
    expect(answer_box(visitor)).to_be_visible()

    def down(route: Route) -> None:
        route.abort("connectionrefused")

    visitor.route("**/replies", down)
    answer_box(visitor).fill("ada@example.com")
    answer_box(visitor).press("Enter")
    retry = visitor.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(visitor.get_by_text("We cannot reach the server right now. Nothing you typed is lost.")).to_be_visible()
    expect(answer_box(visitor)).to_have_value("ada@example.com")
    expect(messages(visitor).filter(has_text="ada@example.com")).to_have_count(0)

    visitor.unroute("**/replies", down)
    retry.click()
    expect(messages(visitor).last).to_have_text("Assistant: How many people work with you?")
    expect(retry).to_be_hidden()
    expect(answer_box(visitor)).to_have_value("")


class _HostPage(BaseHTTPRequestHandler):
    """A customer's page on its own origin: the snippet, and a CSP that allows only the Overture host."""

    overture = ""

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        body = (
            "<!doctype html><html lang='en'><head><title>Acme</title></head><body><main><h1>Acme</h1></main>"
            f"<script src='{self.overture}/widget.js' data-site='www' async></script></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        # Only what docs/widget.md asks for: the Overture host in script-src and connect-src.
        o = self.overture
        self.send_header("Content-Security-Policy", f"default-src 'none'; script-src {o}; connect-src {o}; img-src {o}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def host_page(site: str) -> Iterator[str]:
    """A page on another origin of this machine (Chromium lets a page reach loopback only from loopback)."""
    handler = type("HostPage", (_HostPage,), {"overture": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_with_a_strict_csp_runs_the_widget(
    browser: Browser, host_page: str, db: Database
) -> None:
    publish_test_dialogue(db, pages=("/pricing",))
    with db.write() as session:
        session.query(Site).filter_by(key="www").one().origins = [host_page]
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(host_page + "/pricing")
    launcher(page).click()
    page.get_by_role("button", name="Yes please").click()
    page.get_by_role("textbox", name="Type your answer").fill("not an address")
    page.get_by_role("textbox", name="Type your answer").press("Enter")
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#overture-widget .panel")).to_have_css("width", "370px")  # the stylesheet applied
    assert errors == []
    context.close()
