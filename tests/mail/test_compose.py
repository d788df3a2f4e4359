"""build_email: an outbox row becomes a standard email with stable headers, alternatives and attachments."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from overture.db import Database
from overture.mail.compose import build_email
from overture.mail.models import OutboxMessage
from overture.mail.schemas import Attachment, NewMessage
from overture.mail.service import enqueue, get_message

MAIL_FROM = "Overture <overture@mail.example.org>"


def stored_message(db: Database, **fields: Any) -> OutboxMessage:
    data: dict[str, Any] = {"to": ["visitor@example.com"], "subject": "Your meeting", "text_body": "See you.\n"}
    with db.write() as session:
        message_id = enqueue(session, NewMessage(**{**data, **fields})).id
    with db.read() as session:
        return get_message(session, message_id)


def test_the_email_is_from_mail_from_to_every_recipient_with_the_subject(db: Database) -> None:
    message = stored_message(db, to=["visitor@example.com", "boss@example.com"], subject="Rendez-vous à 10 h")

    email = build_email(message, MAIL_FROM)

    assert email["From"] == MAIL_FROM
    assert email["To"] == "visitor@example.com, boss@example.com"
    assert email["Subject"] == "Rendez-vous à 10 h"


def test_the_date_header_is_when_the_message_was_queued(db: Database) -> None:
    message = stored_message(db)

    email = build_email(message, MAIL_FROM)

    assert parsedate_to_datetime(email["Date"]) == message.created_at.replace(microsecond=0)


def test_the_message_id_is_on_the_domain_of_mail_from(db: Database) -> None:
    message = stored_message(db)

    message_id = build_email(message, MAIL_FROM)["Message-ID"]

    assert message_id.startswith("<") and message_id.endswith("@mail.example.org>")


def test_two_outbox_rows_have_different_message_ids(db: Database) -> None:
    first, second = stored_message(db), stored_message(db)

    assert build_email(first, MAIL_FROM)["Message-ID"] != build_email(second, MAIL_FROM)["Message-ID"]


def test_the_message_id_is_the_same_each_time_a_row_is_built_so_a_resent_mail_is_recognised(db: Database) -> None:
    message = stored_message(db)

    assert build_email(message, MAIL_FROM)["Message-ID"] == build_email(message, MAIL_FROM)["Message-ID"]


def test_a_text_only_message_is_a_single_plain_text_part(db: Database) -> None:
    email = build_email(stored_message(db, text_body="Bonjour Chloé,\nà mardi.\n"), MAIL_FROM)

    assert not email.is_multipart()
    assert email.get_content_type() == "text/plain"
    assert email.get_content() == "Bonjour Chloé,\nà mardi.\n"


def test_an_html_body_becomes_an_alternative_to_the_text(db: Database) -> None:
    email = build_email(stored_message(db, text_body="Hello\n", html_body="<p>Hello</p>\n"), MAIL_FROM)

    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]
    html = email.get_body(preferencelist=("html",))
    assert html is not None and html.get_content() == "<p>Hello</p>\n"


def test_attachments_keep_their_name_their_bytes_and_their_content_type_parameters(db: Database) -> None:
    invite = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:D\xc3\xa9mo\r\nEND:VCALENDAR\r\n"
    message = stored_message(
        db,
        html_body="<p>See you.</p>",
        attachments=[
            Attachment(
                filename="invite.ics", content_type="text/calendar; method=REQUEST; charset=utf-8", content=invite
            ),
            Attachment(filename="logo.png", content_type="image/png", content=b"\x89PNG\r\n\x1a\n\x00\xff"),
        ],
    )

    email = build_email(message, MAIL_FROM)

    assert email.get_content_type() == "multipart/mixed"
    calendar, logo = email.iter_attachments()
    assert calendar.get_filename() == "invite.ics"
    assert calendar.get_content_type() == "text/calendar"
    assert (calendar.get_param("method"), calendar.get_param("charset")) == ("REQUEST", "utf-8")
    assert calendar.get_payload(decode=True) == invite
    assert logo.get_filename() == "logo.png"
    assert logo.get_content_type() == "image/png"
    assert logo.get_payload(decode=True) == b"\x89PNG\r\n\x1a\n\x00\xff"
