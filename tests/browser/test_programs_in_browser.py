"""Programs and lists in a real browser (Chromium), on a desktop and on a phone: a marketer creates a program from
the chat channel's statuses, sets a person's status, filters the members, puts the person on a list and reads both
on the person's page; every page free of axe violations. Screenshots (programs-*-<device>.png) go to
$OVERTURE_SCREENSHOTS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from overture.db import Database
from overture.people import service as people

from pages import axe_violations, heading, shoot, sign_in
from support import Personas

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def ada(db: Database) -> int:
    with db.write() as session:
        person, _ = people.visitor(session, None, NOW)
        person.email, person.first_name, person.last_name = "ada@acme.example", "Ada", "Lovelace"
        session.flush()
        return person.id


@pytest.mark.parametrize("device", DEVICES)
def test_a_marketer_runs_a_program_and_a_list_and_sees_them_on_the_persons_page(
    browser: Browser, live_server: str, personas: Personas, ada: int, screenshots: Path, device: str
) -> None:
    context = browser.new_context(base_url=live_server, viewport=DEVICES[device], bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, personas.mark.email, personas.mark.password)

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Programs").click()
    expect(heading(page)).to_have_text("Programs")
    page.get_by_role("link", name="New program").click()
    page.get_by_label("Name", exact=True).fill("Spring chat")
    expect(page.get_by_label("Name of status 3")).to_have_value("Meeting booked")
    page.get_by_label("Name of status 5").fill("Customer")
    assert axe_violations(page) == []
    shoot(page, screenshots, f"programs-new-{device}.png")
    page.get_by_role("button", name="Add program").click()

    expect(page.get_by_role("status")).to_contain_text("Spring chat is added.")
    page.get_by_label("Person (email or id)").fill("ada@acme.example")
    page.get_by_label("Status to set").select_option("Meeting booked")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_role("status")).to_contain_text("joined at Meeting booked")
    members = page.get_by_role("region", name="Members", exact=True)
    expect(members.get_by_role("row").nth(1)).to_contain_text("3. Meeting booked")
    assert axe_violations(page) == []
    shoot(page, screenshots, f"programs-program-{device}.png")

    page.get_by_role("region", name="Members by status").get_by_role("link", name="Invited").click()
    expect(members).to_contain_text("No members at this status.")

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Programs").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Meeting booked (1)")
    shoot(page, screenshots, f"programs-list-{device}.png")
    page.get_by_role("navigation", name="Programs, lists and automations").get_by_role("link", name="Lists").click()
    page.get_by_label("Name", exact=True).fill("Follow up")
    page.get_by_role("button", name="Add list").click()
    page.get_by_label("Person (email or id)").fill(str(ada))
    page.get_by_role("button", name="Add to list").click()
    expect(page.get_by_role("status")).to_contain_text("is added")
    assert axe_violations(page) == []
    shoot(page, screenshots, f"programs-static-list-{device}.png")
    page.get_by_role("link", name="← Lists").click()
    shoot(page, screenshots, f"programs-lists-{device}.png")

    page.goto(f"/admin/people/{ada}")
    programs = page.get_by_role("region", name="Programs")
    expect(programs).to_contain_text("Spring chat: 3. Meeting booked")
    expect(programs).to_contain_text("joined at Meeting booked · by Mark")
    expect(page.get_by_role("region", name="Lists")).to_contain_text("Follow up: on the list")
    assert axe_violations(page) == []
    shoot(page, screenshots, f"programs-person-{device}.png")
    context.close()
