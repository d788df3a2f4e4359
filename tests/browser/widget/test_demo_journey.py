"""Journey 1, the evaluator, on the demo website seeded exactly as `overture demo` seeds it: a new visitor of the
pricing page is offered a demo after five seconds, answers three questions, gives an email, picks a time on their own
clock, books it with the demo's sales team and reaches the goal; the admin finds the meeting and the invitation.
The home page, the product page and the blog have their own dialogues."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from overture.activities.models import Activity
from overture.cli.demo import seed_demo_content
from overture.db import Database
from overture.mail.models import OutboxMessage
from overture.people.models import Company, Person, VisitorIdentity
from overture.scheduling.models import Meeting

from bookings import days, picker, times
from pages import sign_in
from support import Personas
from widgets import answer_box, launcher, messages, panel, teaser, teaser_words

GREETING = "Want to see Acme live? Three quick questions and we find a time."


def seed_the_demo(db: Database) -> None:
    with db.write() as session:
        seed_demo_content(session)


def visitor_id(page: Page) -> str:
    """The visitor id the widget keeps in the browser (the visit call's answer)."""
    found = page.evaluate("localStorage.getItem('overture_vid')")
    assert isinstance(found, str) and found.startswith("v_"), "the widget stored a visitor id"
    return found


def test_a_new_visitor_of_the_demo_pricing_page_goes_from_the_bubble_to_the_goal(
    visitor: Page, db: Database, page_errors: list[str], shots: Path
) -> None:
    seed_the_demo(db)
    visitor.clock.install()
    visitor.goto("/demo/pricing")
    expect(launcher(visitor)).to_be_visible()
    visitor.clock.run_for("00:04")
    expect(teaser(visitor)).to_be_hidden()
    visitor.clock.run_for("00:02")
    expect(teaser_words(visitor)).to_have_text(GREETING)
    visitor.screenshot(path=shots / "demo-pricing-teaser.png")

    teaser(visitor).click()
    expect(panel(visitor)).to_be_visible()
    expect(messages(visitor)).to_have_text(["Assistant: Hi there!", f"Assistant: {GREETING}"])
    visitor.get_by_role("button", name="Book a demo").click()
    expect(messages(visitor).last).to_have_text("Assistant: How many people work at your company?")
    visitor.get_by_role("button", name="200 or more").click()
    expect(messages(visitor).last).to_have_text("Assistant: What does your company do?")
    visitor.get_by_role("button", name="Software").click()
    expect(messages(visitor).last).to_have_text("Assistant: And what is your role?")
    visitor.get_by_role("button", name="Sales").click()
    expect(messages(visitor).last).to_have_text("Assistant: Great! What is your work email?")
    expect(answer_box(visitor)).to_have_attribute("type", "email")
    answer_box(visitor).fill("eva@evaluator.example")
    answer_box(visitor).press("Enter")

    with visitor.expect_response(re.compile(r"/replies$")) as answered:
        answer_box(visitor).press("Enter")
    offer = answered.value.json()["meeting"]
    expect(messages(visitor).filter(has_text="Let's find 30 minutes for your demo.")).to_have_count(1)
    expect(picker(visitor)).to_be_visible()
    expect(picker(visitor)).to_contain_text(f"Times in {offer['zone']}")
    visitor.screenshot(path=shots / "demo-pricing-slots.png")
    # The second day's first time: clear of the agents' minimum notice whatever the hour of the run.
    days(visitor).nth(1).click()
    chosen = offer["days"][1]["times"][0]
    times(visitor).first.click()

    expect(messages(visitor).last).to_have_text("Assistant: Booked! The invitation is in your inbox, see you soon.")
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()
    visitor.screenshot(path=shots / "demo-pricing-journey.png")
    assert page_errors == []
    with db.read() as session:
        [meeting] = session.scalars(select(Meeting)).all()
        assert meeting.starts_at == datetime.fromisoformat(chosen)
        invitation = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "imip_request")).one()
        assert invitation.to == ["eva@evaluator.example"]

    with db.read() as session:
        person = session.scalars(
            select(Person).join(VisitorIdentity).where(VisitorIdentity.visitor_id == visitor_id(visitor))
        ).one()
        assert (person.email, person.title) == ("eva@evaluator.example", "Head of Sales")
        company = session.get(Company, person.company_id)
        assert company is not None and (company.employees, company.industry) == (500, "Software")
        recorded = session.scalars(select(Activity).where(Activity.person_id == person.id)).all()
    kinds = [activity.type for activity in recorded]
    for kind in ("dialogue.triggered", "dialogue.engaged", "field.captured", "goal.reached", "dialogue.completed"):
        assert kind in kinds, f"{kind} was recorded"
    captured = {a.attributes.get("field") for a in recorded if a.type == "field.captured"}
    assert {"company.employees", "company.industry", "person.title", "person.email"} <= captured
    goals = [(a.attributes["goal"], a.attributes["score"]) for a in recorded if a.type == "goal.reached"]
    assert goals == [("demo_booked", 3)]
    assert "meeting.booked" in kinds


def test_the_demo_product_page_offers_the_guide_once_half_of_it_is_read(visitor: Page, db: Database) -> None:
    seed_the_demo(db)
    visitor.goto("/demo/product")
    expect(launcher(visitor)).to_be_visible()
    assert visitor.evaluate("document.documentElement.scrollHeight > 2 * innerHeight"), "half the page is below"
    expect(teaser(visitor)).to_be_hidden()
    visitor.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    expect(teaser_words(visitor)).to_have_text("Which of these describes your company best?")

    launcher(visitor).click()
    visitor.get_by_role("button", name="Just looking around").click()
    expect(panel(visitor).get_by_role("link", name="Read our lead-scoring guide")).to_have_attribute(
        "href", re.compile(r"/demo/blog/lead-scoring-without-the-guesswork$")
    )
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()


def test_the_demo_blog_offers_the_newsletter_and_the_pricing_demo_stays_on_its_pages(
    visitor: Page, db: Database
) -> None:
    seed_the_demo(db)
    visitor.goto("/demo/blog/why-dashboards-fail")
    expect(launcher(visitor)).to_be_visible()
    visitor.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    expect(teaser_words(visitor)).to_have_text("One email a month with our best articles, and no spam.")

    visitor.goto("/demo")
    expect(teaser_words(visitor)).to_have_text("What brings you here today?")  # the home page's own, not pricing-demo


def test_the_demo_home_page_greets_at_once_and_points_the_way(visitor: Page, db: Database) -> None:
    seed_the_demo(db)
    visitor.goto("/demo")
    expect(teaser_words(visitor)).to_have_text("What brings you here today?")
    teaser(visitor).click()
    expect(messages(visitor)).to_have_text(
        ["Assistant: Hi there, welcome to Acme!", "Assistant: What brings you here today?"]
    )
    visitor.get_by_role("button", name="How does it work?").click()
    expect(panel(visitor).get_by_role("link", name="See how it works")).to_have_attribute(
        "href", re.compile(r"/demo/product$")
    )
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()


def test_the_demo_admin_finds_known_people_of_the_seeded_companies(
    page: Page, db: Database, personas: Personas
) -> None:
    seed_the_demo(db)
    sign_in(page, personas.alice.email, personas.alice.password)
    page.goto("/admin/people")
    expect(page.get_by_role("link", name="Nancy Davolio")).to_be_visible()
    expect(page.get_by_text("Globex Payments").first).to_be_visible()
    page.goto("/admin/companies")
    expect(page.get_by_role("link", name="Northwind Freight")).to_be_visible()
