"""Issue 15's journey in Chromium: a marketer builds an automation on the Automations page (a goal on the demo home
page moves the visitor into a program, emails sales and calls a webhook), a visitor of the demo website reaches
that goal in chat, and the job's round puts the program status, the email in the outbox and the signed webhook at a
local receiver (verified with the standardwebhooks package). On a desktop and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from overture.automations import runner
from overture.cli.demo import seed_demo_content
from overture.db import Database, utcnow
from overture.mail.models import OutboxMessage
from overture.people.models import VisitorIdentity
from overture.programs import service as programs
from overture.programs.models import ProgramMember, ProgramStatus
from overture.programs.schemas import StatusIn
from overture.webhooks.delivery import Outbound, deliver_due
from webhooks.helpers import endpoint
from webhooks.receiver import receiving

from pages import axe_violations, sign_in
from support import Personas
from widgets import launcher, messages, panel

DEVICES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def build_the_automation(admin: Page, hook_id: int) -> None:
    admin.goto("/admin/programs")
    admin.get_by_role("navigation", name="Programs, lists and automations").get_by_role(
        "link", name="Automations"
    ).click()
    admin.get_by_role("link", name="New automation").click()
    admin.get_by_label("Name").fill("Pricing interest to sales")
    admin.get_by_label("This happens").select_option(label="A goal is reached")
    admin.get_by_label("Detail of row 1").fill("goal")
    admin.get_by_label("Value of row 1").fill("pricing_viewed")
    first, second, third = (admin.locator("fieldset.action").nth(i) for i in range(3))
    first.get_by_label("Do", exact=True).select_option(label="Set program status")
    expect(first.get_by_label("List", exact=True)).to_be_hidden()  # each action shows only its own fields
    first.get_by_label("Program", exact=True).select_option(label="Website chat")
    first.get_by_label("Status", exact=True).fill("Engaged")
    second.get_by_label("Do", exact=True).select_option(label="Notify by email")
    second.get_by_label("To", exact=True).select_option(label="An address")
    second.get_by_label("Address", exact=True).fill("sales@acme.example")
    third.get_by_label("Do", exact=True).select_option(label="Call a webhook")
    third.get_by_label("Endpoint", exact=True).select_option(value=str(hook_id))
    admin.get_by_role("button", name="Add automation").click()
    expect(admin.get_by_text("Pricing interest to sales is on")).to_be_visible()


@pytest.mark.parametrize("device", DEVICES)
def test_an_automation_built_in_the_admin_acts_on_a_goal_reached_in_chat_on_the_demo_site(
    device: str, browser: Browser, site: str, visitor: Page, db: Database, personas: Personas, shots: Path
) -> None:
    with db.write() as session:
        seed_demo_content(session)
        statuses = [StatusIn(name=name) for name in ("Invited", "Engaged", "Meeting booked")]
        website = programs.create_program(session, "Website chat", "chat", statuses, utcnow()).id
    with receiving() as receiver:
        hook = endpoint(db, receiver, [], utcnow(), description="Our CRM")
        admin_context = browser.new_context(base_url=site, viewport=DEVICES[device], bypass_csp=True)  # axe-core
        admin_context.set_default_timeout(15_000)
        admin = admin_context.new_page()
        sign_in(admin, personas.mark.email, personas.mark.password)
        build_the_automation(admin, hook)
        admin.screenshot(path=shots / f"automation-{device}.png", full_page=True)
        assert axe_violations(admin) == []

        visitor.set_viewport_size(DEVICES[device])
        visitor.goto("/demo")
        launcher(visitor).click()  # a phone shows no teaser: the launcher opens the page's dialogue
        expect(panel(visitor)).to_be_visible()
        visitor.get_by_role("button", name="What does it cost?").click()
        expect(messages(visitor).last).to_contain_text("Compare the plans")

        runner.run_due(db, utcnow(), site)  # the job's round of the activity feed's consumers
        outbound = Outbound()
        try:
            deliver_due(db, outbound)
        finally:
            outbound.close()

        admin.reload()
        expect(admin.get_by_text("ran once")).to_be_visible()
        admin.screenshot(path=shots / f"automation-runs-{device}.png", full_page=True)
        admin_context.close()

    visitor_id = visitor.evaluate("localStorage.getItem('overture_vid')")
    with db.read() as session:
        person_id = session.scalar(select(VisitorIdentity.person_id).where(VisitorIdentity.visitor_id == visitor_id))
        status = session.scalar(
            select(ProgramStatus.name)
            .join(ProgramMember, ProgramMember.status_id == ProgramStatus.id)
            .where(ProgramMember.program_id == website, ProgramMember.person_id == person_id)
        )
        mails = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "automation")).all()
    assert status == "Engaged"
    assert [mail.to for mail in mails] == [["sales@acme.example"]]
    [event] = receiver.verified()
    assert event.payload["type"] == "automation.triggered"
    assert event.payload["data"]["activity"]["attributes"]["goal"] == "pricing_viewed"
