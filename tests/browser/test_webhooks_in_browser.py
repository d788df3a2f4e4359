"""The Webhooks pages in Chromium, on a desktop and a phone: an admin adds an endpoint by ticking event types, sees
its secret once, sends a test event that a real receiver (failing once) gets, reads the log and the delivery's
attempts, and sends it again; axe-core finds nothing to fix and nothing is wider than the screen. Screenshots:
webhooks-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from overture.db import Database
from overture.webhooks.delivery import Outbound, deliver_due
from webhooks.receiver import receiving

from pages import axe_violations, shoot, sign_in
from support import Personas

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_an_admin_adds_an_endpoint_tests_it_and_sends_a_delivery_again(
    browser: Browser,
    live_server: str,
    db: Database,
    personas: Personas,
    screenshots: Path,
    name: str,
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(base_url=live_server, viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    outbound = Outbound()
    try:
        with receiving(failures=1) as receiver:
            sign_in(page, personas.alice.email, personas.alice.password)
            page.goto("/admin/integrations")
            page.get_by_role("link", name="Webhooks").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
            assert axe_violations(page) == []
            page.get_by_label("URL").fill(receiver.url)
            page.get_by_label("Description").fill("CRM sync")
            page.get_by_role("checkbox", name="person.created").check()
            page.get_by_role("checkbox", name="meeting.booked").check()
            page.get_by_role("checkbox", name="Allow private addresses").check()
            shoot(page, screenshots, f"webhooks-list-{name}.png")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.get_by_role("button", name="Add endpoint").click()

            secret = page.locator("#new-secret")
            expect(secret).to_be_visible()
            receiver.secret = secret.inner_text()
            assert receiver.secret.startswith("whsec_")
            shoot(page, screenshots, f"webhooks-secret-{name}.png")
            endpoint_url = page.url
            page.get_by_role("button", name="Send a test event").click()
            expect(page.locator("tbody code").first).to_have_text("webhook.test")
            assert page.locator("#new-secret").count() == 0, "the secret is not shown again"

            deliver_due(db, outbound)  # the job's run: the receiver answers 500 first
            page.reload()
            expect(page.get_by_text("Waiting", exact=True)).to_be_visible()
            shoot(page, screenshots, f"webhooks-endpoint-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

            page.locator("tbody a").first.click()
            expect(page.get_by_text("busy, try later")).to_be_visible()
            page.get_by_role("button", name="Send again").click()
            expect(page.get_by_text("queued to be sent again")).to_be_visible()
            deliver_due(db, outbound)
            page.reload()
            expect(page.get_by_role("cell", name="Delivered")).to_be_visible()
            shoot(page, screenshots, f"webhooks-delivery-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            assert page.url.startswith(endpoint_url)
        assert [r.answered for r in receiver.verified()] == [500, 200]
    finally:
        outbound.close()
        context.close()
