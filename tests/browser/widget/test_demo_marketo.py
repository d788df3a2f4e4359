"""The demo's fake Marketo in Chromium, on a desktop and a phone: `overture demo` runs as a real process; the admin
signs in with the password it printed, opens Integrations > Marketo, connects with the URL, client id and secret
it printed, syncs now, sees the status with the demo's 500 leads and 40 companies created, and finds a synced lead
on People. axe-core finds nothing to fix and nothing is wider than the screen. Screenshots: demo-marketo-*.png."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from overture.cli.demo import DEMO_ADMIN_EMAIL, DEMO_MARKETO_COMPANIES, DEMO_MARKETO_LEADS, demo_marketo
from processes import free_port, running

from pages import axe_violations, shoot, sign_in

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = re.compile(r"Sign in as\s+\S+ with the password (\S+)")
MARKETO = re.compile(r"Marketo \(fake\): (\S+)  client id (\S+), secret (\S+) — ")


def banner_of(process: subprocess.Popen[str]) -> str:
    """The banner a running demo printed: its lines up to "Stop with Ctrl+C." (flushed before it serves)."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if "Stop with Ctrl+C." in line:
            return "".join(lines)
    raise AssertionError(f"the demo ended without its banner: {''.join(lines)}")


@pytest.mark.real_clock  # the demo and its fake Marketo run in another process, on the machine's clock
@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_demo_admin_connects_the_printed_fake_marketo_syncs_and_finds_a_synced_lead_on_people(
    browser: Browser, tmp_path: Path, screenshots: Path, name: str, viewport: dict[str, int]
) -> None:
    port = free_port()
    with running(["demo", "--port", str(port), "--data-dir", str(tmp_path / "demo")], {}, port) as process:
        banner = banner_of(process)
        password, marketo = PASSWORD.search(banner), MARKETO.search(banner)
        assert password and marketo, banner
        url, client_id, secret = marketo.groups()
        context = browser.new_context(base_url=f"http://127.0.0.1:{port}", viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)  # a bound on failure, not a timing: a loaded machine is slow
        page = context.new_page()
        try:
            sign_in(page, DEMO_ADMIN_EMAIL, password.group(1))
            page.goto("/admin/integrations")
            page.get_by_role("link", name="Marketo").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Marketo")
            page.get_by_label("REST base URL").fill(url)
            page.get_by_label("Client id").fill(client_id)
            page.get_by_label("Client secret").fill(secret)
            page.get_by_role("button", name="Connect Marketo").click()
            expect(page.get_by_text("No sync has run yet.")).to_be_visible()

            page.get_by_role("button", name="Sync now").click()
            expect(page.get_by_text("A Marketo sync is queued")).to_be_visible()
            # Drawn by the page's script as it polls the status: a bound on failure, not a timing.
            expect(page.locator("#sync-leads")).to_have_text(
                f"{DEMO_MARKETO_LEADS} created, 0 updated, 0 skipped", timeout=120_000
            )
            expect(page.locator("#sync-companies")).to_have_text(
                f"{DEMO_MARKETO_COMPANIES} created, 0 updated, 0 skipped"
            )
            expect(page.locator("#sync-status")).to_contain_text("Up to date")
            shoot(page, screenshots, f"demo-marketo-synced-{name}.png")
            assert axe_violations(page) == []
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

            # The demo's Marketo data comes from a seed: its first lead is the same in every run.
            lead = demo_marketo().lead(1)
            assert lead is not None
            page.goto("/admin/people")
            page.get_by_role("searchbox").fill(lead["lastName"])
            page.get_by_role("searchbox").press("Enter")
            expect(page.get_by_text(lead["email"])).to_be_visible()
            shoot(page, screenshots, f"demo-marketo-lead-on-people-{name}.png")
            assert axe_violations(page) == []
        finally:
            context.close()
