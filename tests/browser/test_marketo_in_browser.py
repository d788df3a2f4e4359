"""The Marketo page in Chromium, on a desktop and a phone: an admin opens Marketo from the Integrations area,
connects the fake Marketo (first with a wrong secret, refused beside the form), and sees the status and the
proposed field mapping; then syncs now, sees the counts come in live and finds a synced lead on People. axe-core
finds nothing to fix and nothing is wider than the screen. Screenshots: marketo-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from integrations.connect_support import SECRET, running_marketo
from overture.db import Database
from overture.integrations.marketo import shared_limits
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.marketo.limits import SlidingWindow
from overture.integrations.world import IntegrationWorld
from overture.jobs import create_jobs, start_embedded_consumer
from overture.settings import Settings

from pages import axe_violations, shoot, sign_in
from support import Personas

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LEADS = 40


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fake Marketo listens on 127.0.0.1: the operator's setting lets integrations reach it."""
    return settings.model_copy(update={"integrations_private_addresses": True})


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_an_admin_connects_the_fake_marketo_and_sees_the_status_and_the_mapping(
    browser: Browser,
    live_server: str,
    personas: Personas,
    screenshots: Path,
    name: str,
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(base_url=live_server, viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        with running_marketo() as fake:
            sign_in(page, personas.alice.email, personas.alice.password)
            page.goto("/admin/integrations")
            page.get_by_role("link", name="Marketo").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Marketo")
            assert axe_violations(page) == []
            page.get_by_label("REST base URL").fill(fake.url)
            page.get_by_label("Client id").fill("overture")
            page.get_by_label("Client secret").fill("not-the-secret")
            page.get_by_role("button", name="Connect Marketo").click()
            expect(page.locator("#client_secret-problem")).to_contain_text("Marketo refused the client id")
            expect(page.get_by_label("Client id")).to_have_value("overture")
            shoot(page, screenshots, f"marketo-refused-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

            page.get_by_label("Client secret").fill(SECRET)
            page.get_by_role("button", name="Connect Marketo").click()
            expect(page.get_by_text("29 lead fields and 14 company fields can be read").first).to_be_visible()
            expect(page.get_by_role("heading", name="Status")).to_be_visible()
            expect(page.get_by_text("No sync has run yet.")).to_be_visible()
            expect(page.get_by_role("combobox", name="Email Address")).to_have_value("person.email")
            expect(page.get_by_role("combobox", name="First Name")).to_have_value("person.first_name")
            shoot(page, screenshots, f"marketo-connected-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    finally:
        context.close()


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_an_admin_syncs_marketo_now_sees_the_counts_come_in_and_finds_a_synced_lead_on_people(
    browser: Browser,
    live_server: str,
    settings: Settings,
    db: Database,
    personas: Personas,
    screenshots: Path,
    name: str,
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(base_url=live_server, viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The worker: a consumer of the app's job queue (the live server runs none), on the real clock as in production.
    consumer = start_embedded_consumer(create_jobs(settings, db))
    try:
        with running_marketo(leads=LEADS, companies=3) as fake:
            fast(fake)
            sign_in(page, personas.alice.email, personas.alice.password)
            page.goto("/admin/integrations/marketo")
            page.get_by_label("REST base URL").fill(fake.url)
            page.get_by_label("Client id").fill("overture")
            page.get_by_label("Client secret").fill(SECRET)
            page.get_by_role("button", name="Connect Marketo").click()
            # Marketo's country names do not fit Overture's ISO country codes: the admin leaves that field out.
            page.get_by_role("combobox", name="Billing Country", exact=True).select_option("")
            page.get_by_role("button", name="Save the company mapping").click()
            expect(page.get_by_text("The field mapping is saved.")).to_be_visible()

            page.get_by_role("button", name="Sync now").click()
            expect(page.get_by_text("A Marketo sync is queued")).to_be_visible()
            # Drawn by the page's script as it polls the status: a bound on failure, not a timing.
            expect(page.locator("#sync-leads")).to_have_text(f"{LEADS} created, 0 updated, 0 skipped", timeout=90_000)
            expect(page.locator("#sync-companies")).to_have_text("3 created, 0 updated, 0 skipped")
            expect(page.locator("#sync-status")).to_contain_text("Up to date")
            shoot(page, screenshots, f"marketo-synced-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

            lead = fake.lead(1)
            assert lead is not None
            page.goto("/admin/people")
            page.get_by_role("searchbox").fill(lead["lastName"])
            page.get_by_role("searchbox").press("Enter")
            expect(page.get_by_text(lead["email"])).to_be_visible()
            shoot(page, screenshots, f"marketo-synced-lead-on-people-{name}.png")
    finally:
        consumer.stop(graceful=True)
        context.close()


def fast(fake: FakeMarketo) -> None:
    """Lets the fake and Overture's client of it make calls as fast as they can: the initial sync asks for one
    export of every 31 days since 2006 (most of them empty here), which at Marketo's pace would take minutes."""
    fake.rate_limit = 1_000_000
    shared_limits(fake.url, IntegrationWorld.clock).window = SlidingWindow(calls=1_000_000)
