"""Booking a meeting in the widget, as a visitor does it: the slot picker shows the offered days and times on the
visitor's clock with the zone named, a click on a time books it (once, with a busy state), a time taken meanwhile
gives a notice and fresh times, the keyboard alone does it all, and axe-core finds nothing to fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from overture.db import Database

from bookings import (
    BOOKED,
    book_over_http,
    day_label,
    days,
    long_label,
    meeting_starts,
    picker,
    publish_booking_on_pricing,
    times,
    to_the_picker,
)
from pages import axe_violations
from widgets import answer_box, launcher, messages

TAKEN = "Assistant: That time was just taken. Here are the times still free."


@pytest.fixture
def visitor_context(browser: Browser, site: str) -> Iterator[BrowserContext]:
    """A visitor in Paris whose browser speaks British English (so days read "Tue 1 Dec")."""
    context = browser.new_context(
        base_url=site,
        viewport={"width": 1280, "height": 800},
        reduced_motion="reduce",
        locale="en-GB",
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(15_000)  # a bound on failure, not a timing: a loaded machine is slow
    yield context
    context.close()


def test_a_visitor_picks_a_day_and_a_time_and_the_meeting_is_booked(
    visitor: Page, db: Database, page_errors: list[str], shots: Path
) -> None:
    publish_booking_on_pricing(db)
    booked_events: list[str] = []
    visitor.expose_function("booked", lambda: booked_events.append("meeting_booked"))
    visitor.add_init_script("addEventListener('load', () => Overture.on('meeting_booked', () => booked()))")

    offer = to_the_picker(visitor)

    assert offer["zone"] == "Europe/Paris" and len(offer["days"]) > 1
    expect(picker(visitor)).to_contain_text("Pick a time · 30 min with Agent 1")
    expect(picker(visitor)).to_contain_text("Times in Europe/Paris")
    expect(days(visitor)).to_have_text([day_label(day["date"]) for day in offer["days"]])
    expect(days(visitor).first).to_have_attribute("aria-selected", "true")
    first_day = offer["days"][0]["times"]
    expect(times(visitor)).to_have_text([start[11:16] for start in first_day])
    expect(times(visitor).first).to_have_accessible_name(long_label(first_day[0]))
    expect(times(visitor).first).to_be_focused()
    expect(answer_box(visitor)).to_be_hidden()  # a time is picked, not typed

    days(visitor).nth(1).click()
    second_day = offer["days"][1]["times"]
    expect(days(visitor).nth(1)).to_have_attribute("aria-selected", "true")
    expect(days(visitor).first).to_have_attribute("aria-selected", "false")
    expect(times(visitor)).to_have_text([start[11:16] for start in second_day])
    chosen = second_day[min(20, len(second_day) - 1)]
    visitor.screenshot(path=shots / "widget-slot-picker.png")

    times(visitor).get_by_text(chosen[11:16], exact=True).click()

    expect(messages(visitor).last).to_have_text(BOOKED)
    expect(messages(visitor).filter(has_text="You: ")).to_have_text(
        ["You: Book a demo", "You: ada@acme.example", f"You: {long_label(chosen)}"]
    )
    expect(picker(visitor)).to_be_hidden()
    ends = (datetime.fromisoformat(chosen) + timedelta(minutes=30)).isoformat()
    expect(visitor.get_by_role("status").filter(has_text="Meeting booked")).to_have_text(
        f"✓ Meeting booked{long_label(chosen)}–{ends[11:16]}Times in Europe/ParisWith Agent 1"
        "Invitation sent to ada@acme.example"
    )
    visitor.screenshot(path=shots / "widget-booked.png")
    expect(visitor.get_by_text("This conversation has ended.")).to_be_visible()
    assert meeting_starts(db) == [datetime.fromisoformat(chosen)]
    assert booked_events == ["meeting_booked"]
    assert page_errors == []


def test_a_time_taken_meanwhile_shows_a_notice_and_the_times_still_free(
    visitor: Page, visitor_context: BrowserContext, db: Database
) -> None:
    publish_booking_on_pricing(db)
    offer = to_the_picker(visitor)
    # Times of the second day: the first day's earliest time may pass the agents' notice while the test runs.
    wanted = offer["days"][1]["times"][0]
    days(visitor).nth(1).click()
    expect(times(visitor).first).to_have_accessible_name(long_label(wanted))

    book_over_http(visitor_context.request, wanted)  # another visitor is quicker, with the only agent
    with visitor.expect_response(re.compile(r"/meeting$")) as answered:
        times(visitor).first.click()

    expect(messages(visitor).last).to_have_text(TAKEN)
    expect(messages(visitor).last).to_have_class(re.compile("notice"))
    expect(picker(visitor)).to_be_visible()
    still_free = answered.value.json()["meeting"]["days"]
    assert wanted not in [start for day in still_free for start in day["times"]]
    chosen_day = next(day for day in still_free if day["date"] == offer["days"][1]["date"])
    # Still the day the visitor chose, with its times still free.
    expect(days(visitor).filter(has_text=day_label(chosen_day["date"]))).to_have_attribute("aria-selected", "true")
    fresh = chosen_day["times"][0]
    expect(times(visitor)).to_have_text([start[11:16] for start in chosen_day["times"]])
    expect(picker(visitor).get_by_role("button", name=long_label(wanted))).to_have_count(0)
    expect(times(visitor).first).to_be_focused()
    expect(times(visitor).first).to_have_accessible_name(long_label(fresh))
    times(visitor).first.click()

    expect(messages(visitor).last).to_have_text(BOOKED)
    expect(messages(visitor).filter(has_text="You: ").last).to_have_text(f"You: {long_label(fresh)}")
    assert meeting_starts(db) == [datetime.fromisoformat(wanted), datetime.fromisoformat(fresh)]


def test_a_time_books_once_and_the_picker_is_busy_meanwhile(visitor: Page, db: Database) -> None:
    publish_booking_on_pricing(db)
    to_the_picker(visitor)
    days(visitor).nth(1).click()
    held: list[Route] = []
    bookings: list[str] = []
    visitor.on("request", lambda request: bookings.append(request.url) if request.url.endswith("/meeting") else None)
    # The booking call waits here until the test lets it go on to the server.
    visitor.route(re.compile(r"/meeting$"), lambda route: held.append(route))

    with visitor.expect_request(re.compile(r"/meeting$")):
        times(visitor).first.click()
    expect(visitor.get_by_text("Booking…")).to_be_visible()
    expect(picker(visitor)).to_have_attribute("aria-busy", "true")
    for button in times(visitor).all() + days(visitor).all():
        expect(button).to_be_disabled()
    times(visitor).nth(1).click(force=True)  # a second click on a disabled time does nothing
    visitor.keyboard.press("Enter")
    assert len(held) == 1
    held[0].continue_()

    expect(messages(visitor).last).to_have_text(BOOKED)
    expect(visitor.get_by_text("Booking…")).to_be_hidden()
    assert len(bookings) == 1 and len(meeting_starts(db)) == 1


def test_a_visitor_books_with_the_keyboard_alone_in_their_own_zone(browser: Browser, site: str, db: Database) -> None:
    publish_booking_on_pricing(db)
    context = browser.new_context(
        base_url=site, reduced_motion="reduce", locale="en-US", timezone_id="America/New_York"
    )
    page = context.new_page()
    page.goto("/demo/pricing")
    expect(launcher(page)).to_be_visible()
    launcher(page).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Book a demo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(answer_box(page)).to_be_focused()
    page.keyboard.type("kim@acme.example")
    with page.expect_response(re.compile(r"/replies$")) as answered:
        page.keyboard.press("Enter")
    offer = answered.value.json()["meeting"]
    assert offer["zone"] == "America/New_York"
    expect(picker(page)).to_contain_text("Times in America/New_York")
    expect(times(page).first).to_be_focused()  # the first time, named with its day

    page.keyboard.press("Shift+Tab")
    expect(days(page).first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(days(page).nth(1)).to_be_focused()
    expect(days(page).nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Tab")
    wanted = offer["days"][1]["times"][0]
    assert wanted[11:16] == "00:00"  # a whole day of the agents' all-day hours
    expect(times(page).first).to_be_focused()
    expect(times(page).first).to_have_text(re.compile(r"^12:00\sAM$"))  # the visitor's own clock conventions
    page.keyboard.press("Enter")

    expect(messages(page).last).to_have_text(BOOKED)
    assert meeting_starts(db) == [datetime.fromisoformat(wanted)]
    context.close()


def test_the_slot_picker_has_no_accessibility_violations(browser: Browser, site: str, db: Database) -> None:
    publish_booking_on_pricing(db)
    # The demo's CSP refuses inline scripts: the checker is injected past it.
    context = browser.new_context(base_url=site, bypass_csp=True, reduced_motion="reduce", timezone_id="Europe/Paris")
    page = context.new_page()
    to_the_picker(page)
    days(page).nth(1).click()
    assert axe_violations(page) == []
    context.close()


def test_a_reload_shows_the_picker_again_and_french_pages_get_french_days(visitor: Page, db: Database) -> None:
    publish_booking_on_pricing(db)
    offer = to_the_picker(visitor)
    visitor.route(
        "**/demo/pricing",
        lambda route: route.fulfill(
            response=route.fetch(), body=route.fetch().text().replace('lang="en"', 'lang="fr"')
        ),
    )
    visitor.reload()

    french = visitor.get_by_role("group", name=re.compile("^Choisissez un horaire"))
    expect(french).to_be_visible()
    expect(french).to_contain_text("Heures du fuseau Europe/Paris")
    expect(french).to_contain_text("30 min avec Agent 1")
    expect(french.get_by_role("tab").first).to_have_accessible_name(day_label(offer["days"][0]["date"], "fr"))
    expect(french.get_by_role("tabpanel").get_by_role("button").first).to_have_accessible_name(
        long_label(offer["days"][0]["times"][0], "fr")
    )
    expect(french.get_by_role("tabpanel").get_by_role("button")).to_have_count(len(offer["days"][0]["times"]))


PICK = {"en": "Pick a time", "fr": "Choisissez un horaire", "de": "Wählen Sie einen Termin"}


def show_in(page: Page, language: str) -> None:
    """Reloads the pricing page as if it were written in `language` (its <html lang>); the widget follows it."""
    page.unroute("**/demo/pricing")
    page.route(
        "**/demo/pricing",
        lambda route: route.fulfill(
            response=(fetched := route.fetch()), body=fetched.text().replace('lang="en"', f'lang="{language}"')
        ),
    )
    page.reload()


@pytest.mark.parametrize(
    "instant",
    [datetime(2026, 12, 30, 8, tzinfo=UTC), datetime(2028, 2, 28, 8, tzinfo=UTC), datetime(2027, 8, 30, 7, tzinfo=UTC)],
    ids=["year-end", "leap-day", "august"],
)
def test_the_picker_names_each_day_and_month_exactly_in_english_french_and_german_on_any_date(
    visitor: Page, visitor_context: BrowserContext, db: Database, instant: datetime
) -> None:
    """The days offered around a year's end, a leap day and the end of August span two months whose names have
    accents or odd abbreviations ("déc.", "févr.", "März", "août", "Sept"): a label that depends on the date or
    the machine's locale fails here, not once a year in CI. The server's clock and the page's are moved together."""
    publish_booking_on_pricing(db)
    with time_machine.travel(instant, tick=False):  # the server's clock; the page's ticks from the same instant
        visitor_context.clock.install(time=instant)
        offer = to_the_picker(visitor)
        dates = [day["date"] for day in offer["days"]]
        # 09:00 in Paris: today's times start at 10:00, past the agents' hour of notice; the next month follows.
        assert dates[0] == f"{instant:%Y-%m-%d}" and offer["days"][0]["times"][0][11:16] == "10:00"
        assert len({date[:7] for date in dates}) == 2
        for language in ("en", "fr", "de"):
            if language != "en":
                show_in(visitor, language)
            group = visitor.get_by_role("group", name=re.compile(f"^{PICK[language]}"))
            expect(group.get_by_role("tab")).to_have_text([day_label(date, language) for date in dates])
            expect(group.get_by_role("tabpanel").get_by_role("button").first).to_have_accessible_name(
                long_label(offer["days"][0]["times"][0], language)
            )
