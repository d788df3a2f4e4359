"""Journey 2's A/B test in a real browser: the marketer reads the experiment page (figures, intervals, verdict)
and promotes a variant after confirming, by keyboard; the page is axe-clean on a desktop and on a phone.
Screenshots go to $OVERTURE_SCREENSHOTS as experiment-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from analytics.reports import Chat
from analytics.test_experiment_report import converts, declines, run
from conversations.test_assignment import experiment_offer
from overture.db import Database

from pages import axe_violations, shoot, sign_in
from support import Personas, publish

PAGE = "/admin/reports/dialogues/offer/experiment"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def running(db: Database, client: TestClient) -> None:
    """The offer's greeting test, under way: b leads, but no variant has its 8 visitors yet."""
    publish(db, experiment_offer(minimum_sample=8))
    plan = {"a": [converts, declines, declines, declines, declines], "b": [converts, converts, converts, declines]}
    run(client, plan, beyond={"a": declines, "b": declines})


@pytest.fixture
def axe_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A desktop page without the admin's CSP, which rightly refuses axe-core's inline script."""
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_marketer_reads_the_experiment_and_promotes_a_variant_after_confirming_by_keyboard(
    page: Page, running: None, client: TestClient, personas: Personas, screenshots: Path, console_errors: list[str]
) -> None:
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    sign_in(page, personas.mark.email, personas.mark.password)
    page.goto(PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Experiment: Offer")
    expect(
        page.get_by_text(re.compile(r"Not enough data yet \(\d of 8 visitors in variant [ab]\)\.")).first
    ).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="b"))
    expect(row).to_contain_text('says "Hello!"')
    expect(row).to_contain_text(re.compile(r"\d+\.\d\s%\sto\s\d+\.\d\s%"))
    shoot(page, screenshots, "experiment-desktop.png")

    promote_b = page.get_by_role("button", name="Promote b")
    for _ in range(60):  # Tab through the page until b's button has the focus
        page.keyboard.press("Tab")
        if promote_b.evaluate("button => button === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached 'Promote b'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("The result is not clear yet.")
    shoot(page, screenshots, "experiment-confirm.png")
    page.get_by_role("button", name="Promote variant b anyway").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Variant b is the flow now: version 2 is published and live.")).to_be_visible()
    expect(page.get_by_text("Ended", exact=True)).to_be_visible()
    shoot(page, screenshots, "experiment-promoted.png")
    assert Chat(client).open()["messages"][0]["text"] == "Hello!"  # every new visitor gets b now
    assert console_errors == []


def test_the_experiment_page_and_its_confirmation_are_axe_clean(
    axe_page: Page, running: None, personas: Personas
) -> None:
    sign_in(axe_page, personas.mark.email, personas.mark.password)
    axe_page.goto(PAGE)
    assert axe_violations(axe_page) == []
    axe_page.get_by_role("button", name="Promote a").click()
    expect(axe_page.get_by_role("alert")).to_contain_text("The result is not clear yet.")
    assert axe_violations(axe_page) == []


def test_the_experiment_page_reads_on_a_phone(
    browser: Browser, live_server: str, db: Database, client: TestClient, personas: Personas, screenshots: Path
) -> None:
    publish(db, experiment_offer(minimum_sample=3))
    run(client, {"a": [declines] * 3, "b": [converts] * 3}, beyond={"a": declines, "b": converts})
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, bypass_csp=True)
    phone = context.new_page()
    try:
        sign_in(phone, personas.mark.email, personas.mark.password)
        phone.goto(PAGE)
        expect(phone.get_by_text(re.compile(r"Variant b wins \(\+100\.0 points over a, p = "))).to_be_visible()
        assert axe_violations(phone) == []
        shoot(phone, screenshots, "experiment-phone.png")
    finally:
        context.close()
