"""Bookings in the widget, for its browser tests: agents who can take meetings and a live dialogue on the demo
pricing page that books one, the places of the slot picker a visitor looks at and their labels in English, French and
German, and a second visitor who books over the HTTP API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from playwright.sync_api import APIRequestContext, Locator, Page, expect
from sqlalchemy import select

from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.bookings import booking_dialogue, make_agents

from support import publish
from widgets import answer_box, launcher, messages

KEY = "demo-booking"
URL = "/api/v1/widget/conversations"
EMAIL_QUESTION = "Assistant: What email address should the invitation go to?"
BOOKED = "Assistant: Booked! The invitation is in your inbox."


def publish_booking_on_pricing(db: Database, agents: int = 1) -> None:
    """`agents` agents in team sales (built-in calendar, all-day hours, 60 minutes' notice), and a live dialogue on
    the demo pricing page, shown on page load, that books a 30-minute demo with them."""
    make_agents(db, agents)
    dialogue = booking_dialogue(KEY, minutes=30)
    dialogue.update(
        site="www", priority=50, pages={"include": [{"url": "/demo/pricing*"}]}, trigger={"on": "page_load"}
    )
    publish(db, dialogue)


def picker(page: Page) -> Locator:
    return page.get_by_role("group", name=re.compile("^Pick a time"))


def days(page: Page) -> Locator:
    return picker(page).get_by_role("tab")


def times(page: Page) -> Locator:
    return picker(page).get_by_role("tabpanel").get_by_role("button")


def to_the_picker(page: Page, email: str = "ada@acme.example") -> dict[str, Any]:
    """Opens the widget on the pricing page, asks for a demo and gives the email; returns the server's offer (the
    answer's `meeting`) once the picker shows it."""
    page.goto("/demo/pricing")
    launcher(page).click()
    page.get_by_role("button", name="Book a demo").click()
    expect(messages(page).last).to_have_text(EMAIL_QUESTION)
    expect(answer_box(page)).to_have_attribute("type", "email")
    answer_box(page).fill(email)
    with page.expect_response(re.compile(r"/replies$")) as answered:
        answer_box(page).press("Enter")
    offer: dict[str, Any] = answered.value.json()["meeting"]
    expect(picker(page)).to_be_visible()
    return offer


# Day and month names as Chromium's Intl writes them, spelt out here so that no label depends on the machine's
# locale and every month's name (accents and odd abbreviations included: "décembre", "août", "févr.", "März",
# "Sept") is checked exactly.
@dataclass(frozen=True)
class Names:
    days: tuple[str, ...]
    short_days: tuple[str, ...]
    months: tuple[str, ...]
    short_months: tuple[str, ...]
    short: str  # a day tab: "{weekday} {day} {month}"
    long: str  # a time's accessible name and the visitor's message


NAMES = {
    "en": Names(
        days=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        short_days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        months=("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"),
        short_months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"),
        short="{weekday} {day} {month}",
        long="{weekday} {day} {month}, {time}",
    ),
    "fr": Names(
        days=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
        short_days=("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
        months=("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                "novembre", "décembre"),
        short_months=("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
                      "déc."),
        short="{weekday} {day} {month}",
        long="{weekday} {day} {month}, {time}",
    ),
    "de": Names(
        days=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
        short_days=("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
        months=("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
                "November", "Dezember"),
        short_months=("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.",
                      "Dez."),
        short="{weekday}, {day}. {month}",
        long="{weekday}, {day}. {month}, {time}",
    ),
}  # fmt: skip


def day_label(date: str, language: str = "en") -> str:
    """A day as the picker's tab shows it: "Tue 1 Dec" in British English, "mar. 1 déc.", "Di., 1. Dez."."""
    names, day = NAMES[language], datetime.fromisoformat(date)
    weekday, month = names.short_days[day.weekday()], names.short_months[day.month - 1]
    return names.short.format(weekday=weekday, day=day.day, month=month)


def long_label(start: str, language: str = "en") -> str:
    """A time as its button's accessible name and the visitor's message say it: "Tuesday 1 December, 10:00",
    "mardi 1 décembre, 10:00", "Dienstag, 1. Dezember, 10:00"."""
    names, at = NAMES[language], datetime.fromisoformat(start)
    weekday, month = names.days[at.weekday()], names.months[at.month - 1]
    return names.long.format(weekday=weekday, day=at.day, month=month, time=f"{at:%H:%M}")


def book_over_http(api: APIRequestContext, start: str, email: str = "bob@beta.example") -> None:
    """Another visitor, through the widget API, books the meeting at `start` with the same dialogue."""
    began = api.post(URL, data={"dialogue": KEY, "time_zone": "Europe/Paris"})
    assert began.status == 201, began.text()
    answer = began.json()
    where, headers = f"{URL}/{answer['conversation_id']}", {"X-Conversation-Token": answer["token"]}
    for action, body in (("replies", {"choice": "0"}), ("replies", {"text": email}), ("meeting", {"start": start})):
        sent = api.post(f"{where}/{action}", data={"step": answer["step"], **body}, headers=headers)
        assert sent.status == 200, sent.text()
        answer = sent.json()
    assert answer["messages"][-1]["text"].startswith("Booked!"), answer


def meeting_starts(db: Database) -> list[datetime]:
    with db.read() as session:
        return list(session.scalars(select(Meeting.starts_at).order_by(Meeting.id)))
