"""The invitation email: iMIP structure, the site's sandboxed body, the outbox and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from icalendar import Calendar

from overture.db import Database, utcnow
from overture.errors import InvalidInput
from overture.mail.compose import build_email
from overture.mail.invitation import (
    DEFAULT_BODY,
    SAMPLE,
    TOKENS,
    InvitationDetails,
    check_template,
    format_duration,
    format_start,
    preview,
    queue_cancellation,
    queue_invitation,
)
from overture.mail.service import deliver_due, get_message
from overture.mail.smtp import SmtpSender
from overture.scheduling.invites import MeetingInvite, cancel, request, reschedule

from smtp_server import SmtpServer

MAIL_FROM = "Overture <meetings@overture.example.com>"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # New York already on summer time, Paris not yet
MEETING = MeetingInvite(
    uid="0b9d6c1e-2f4a-4e0b-8f57-7a1c2d3e4f50@overture.example.com",
    sequence=0,
    start=START,
    end=START + timedelta(minutes=45),
    agent_zone="America/New_York",
    agent_name="Rita Rep",
    agent_email="rita@example.com",
    visitor_name="Chloé Martin",
    visitor_email="chloe@customer.example",
    title="Product demo",
    description="A look at routing.",
    meeting_link="https://meet.example.com/rita-rep",
)
DETAILS = InvitationDetails(
    visitor_name="Chloé Martin",
    visitor_email="chloe@customer.example",
    visitor_zone="Europe/Paris",
    agent_name="Rita Rep",
    title="Product demo",
    start=START,
    end=START + timedelta(minutes=45),
    meeting_link="https://meet.example.com/rita-rep",
    reschedule_link="https://overture.example.com/m/abc/reschedule?sig=1",
    cancel_link="https://overture.example.com/m/abc/cancel?sig=1",
    visitor_first_name="Chloé",
)
# Dana left only her email address.
NAMELESS = dataclasses.replace(DETAILS, visitor_name="", visitor_first_name="", visitor_email="dana@customer.example")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def queued_email(db: Database, details: InvitationDetails = DETAILS, template: str | None = None) -> EmailMessage:
    with db.write() as session:
        message_id = queue_invitation(session, details, request(MEETING, NOW).ics, template).id
    with db.read() as session:
        return build_email(get_message(session, message_id), MAIL_FROM)


def delivered(
    db: Database, smtp: SmtpServer, details: InvitationDetails = DETAILS, template: str | None = None
) -> EmailMessage:
    """The invitation as the real SMTP server received it, parsed by the email package."""
    with time_machine.travel(NOW, tick=False):
        with db.write() as session:
            queue_invitation(session, details, request(MEETING, NOW).ics, template)
        assert deliver_due(db, SmtpSender(smtp.host, smtp.port, security="none"), MAIL_FROM, utcnow()).sent == 1
    (received,) = smtp.received
    return received.email


def calendar_parts(email: EmailMessage) -> list[EmailMessage]:
    return [part for part in email.walk() if part.get_content_type() in ("text/calendar", "application/ics")]


def calendar_part(email: EmailMessage) -> EmailMessage:
    (part,) = calendar_parts(email)
    return part


def text_and_html(email: EmailMessage) -> tuple[str, str]:
    text, html = email.get_body(preferencelist=("plain",)), email.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # Lines travel as CRLF over SMTP.
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


class _Links(HTMLParser):
    """The links of an HTML part: (href, style, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            values = dict(attrs)
            self._open = (values.get("href") or "", values.get("style") or "")
            self.found.append((*self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            href, style, text = self.found[-1]
            self.found[-1] = (href, style, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None


def links_of(html: str) -> dict[str, tuple[str, str]]:
    """{link text: (href, style)}."""
    parser = _Links()
    parser.feed(html)
    return {text.strip(): (href, style) for href, style, text in parser.found}


def test_the_invitation_is_text_html_and_one_calendar_alternative(db: Database) -> None:
    email = queued_email(db)

    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    assert list(email.iter_attachments()) == []
    calendar = calendar_part(email)
    assert (calendar.get_param("method"), calendar.get_param("charset")) == ("REQUEST", "UTF-8")
    assert calendar.get_content_disposition() is None  # an alternative, not a file
    assert calendar.get_payload(decode=True) == request(MEETING, NOW).ics


def test_a_visitor_without_a_name_is_greeted_neutrally_never_by_email_address(db: Database, smtp: SmtpServer) -> None:
    email = delivered(db, smtp, NAMELESS)

    text, html = text_and_html(email)
    assert text.startswith("Hello,\n\nRita Rep is looking forward")
    assert "<p>Hello,</p>" in html
    assert "dana" not in text and "dana" not in html
    assert email["To"] == "dana@customer.example"


def test_a_visitor_with_a_name_is_greeted_by_first_name(db: Database, smtp: SmtpServer) -> None:
    text, html = text_and_html(delivered(db, smtp))

    assert text.startswith("Hello Chloé,\n\n")
    assert "<p>Hello Chloé,</p>" in html


def test_a_site_body_greeting_by_name_drops_the_missing_name_with_its_space(db: Database, smtp: SmtpServer) -> None:
    template = (
        "Hi {{ visitor_name }}, good to meet you.\n\n"
        "{% if visitor_name %}We have your name.{% else %}Tell us your name.{% endif %}"
    )

    text, html = text_and_html(delivered(db, smtp, NAMELESS, template))

    assert text == "Hi, good to meet you.\n\nTell us your name.\n"
    assert "<p>Hi, good to meet you.</p>" in html


def test_the_reschedule_and_cancel_links_are_buttons_in_the_html_and_addresses_in_the_text(
    db: Database, smtp: SmtpServer
) -> None:
    text, html = text_and_html(delivered(db, smtp))

    found = links_of(html)
    assert found["Pick another time"][0] == DETAILS.reschedule_link
    assert found["Cancel the meeting"][0] == DETAILS.cancel_link
    assert "display:inline-block" in found["Pick another time"][1]
    assert "background-color:#1f5fbf;color:#ffffff" in found["Pick another time"][1]
    assert "display:inline-block" in found["Cancel the meeting"][1]
    assert "background-color:#ffffff;color:#1f5fbf" in found["Cancel the meeting"][1]  # the quieter, outlined one
    assert DETAILS.reschedule_link not in found and DETAILS.cancel_link not in found  # no raw URL as a link text
    assert f"Need another time? {DETAILS.reschedule_link}" in text
    assert f"Can't make it? {DETAILS.cancel_link}" in text


def test_the_delivered_invitation_has_exactly_one_calendar_part_with_method_request(
    db: Database, smtp: SmtpServer
) -> None:
    email = delivered(db, smtp)

    (part,) = calendar_parts(email)
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert str(Calendar.from_ical(part.get_payload(decode=True))["METHOD"]) == "REQUEST"
    assert list(email.iter_attachments()) == []


def test_a_real_smtp_server_receives_an_invitation_a_calendar_client_can_read(db: Database, smtp: SmtpServer) -> None:
    email = delivered(db, smtp)

    assert smtp.received[0].rcpt_tos == ["chloe@customer.example"]
    assert email["Subject"] == "Invitation: Product demo — Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)"
    calendar = Calendar.from_ical(calendar_part(email).get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST" == calendar_part(email).get_param("method")
    assert str(event["UID"]) == MEETING.uid
    assert event.decoded("DTSTART") == START
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert str(event["ORGANIZER"]) == "mailto:rita@example.com"
    assert event["ATTENDEE"].params["CN"] == "Chloé Martin"


def test_the_cancellation_email_carries_method_cancel_with_the_meeting_uid(db: Database, smtp: SmtpServer) -> None:
    cancelled = cancel(MEETING, NOW + timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        with db.write() as session:
            queue_cancellation(session, DETAILS, cancelled.ics)
        deliver_due(db, SmtpSender(smtp.host, smtp.port, security="none"), MAIL_FROM, utcnow())

    email = smtp.received[0].email
    assert email["Subject"].startswith("Cancelled: Product demo")
    part = calendar_part(email)
    assert part.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = calendar.walk("VEVENT")
    assert (str(calendar["METHOD"]), str(event["STATUS"]), event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert str(event["UID"]) == MEETING.uid
    assert text_and_html(email)[0].startswith("Hello Chloé,\n\nYour meeting “Product demo”")


def test_a_rescheduled_meeting_sends_an_updated_invitation_with_the_new_time(db: Database) -> None:
    later = START + timedelta(days=1)
    moved = reschedule(MEETING, later, later + timedelta(minutes=45), NOW)
    with db.write() as session:
        message_id = queue_invitation(
            session,
            dataclasses.replace(DETAILS, start=later, end=later + timedelta(minutes=45)),
            moved.ics,
            updated=True,
        ).id
    with db.read() as session:
        email = build_email(get_message(session, message_id), MAIL_FROM)

    assert email["Subject"] == "Updated invitation: Product demo — Wednesday 11 March 2026 at 16:00 CET (Europe/Paris)"
    event = Calendar.from_ical(calendar_part(email).get_payload(decode=True)).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART") == later
    assert len(calendar_parts(email)) == 1


def test_a_calendar_object_whose_method_does_not_match_the_email_is_refused(db: Database) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        queue_cancellation(session, DETAILS, request(MEETING, NOW).ics)

    assert refused.value.problems[0].message == "Expected METHOD:CANCEL, found “REQUEST”."


def test_the_default_body_names_the_visitor_the_agent_the_time_in_the_visitor_zone_and_the_links(db: Database) -> None:
    text = queued_email(db).get_body(preferencelist=("plain",))

    assert text is not None
    body = text.get_content()
    assert body.startswith("Hello Chloé,")
    assert "Rita Rep is looking forward to meeting you on Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)" in body
    assert "for 45 minutes" in body
    for link in (DETAILS.meeting_link, DETAILS.reschedule_link, DETAILS.cancel_link):
        assert link in body


def test_the_start_time_follows_the_visitor_zone_across_its_own_dst_change() -> None:
    paris_winter = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
    paris_summer = datetime(2026, 3, 30, 15, 0, tzinfo=UTC)

    assert format_start(paris_winter, "Europe/Paris") == "Saturday 28 March 2026 at 16:00 CET (Europe/Paris)"
    assert format_start(paris_summer, "Europe/Paris") == "Monday 30 March 2026 at 17:00 CEST (Europe/Paris)"
    assert format_start(paris_summer, "UTC") == "Monday 30 March 2026 at 15:00 UTC"


def test_durations_read_naturally() -> None:
    assert [format_duration(timedelta(minutes=m)) for m in (15, 60, 75, 120)] == [
        "15 minutes",
        "1 hour",
        "1 hour 15 minutes",
        "2 hours",
    ]


def test_a_site_body_uses_its_tokens_and_the_html_part_makes_the_links_clickable(db: Database) -> None:
    template = (
        "Hi {{ visitor_name }} & co,\n\n{{ agent_name }} will call: {{ meeting_link }}\nMove it: {{ reschedule_link }}"
    )

    email = queued_email(db, template=template)

    text, html = email.get_body(preferencelist=("plain",)), email.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content() == (
        "Hi Chloé Martin & co,\n\nRita Rep will call: https://meet.example.com/rita-rep\n"
        "Move it: https://overture.example.com/m/abc/reschedule?sig=1\n"
    )
    content = html.get_content()
    assert "<p>Hi Chloé Martin &amp; co,</p>" in content
    assert '<a href="https://meet.example.com/rita-rep">https://meet.example.com/rita-rep</a>' in content
    assert links_of(content)["Pick another time"][0] == "https://overture.example.com/m/abc/reschedule?sig=1"


def test_markup_in_a_visitor_name_is_escaped_in_the_html_part(db: Database) -> None:
    name = '<img src=x onerror="alert(1)">Eve'
    hostile = dataclasses.replace(DETAILS, visitor_name=name, visitor_first_name=name)

    email = queued_email(db, details=hostile)

    html = email.get_body(preferencelist=("html",))
    text = email.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "<img" not in html.get_content()
    assert "Hello &lt;img src=x onerror=&#34;alert(1)&#34;&gt;Eve," in html.get_content()
    assert text.get_content().startswith('Hello <img src=x onerror="alert(1)">Eve,')


@pytest.mark.parametrize("unescape", ["safe", "forceescape", "xmlattr"])
def test_a_body_cannot_unescape_a_visitor_value_into_the_html_part(unescape: str) -> None:
    result = preview(f"Hello {{{{ visitor_name|{unescape} }}}}")
    assert result.body is None
    assert result.problem is not None and result.problem.line == 1 and unescape in result.problem.message


@pytest.mark.parametrize(
    ("template", "refusal"),
    [
        ("Hello {{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe."),
        (
            "Hello {{ visitor_name.__class__.__mro__[1].__subclasses__() }}",
            "access to attribute '__class__' of 'str' object is unsafe.",
        ),
        ("Hello {{ cycler.__init__.__globals__ }}", "access to attribute '__init__' of 'type' object is unsafe."),
    ],
)
def test_the_sandbox_refuses_attribute_tricks_and_says_so(template: str, refusal: str) -> None:
    result = preview(template)

    assert result.body is None
    assert result.problem is not None and result.problem.line == 1
    assert result.problem.message == refusal


def test_a_template_syntax_error_is_reported_with_its_line() -> None:
    result = preview("Hello {{ visitor_name }},\n\nSee you {{ start_time }\n")

    assert result.problem is not None
    assert str(result.problem) == "Line 3: unexpected '}'"


def test_an_unknown_token_is_reported_with_its_line_when_the_admin_saves_the_body() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_template("Hello {{ visitor_name }},\n{{ visitr_name }}")

    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("invitation_body", "Line 2: 'visitr_name' is undefined.")
    ]


def test_a_huge_repetition_is_refused_instead_of_filling_the_memory() -> None:
    result = preview("{{ 'spam' * 100000000 }}")

    assert result.problem is not None and "too long" in result.problem.message


def test_the_preview_renders_the_default_body_with_the_sample_meeting() -> None:
    result = preview(DEFAULT_BODY)

    assert result.problem is None and result.body is not None
    assert result.body.text.startswith(f"Hello {SAMPLE.visitor_first_name},")
    assert "Tuesday 12 March 2030 at 14:00 CET (Europe/Paris)" in result.body.text
    assert links_of(result.body.html)["Cancel the meeting"][0] == SAMPLE.cancel_link


def test_a_broken_site_body_still_sends_the_invitation_with_the_default_body(db: Database) -> None:
    email = queued_email(db, template="Hello {{ visitor_name }")

    text = email.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content().startswith("Hello Chloé,\n\nRita Rep is looking forward")
    assert calendar_part(email).get_param("method") == "REQUEST"


def test_every_token_and_the_default_body_are_documented_in_the_meetings_page() -> None:
    page = (Path(__file__).parents[2] / "docs" / "meetings.md").read_text()

    for token in TOKENS:
        assert f"`{{{{ {token} }}}}`" in page
    assert DEFAULT_BODY in page
