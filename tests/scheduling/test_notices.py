"""The emails of a meeting's life, read the way their readers' programs read them: the visitor's invitation,
update and cancellation parsed back with icalendar, the agent's notifications, the failure notice, and delivery to a
real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mail.smtp_server import SmtpServer
from overture.db import Database, utcnow
from overture.dialogues.models import Dialogue
from overture.mail.compose import build_email
from overture.mail.models import OutboxMessage
from overture.mail.service import deliver_due
from overture.mail.smtp import SmtpSender
from overture.scheduling import links, notices
from overture.scheduling.models import Agent, Meeting
from overture.sites.models import Site
from overture.users import service as users

from .rows import BASE_URL, SECRET_KEY, make_agent, make_meeting, make_person

MAIL_FROM = "Overture <meetings@chat.example.com>"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# 10 March 2026: New York is already on summer time (EDT, -4), Paris not yet (CET, +1).
START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TRANSCRIPT = [
    ("bot", "Hi! Want to see Overture live?"),
    ("visitor", "Yes, a demo please"),
    ("bot", "What is your work email?"),
    ("visitor", "chloe@customer.example"),
]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def book(db: Database, **meeting_fields: object) -> int:
    """An agent in New York, a visitor in Paris, a meeting between them, and its booking emails; the meeting id."""
    with db.write() as session:
        agent = make_agent(
            session,
            "rita@example.com",
            "Rita Rep",
            zone="America/New_York",
            meeting_link="https://meet.example.com/rita-rep",
        )
        meeting = make_meeting(
            session,
            agent,
            START,
            45,
            title="Product demo",
            person=make_person(
                session, "chloe@customer.example", "Chloé", "Martin", phone="+33 6 12 34 56 78", company="Acme Corp"
            ),
            **meeting_fields,
        )
        notices.queue_booked(session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, transcript=TRANSCRIPT, now=NOW)
        return meeting.id


def outbox(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage).options(selectinload(OutboxMessage.attachments)).order_by(OutboxMessage.id)
            )
        )


def to(db: Database, address: str) -> list[OutboxMessage]:
    return [message for message in outbox(db) if message.to == [address]]


def email_of(message: OutboxMessage) -> EmailMessage:
    return build_email(message, MAIL_FROM)


def calendar_of(email: EmailMessage) -> Calendar:
    """The one iMIP part: the last alternative of the body, text/calendar with the same method as the object, and
    no second copy as a file."""
    assert email.get_content_type() == "multipart/alternative"
    (part,) = [part for part in email.walk() if part.get_content_type() in ("text/calendar", "application/ics")]
    assert part is list(email.iter_parts())[-1]
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == str(calendar["METHOD"])
    return calendar


def text_of(email: EmailMessage) -> str:
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def meeting_row(db: Database, meeting_id: int) -> Meeting:
    with db.read() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


def signed_links(text: str) -> list[tuple[str, str]]:
    """(public id, action) of every meeting link in `text`, checked by their signature."""
    found = []
    for word in text.split():
        if word.startswith(f"{BASE_URL}/meetings/link/"):
            found.append(links.read(SECRET_KEY, word.rsplit("/", 1)[1]))
    return found


# --- booking ------------------------------------------------------------------------------------------------


def test_the_visitor_invitation_is_a_request_from_the_agent_to_the_visitor_in_the_agent_zone(db: Database) -> None:
    meeting_id = book(db)
    meeting = meeting_row(db, meeting_id)

    (invitation,) = to(db, "chloe@customer.example")
    assert invitation.kind == "imip_request"
    calendar = calendar_of(email_of(invitation))
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == meeting.uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(event["ORGANIZER"]) == "mailto:rita@example.com"
    assert event["ORGANIZER"].params["CN"] == "Rita Rep"
    assert str(event["ATTENDEE"]) == "mailto:chloe@customer.example"
    assert event["ATTENDEE"].params["CN"] == "Chloé Martin"
    assert str(event["LOCATION"]) == "https://meet.example.com/rita-rep"


def test_the_invitation_text_is_on_the_visitor_clock_with_signed_cancel_and_reschedule_links(db: Database) -> None:
    meeting = meeting_row(db, book(db))

    (invitation,) = to(db, "chloe@customer.example")
    email = email_of(invitation)
    assert email["Subject"] == "Invitation: Product demo — Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)"
    text = text_of(email)
    assert text.startswith("Hello Chloé,")
    assert "Rita Rep is looking forward to meeting you on Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)" in text
    assert "for 45 minutes" in text
    assert sorted(signed_links(text)) == [(meeting.public_id, "cancel"), (meeting.public_id, "reschedule")]


def test_the_invitation_uses_the_body_of_the_meeting_site(db: Database) -> None:
    with db.write() as session:
        session.add(Site(key="fr", name="France", origins=[], blocked_email_domains=[],
                         invitation_body="Bonjour {{ visitor_name }}, rendez-vous le {{ start_time }}."))  # fmt: skip
    book(db, site_key="fr")

    (invitation,) = to(db, "chloe@customer.example")
    assert text_of(email_of(invitation)).strip() == (
        "Bonjour Chloé Martin, rendez-vous le Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)."
    )


def test_the_agent_notification_has_the_visitor_the_time_in_the_agent_zone_the_dialogue_and_the_chat(
    db: Database,
) -> None:
    with db.write() as session:
        session.add(Dialogue(key="pricing-demo", name="Pricing page — book a demo", kind="dialogue", draft={}))
        session.flush()
        dialogue_id = session.scalar(select(Dialogue.id).where(Dialogue.key == "pricing-demo"))
    meeting = meeting_row(db, book(db, dialogue_id=dialogue_id))

    (notice,) = to(db, "rita@example.com")
    assert notice.kind == "meeting_notice"
    email = email_of(notice)
    assert email["Subject"] == "New meeting: Chloé Martin — Tuesday 10 March 2026 at 11:00 EDT (America/New_York)"
    text = text_of(email)
    for line in (
        "Name: Chloé Martin",
        "Email: chloe@customer.example",
        "Company: Acme Corp",
        "Phone: +33 6 12 34 56 78",
        "When: Tuesday 10 March 2026 at 11:00 EDT (America/New_York), for 45 minutes",
        "Link: https://meet.example.com/rita-rep",
        "Booked in the dialogue: Pricing page — book a demo",
        "Bot: Hi! Want to see Overture live?",
        "Visitor: Yes, a demo please",
    ):
        assert line in text
    assert text.index("Visitor: Yes, a demo please") < text.index("Bot: What is your work email?")
    assert signed_links(text) == [(meeting.public_id, "held"), (meeting.public_id, "no_show")]


def test_a_visitor_without_email_gets_nothing_and_the_agent_still_hears_of_the_meeting(db: Database) -> None:
    with db.write() as session:
        meeting = make_meeting(
            session, make_agent(session, "rita@example.com", "Rita Rep"), START, person=make_person(session, None)
        )
        queued = notices.queue_booked(
            session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, transcript=[], now=NOW
        )

    assert [message.to for message in queued] == [["rita@example.com"]]
    assert "Email: (not known)" in outbox(db)[0].text_body


def test_the_invitation_reaches_a_real_smtp_server_and_a_calendar_client_can_read_it(
    db: Database, smtp: SmtpServer
) -> None:
    meeting = meeting_row(db, book(db))

    report = deliver_due(db, SmtpSender(smtp.host, smtp.port, security="none"), MAIL_FROM, utcnow())

    assert report.sent == 2
    received = {tuple(item.rcpt_tos): item.email for item in smtp.received}
    invitation = received[("chloe@customer.example",)]
    calendar = calendar_of(invitation)
    (event,) = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", meeting.uid, 0)
    assert str(event["ORGANIZER"]) == "mailto:rita@example.com"
    assert event["DTSTART"].params["TZID"] == "America/New_York" and event.decoded("DTSTART") == START
    assert list(invitation.iter_attachments()) == []
    notification = text_of(received[("rita@example.com",)])
    assert "Visitor: chloe@customer.example" in notification


def test_a_visitor_who_gave_no_name_is_greeted_neutrally_in_every_mail(db: Database) -> None:
    with db.write() as session:
        agent = make_agent(session, "rita@example.com", "Rita Rep")
        dana = make_person(session, "dana@customer.example", first_name=None, last_name=None)
        meeting = make_meeting(session, agent, START, 45, person=dana)
        notices.queue_booked(session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, transcript=[], now=NOW)
        meeting.sequence += 1
        notices.queue_rescheduled(session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW)
        notices.queue_due_reminders(session, START - timedelta(hours=1), [60], base_url=BASE_URL, secret_key=SECRET_KEY)
        meeting.status = "cancelled"
        notices.queue_cancelled(session, meeting, by="visitor", base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW)

    mails = to(db, "dana@customer.example")
    assert [mail.subject.split(":")[0] for mail in mails] == [
        "Invitation",
        "Updated invitation",
        "Reminder",
        "Cancelled",
    ]
    for mail in mails:
        assert mail.text_body.startswith("Hello,\n\n")
        assert "dana@" not in mail.text_body
    (event,) = calendar_of(email_of(mails[0])).walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:dana@customer.example" and "CN" not in event["ATTENDEE"].params


# --- changes ------------------------------------------------------------------------------------------------


def test_a_reschedule_sends_an_updated_request_with_the_callers_sequence_and_the_new_time(db: Database) -> None:
    later = START + timedelta(days=1)
    meeting_id = book(db)
    with db.write() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.starts_at, meeting.ends_at = later, later + timedelta(minutes=45)
        meeting.status, meeting.sequence, meeting.reminders_sent = "rescheduled", 1, [1440]
        notices.queue_rescheduled(session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW)

    update, note = to(db, "chloe@customer.example")[1], to(db, "rita@example.com")[1]
    email = email_of(update)
    assert email["Subject"] == "Updated invitation: Product demo — Wednesday 11 March 2026 at 16:00 CET (Europe/Paris)"
    (event,) = calendar_of(email).walk("VEVENT")
    assert (str(event["UID"]), event["SEQUENCE"]) == (meeting_row(db, meeting_id).uid, 1)
    assert event.decoded("DTSTART") == later
    assert note.subject == "Meeting moved: Chloé Martin — Wednesday 11 March 2026 at 11:00 EDT (America/New_York)"
    assert meeting_row(db, meeting_id).reminders_sent == [], "the reminders start over for the new time"


def test_a_cancellation_sends_method_cancel_with_the_sequence_incremented_and_tells_the_agent_who(
    db: Database,
) -> None:
    meeting_id = book(db)
    with db.write() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.status = "cancelled"
        notices.queue_cancelled(session, meeting, by="visitor", base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW)

    cancellation, note = to(db, "chloe@customer.example")[1], to(db, "rita@example.com")[1]
    assert cancellation.kind == "imip_cancel"
    calendar = calendar_of(email_of(cancellation))
    (event,) = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert str(event["UID"]) == meeting_row(db, meeting_id).uid
    assert meeting_row(db, meeting_id).sequence == 1, "the next change must go higher still"
    assert "The visitor cancelled it" in note.text_body
    assert note.subject.startswith("Meeting cancelled: Chloé Martin")


def test_an_admin_cancellation_names_who_cancelled(db: Database) -> None:
    meeting_id = book(db)
    with db.write() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.status = "cancelled"
        notices.queue_cancelled(
            session, meeting, by="alice@example.com", base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW
        )

    assert "It was cancelled by alice@example.com" in to(db, "rita@example.com")[1].text_body


def test_a_reassignment_sends_the_visitor_a_request_from_the_new_agent_and_tells_both_agents(db: Database) -> None:
    meeting_id = book(db)
    with db.write() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        new_agent = make_agent(session, "sam.seller@example.com", "Sam Seller", zone="Asia/Tokyo")
        old_agent = session.get(Agent, meeting.agent_id)
        assert old_agent is not None
        meeting.agent_id = new_agent.id
        notices.queue_reassigned(session, meeting, old_agent, base_url=BASE_URL, secret_key=SECRET_KEY, now=NOW)
    meeting = meeting_row(db, meeting_id)

    update = to(db, "chloe@customer.example")[1]
    (event,) = calendar_of(email_of(update)).walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:sam.seller@example.com"
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert (str(event["UID"]), event["SEQUENCE"]) == (meeting.uid, 1)
    assert meeting.sequence == 1
    assert "Sam Seller is looking forward to meeting you" in text_of(email_of(update))
    (welcome,) = to(db, "sam.seller@example.com")
    assert welcome.subject == (
        "Meeting reassigned to you: Chloé Martin — Wednesday 11 March 2026 at 00:00 JST (Asia/Tokyo)"
    )
    assert "A meeting that was Rita Rep's is now yours." in welcome.text_body
    assert signed_links(welcome.text_body) == [(meeting.public_id, "held"), (meeting.public_id, "no_show")]
    farewell = to(db, "rita@example.com")[1]
    assert farewell.subject == "Meeting reassigned: Chloé Martin — now with Sam Seller"
    assert "Tuesday 10 March 2026 at 11:00 EDT (America/New_York)" in farewell.text_body


def test_a_failed_booking_tells_the_agent_and_every_active_admin(db: Database) -> None:
    with db.write() as session:
        users.create_user(session, "alice@example.com", "admin", name="Alice")
        gone = users.create_user(session, "old.admin@example.com", "admin", name="Old")
        users.set_active(session, gone, False)
        users.create_user(session, "mark@example.com", "marketer", name="Mark")
        agent = make_agent(session, "rita@example.com", "Rita Rep", zone="America/New_York")
        queued = notices.queue_booking_failed(
            session,
            reason="The agent's calendar could not be checked.",
            agent=agent,
            visitor_email="chloe@customer.example",
            start=START,
            now=NOW,
        )

    assert [message.to for message in queued] == [["rita@example.com"], ["alice@example.com"]]
    text = queued[0].text_body
    assert "Why: The agent's calendar could not be checked." in text
    assert "Visitor: chloe@customer.example" in text
    assert "Time asked for: Tuesday 10 March 2026 at 11:00 EDT (America/New_York)" in text
    assert queued[0].subject == "A meeting could not be booked"


def test_a_failed_booking_without_an_agent_goes_to_the_admins_only(db: Database) -> None:
    with db.write() as session:
        users.create_user(session, "alice@example.com", "admin", name="Alice")
        queued = notices.queue_booking_failed(
            session, reason="Nobody in the team is free.", agent=None, visitor_email=None, start=None, now=NOW
        )

    assert [message.to for message in queued] == [["alice@example.com"]]
    assert "Agent:" not in queued[0].text_body and "Visitor:" not in queued[0].text_body
