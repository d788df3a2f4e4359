"""Home: what needs attention, shown to the roles that can act on it with a link to its fix, and the next meetings of
agents and sales admins, on a pinned clock."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine
from fastapi.testclient import TestClient

from overture.analytics import rollups
from overture.db import Database
from overture.mail.schemas import NewMessage
from overture.mail.service import deliver_due, enqueue
from overture.mail.smtp import MailError
from overture.scheduling import attention
from overture.users.models import User
from overture.web.pages.home import Headline, Week, headlines, week_of
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking
from scheduling.rows import BASE_URL, at, make_agent, make_meeting, make_person

from support import Persona, Personas, sign_in

NOW = at(4, 12)  # Wednesday 4 March 2026, noon UTC


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def home_of(client: TestClient, persona: Persona) -> str:
    sign_in(client, persona)
    response = client.get("/admin")
    assert response.status_code == 200
    return html.unescape(response.text)


def attention_of(page: str) -> str:
    """The "What needs attention" section of the page as its words, and each link as [label](target)."""
    found = re.search(r'<section class="home-attention".*?</section>', page, re.S)
    assert found, "Home has no attention section"
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"[\2](\1)", found.group(0))
    return " ".join(re.sub(r"<[^>]+>", " ", text).split()).replace(" :", ":").replace(" .", ".")


def failing_calendars(db: Database) -> tuple[int, int]:
    """Bob's and Dave's calendars refused Overture (Bob on Monday, Dave on Tuesday); returns their agent ids."""
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave")
        attention.mark(session, bob, "The CalDAV server refused Bob's password.", at(2, 9), BASE_URL)
        attention.mark(session, dave, "Dave's Google calendar is gone.", at(3, 9), BASE_URL)
        return bob.id, dave.id


class Refusing:
    """An SMTP server that refuses every message: permanently (no retry) or for now (retried later)."""

    def __init__(self, permanent: bool) -> None:
        self.permanent = permanent

    def send(self, email: EmailMessage) -> None:
        raise MailError(
            "550 mailbox unavailable" if self.permanent else "421 try again later", permanent=self.permanent
        )


def mail(db: Database, subject: str, *, permanent: bool, when: datetime = NOW) -> int:
    """A message delivered at `when` to a server that refuses it; returns its id."""
    with time_machine.travel(when, tick=False), db.write() as session:
        message = enqueue(session, NewMessage(to=["ann@acme.example"], subject=subject, text_body="Hello\n"))
    deliver_due(db, Refusing(permanent), "overture@example.org", when)
    return message.id


# --- what needs attention ----------------------------------------------------------------------------------------


def test_an_agent_sees_their_own_failed_calendar_with_the_link_to_fix_it(
    client: TestClient, db: Database, personas: Personas
) -> None:
    failing_calendars(db)

    shown = attention_of(home_of(client, personas.bob))

    assert (
        "Your calendar needs attention since Mon 02 Mar 2026 09:00: The CalDAV server refused Bob's password." in shown
    )
    assert "You get no new meetings until it is fixed." in shown
    assert "[Fix your calendar](/admin/calendar)" in shown
    assert "Dave" not in shown, "another agent's calendar is not theirs to fix"


def test_a_sales_admin_and_an_admin_see_every_agents_failed_calendar(
    client: TestClient, db: Database, personas: Personas
) -> None:
    bob, dave = failing_calendars(db)
    for persona in (personas.sam, personas.alice):
        client.cookies.clear()
        shown = attention_of(home_of(client, persona))
        assert "Bob’s calendar needs attention since Mon 02 Mar 2026 09:00" in shown
        assert "Routing skips Dave until it is fixed." in shown
        assert f"[Open Bob’s calendar](/admin/calendar/{bob})" in shown
        assert f"[Open Dave’s calendar](/admin/calendar/{dave})" in shown


def test_a_marketer_is_not_told_of_calendars_they_cannot_fix(
    client: TestClient, db: Database, personas: Personas
) -> None:
    failing_calendars(db)
    mail(db, "Your invitation", permanent=True)

    shown = attention_of(home_of(client, personas.mark))

    assert "Nothing needs your attention." in shown
    assert "calendar" not in shown.lower() and "Mail" not in shown


def test_a_deactivated_agents_calendar_is_not_news(client: TestClient, db: Database, personas: Personas) -> None:
    with db.write() as session:
        carol = make_agent(session, personas.carol.email, "Carol")
        attention.mark(session, carol, "Gone.", at(2, 9), BASE_URL)

    assert "Nothing needs your attention." in attention_of(home_of(client, personas.alice))


def test_failed_and_retried_mail_show_to_admins_with_the_message_to_send_again(
    client: TestClient, db: Database, personas: Personas
) -> None:
    failed = mail(db, "Your invitation", permanent=True)
    retrying = mail(db, "Meeting notice", permanent=False)

    shown = attention_of(home_of(client, personas.alice))

    assert "Mail failed" in shown
    assert "“Your invitation” to ann@acme.example was not delivered after 1 attempt: 550 mailbox unavailable." in shown
    assert f"[Open the message to send it again](/admin/outbox/{failed})" in shown
    assert "Mail retrying" in shown
    assert "“Meeting notice” to ann@acme.example failed 1 time and is being retried: 421 try again later." in shown
    assert f"[Open the message](/admin/outbox/{retrying})" in shown


def test_mail_failures_are_for_admins_only(client: TestClient, db: Database, personas: Personas) -> None:
    mail(db, "Your invitation", permanent=True)
    mail(db, "Meeting notice", permanent=False)

    for persona in (personas.sam, personas.bob):
        client.cookies.clear()
        assert "Nothing needs your attention." in attention_of(home_of(client, persona))


def test_a_failure_older_than_a_week_is_left_to_the_outbox(
    client: TestClient, db: Database, personas: Personas
) -> None:
    mail(db, "Old news", permanent=True, when=NOW - timedelta(days=8))
    mail(db, "Last week", permanent=True, when=NOW - timedelta(days=6))

    shown = attention_of(home_of(client, personas.alice))

    assert "Last week" in shown
    assert "Old news" not in shown


def test_a_meeting_that_cannot_be_written_to_the_calendar_shows_to_its_agent_and_managers(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob", provider="caldav")
        dave = make_agent(session, "dave@example.com", "Dave", provider="caldav")
        ann = make_person(session, "ann@acme.example", "Ann")
        bobs = make_meeting(session, bob, at(5, 10), person=ann, title="Demo with Ann", calendar_state="failed",
                            calendar_error="The server answered 503.")  # fmt: skip
        make_meeting(session, dave, at(6, 10), person=ann, title="Demo of Dave", calendar_state="failed")
        make_meeting(session, dave, at(6, 11), person=ann, title="Written fine", calendar_state="written")

    for persona in (personas.bob, personas.sam, personas.alice):
        client.cookies.clear()
        shown = attention_of(home_of(client, persona))
        assert (
            "“Demo with Ann” on Thu 05 Mar 2026 10:00 cannot be written to Bob’s calendar: The server answered 503."
            in shown
        )
        assert f"[Open the meeting](/admin/meetings/{bobs.public_id})" in shown
        assert ("Demo of Dave" in shown) is (persona != personas.bob), "an agent sees their own meetings only"
        assert "Written fine" not in shown

    client.cookies.clear()
    assert "Nothing needs your attention." in attention_of(home_of(client, personas.mark))


def test_beyond_five_of_a_kind_home_counts_the_rest_and_links_to_them(
    client: TestClient, db: Database, personas: Personas
) -> None:
    for n in range(7):
        mail(db, f"Invitation {n}", permanent=True)

    shown = attention_of(home_of(client, personas.alice))

    assert shown.count("Open the message to send it again") == 5
    assert "2 more messages failed this past week." in shown
    assert "[See them in the Outbox](/admin/outbox)" in shown


def test_when_nothing_needs_attention_home_says_so(client: TestClient, db: Database, personas: Personas) -> None:
    with db.write() as session:
        make_agent(session, "bob@example.com", "Bob")

    for persona in (personas.alice, personas.mark, personas.sam, personas.bob):
        client.cookies.clear()
        page = home_of(client, persona)
        assert "Nothing needs your attention." in attention_of(page)
        assert 'class="cards"' not in page, "the menu opens the areas: no second grid of links"


# --- the next meetings -------------------------------------------------------------------------------------------


def test_an_agent_sees_their_next_meetings_of_this_week_on_their_clock(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob", zone="America/New_York")
        dave = make_agent(session, "dave@example.com", "Dave")
        ann = make_person(session, "ann@acme.example", "Ann", "Lee")
        make_meeting(session, bob, at(4, 9), person=ann, title="Over this morning")
        make_meeting(session, bob, at(4, 15), person=ann, title="This afternoon")
        make_meeting(session, bob, at(5, 14), person=ann, title="Thursday's demo")
        make_meeting(session, bob, at(6, 14), person=ann, title="Called off", status="cancelled")
        make_meeting(session, bob, at(9, 14), person=ann, title="Next week")
        make_meeting(session, dave, at(4, 16), person=ann, title="Dave's demo")

    page = home_of(client, personas.bob)

    assert "Your next meetings" in page
    listed = re.findall(r'<span class="when"><time[^>]*>([^<]*)</time></span>\s*<span class="what">([^<]*)<', page)
    assert listed == [("Today, 10:00–10:30", "This afternoon"), ("Tomorrow, 09:00–09:30", "Thursday's demo")]
    assert "with Ann Lee" in page
    assert '<a href="/admin/meetings?start=2026-03-04&end=2026-03-08">All meetings from today to Sunday</a>' in page


def test_a_sales_admin_sees_every_agents_next_meetings_with_the_agent(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave")
        ann = make_person(session, "ann@acme.example", "Ann")
        make_meeting(session, bob, at(6, 9), person=ann, title="Bob's demo")
        make_meeting(session, dave, at(4, 16), person=ann, title="Dave's demo")

    page = home_of(client, personas.sam)

    assert "Next meetings" in page
    listed = re.findall(r'<span class="what">([^<]*)<', page)
    assert listed == ["Dave's demo", "Bob's demo"]
    assert "Today, 16:00–16:30" in page and "Friday 6 March, 09:00–09:30" in page
    assert "with Ann · Dave" in page


def test_an_agent_with_no_meeting_left_this_week_is_told_so(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.write() as session:
        make_agent(session, "bob@example.com", "Bob")

    assert "No more meetings this week." in home_of(client, personas.bob)


def test_admins_and_marketers_get_no_meetings_list(client: TestClient, db: Database, personas: Personas) -> None:
    for persona in (personas.alice, personas.mark):
        client.cookies.clear()
        assert "next meetings" not in home_of(client, persona).lower()


# --- this week's headline figures -------------------------------------------------------------------------------

# Wednesday 1 April 2026, noon UTC: this week began in March (Monday 30), last week's same days are 23 to 25 March.
# In Auckland (UTC+13) it is already Thursday 2 April, 01:00.
APRIL_1 = datetime.fromisoformat("2026-04-01T12:00:00+00:00")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.fixture
def chats(client: TestClient, db: Database) -> None:
    """Visitors of the booking dialogue, each a new browser, at these UTC times (hand-counted below):

    | when (UTC)       | what                  | week in UTC          | week in Auckland     |
    |------------------|-----------------------|----------------------|----------------------|
    | Mon 23 Mar 10:00 | books a meeting       | last                 | last                 |
    | Wed 25 Mar 23:30 | opens, goes away      | last                 | last                 |
    | Thu 26 Mar 10:00 | gives an email        | (after the same days)| last (Thu 23:00)     |
    | Sun 29 Mar 23:59 | gives an email        | (before Monday)      | this (Mon 12:59)     |
    | Mon 30 Mar 00:00 | clicks, no email      | this                 | this                 |
    | Tue 31 Mar 15:00 | gives an email        | this                 | this                 |
    | Wed  1 Apr 09:00 | gives an email        | this                 | this                 |
    | Wed  1 Apr 11:00 | opens, goes away      | this                 | this                 |
    """
    make_agents(db, 1)
    publish_booking(db)
    acts = {
        "2026-03-23T10:00": "book", "2026-03-25T23:30": "open", "2026-03-26T10:00": "email",
        "2026-03-29T23:59": "email", "2026-03-30T00:00": "click", "2026-03-31T15:00": "email",
        "2026-04-01T09:00": "email", "2026-04-01T11:00": "open",
    }  # fmt: skip
    for number, (when, act) in enumerate(acts.items()):
        with time_machine.travel(moment(when), tick=False):
            visitor = Visitor(client)
            if act == "open":
                visitor.start()
            elif act == "click":
                visitor.start()
                visitor.choose("0")
            else:
                offered = visitor.to_the_slots(f"visitor{number}@acme.example")
                if act == "book":
                    visitor.pick(first_time(offered))


def figures_of(page: str) -> list[str]:
    """Each headline figure as "label: figure, change -> link"."""
    found = re.findall(
        r'<li><a href="([^"]*)">\s*<span class="label">([^<]*)</span>\s*<span class="figure">(\d+)</span>\s*'
        r'<span class="change[^"]*"><span aria-hidden="true">[^<]*</span> ([^<]*)</span>',
        page,
    )
    return [f"{label}: {figure}, {change} -> {link}" for link, label, figure, change in found]


def test_an_admin_sees_this_weeks_figures_beside_last_weeks_same_days(
    client: TestClient, db: Database, personas: Personas, chats: None
) -> None:
    with time_machine.travel(APRIL_1, tick=False):
        page = home_of(client, personas.alice)

    assert "Monday 30 March to today, Wednesday 1 April, beside the same days of last week" in page
    assert "(Monday 23 to Wednesday 25 March)" in page
    assert figures_of(page) == [
        "Conversations: 4, up 2 (+100%) from 2 last week -> /admin/conversations",
        "Engaged: 3, up 2 (+200%) from 1 last week -> /admin/reports?from=2026-03-30&to=2026-04-01&zone=UTC",
        "People acquired: 2, up 1 (+100%) from 1 last week -> /admin/reports?from=2026-03-30&to=2026-04-01&zone=UTC",
        "Meetings booked: 0, down 1 (−100%) from 1 last week -> /admin/meetings",
    ]


def test_a_marketer_reads_meetings_booked_in_reports(
    client: TestClient, db: Database, personas: Personas, chats: None
) -> None:
    with time_machine.travel(APRIL_1, tick=False):
        page = home_of(client, personas.mark)

    assert figures_of(page)[3] == (
        "Meetings booked: 0, down 1 (−100%) from 1 last week -> /admin/reports?from=2026-03-30&to=2026-04-01&zone=UTC"
    )


def test_the_weeks_follow_the_viewers_zone(db: Database, personas: Personas, chats: None) -> None:
    rollups.catch_up_all(db, APRIL_1)
    zone = "Pacific/Auckland"
    with db.read() as session:
        alice = session.get_one(User, personas.alice.id)
        found = headlines(session, alice, APRIL_1, zone, week_of(APRIL_1, zone))

    assert [(item.label, item.now, item.before) for item in found] == [
        ("Conversations", 5, 3),
        ("Engaged", 4, 2),
        ("People acquired", 3, 2),
        ("Meetings booked", 0, 1),
    ]


def test_agents_and_sales_admins_get_no_marketing_figures(client: TestClient, db: Database, personas: Personas) -> None:
    for persona in (personas.bob, personas.sam):
        client.cookies.clear()
        assert "This week" not in home_of(client, persona)


def test_the_change_is_said_in_words() -> None:
    assert Headline("Engaged", 5, 5, "/").change == "same as last week (5)"
    assert Headline("Engaged", 3, 0, "/").change == "up 3 from none last week"
    assert Headline("Engaged", 1, 4, "/").change == "down 3 (−75%) from 4 last week"


# --- the week ----------------------------------------------------------------------------------------------------


def test_the_week_runs_from_monday_on_the_viewers_clock_and_compares_with_last_weeks_same_days() -> None:
    # Wednesday 1 April 2026, 02:00 UTC: still Tuesday 31 March in New York, a week begun in March.
    now = datetime.fromisoformat("2026-04-01T02:00:00+00:00")

    assert week_of(now, "America/New_York") == Week(
        first=date(2026, 3, 30),
        today=date(2026, 3, 31),
        end=date(2026, 4, 6),
        previous_first=date(2026, 3, 23),
        previous_last=date(2026, 3, 24),
    )
    assert week_of(now, "UTC").today == date(2026, 4, 1)
