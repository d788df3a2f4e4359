"""Journeys 3 and 4 in a real browser: after a visitor books through the chat, the sales admin finds who is next on
Routing, the meeting on Meetings with why it went to its agent, and each agent's calendar on Calendar; the agent
marks the meeting held once it is over. Screenshots of each page go to $OVERTURE_SCREENSHOTS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, make_agent_of, make_agents, publish_booking

from pages import shoot, sign_in
from support import Personas


def book_through_the_chat(client: TestClient, email: str) -> None:
    visitor = Visitor(client)
    offered = visitor.to_the_slots(email)
    second_day = offered["meeting"]["days"][1]["times"][0]  # clear of the minimum notice at any hour
    visitor.pick(second_day)


def test_the_sales_admin_sees_the_rotation_the_meeting_and_the_calendars(
    page: Page, db: Database, client: TestClient, personas: Personas, screenshots: Path, console_errors: list[str]
) -> None:
    make_agents(db, 3)
    publish_booking(db)
    book_through_the_chat(client, "ann@acme.example")
    sign_in(page, personas.sam.email, personas.sam.password)

    page.goto("/admin/routing")
    expect(page.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    expect(page.get_by_text("Next in line: Agent 2")).to_be_visible()  # agent 1 took the meeting
    shoot(page, screenshots, "routing.png")

    page.goto("/admin/meetings")
    row = page.get_by_role("row").filter(has_text="ann@acme.example")
    expect(row).to_contain_text("Agent 1")
    expect(row).to_contain_text(re.compile("booked", re.IGNORECASE))
    shoot(page, screenshots, "meetings.png")
    row.get_by_role("link").first.click()
    expect(page.get_by_text("Round robin (strict), team Sales")).to_be_visible()
    shoot(page, screenshots, "meeting.png")

    page.goto("/admin/calendar")
    expect(page.get_by_role("row").filter(has_text="Agent 3")).to_contain_text("Connected")
    shoot(page, screenshots, "calendar-agents.png")
    assert console_errors == []


def test_an_agent_marks_a_meeting_that_is_over_as_held(
    page: Page, db: Database, client: TestClient, personas: Personas, screenshots: Path
) -> None:
    make_agent_of(db, personas.bob.id)
    publish_booking(db, routing="agent", agent=personas.bob.email, team=None)
    book_through_the_chat(client, "ann@acme.example")
    with db.write() as session:  # the meeting took place yesterday
        yesterday = datetime.now(UTC) - timedelta(days=1)
        session.execute(update(Meeting).values(starts_at=yesterday, ends_at=yesterday + timedelta(minutes=30)))

    sign_in(page, personas.bob.email, personas.bob.password)
    page.goto("/admin/meetings")
    row = page.get_by_role("row").filter(has_text="ann@acme.example")
    expect(row).to_contain_text(re.compile("awaiting outcome", re.IGNORECASE))
    row.get_by_role("link").first.click()
    page.get_by_role("button", name="Mark held").click()
    expect(page.get_by_text(re.compile("held", re.IGNORECASE)).first).to_be_visible()
    shoot(page, screenshots, "meeting-held.png")
    with db.read() as session:
        assert session.scalars(select(Meeting.status)).all() == ["held"]
