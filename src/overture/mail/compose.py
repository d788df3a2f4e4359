"""Turns an outbox row into a standard email (text, optional HTML alternative, attachments).

A calendar invitation (a message of a kind in CALENDAR_KINDS) is an iMIP message (RFC 6047): its text/calendar rows
are not files but the last, richest alternative of the body, next to the text and the HTML, so that mail clients
show the invitation with its accept buttons; any other row stays an attachment.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from overture.mail.models import OutboxAttachment, OutboxMessage

# The outbox kinds of invitation emails (mail/invitation.py queues them).
INVITATION_KIND = "imip_request"
CANCELLATION_KIND = "imip_cancel"
CALENDAR_KINDS = frozenset({INVITATION_KIND, CANCELLATION_KIND})


def build_email(message: OutboxMessage, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = ", ".join(message.to)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # A stable id per outbox row: a message re-sent after a crash is recognised as the same by mail clients.
    domain = mail_from.rsplit("@", 1)[-1].rstrip(">").strip() or "overture.invalid"
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    files = []
    for attachment in message.attachments:
        maintype, subtype, params = _content_type(attachment)
        if message.kind in CALENDAR_KINDS and (maintype, subtype) == ("text", "calendar"):
            # Alternatives before any file: once an attachment is added the message is multipart/mixed.
            email.add_alternative(attachment.content, maintype=maintype, subtype=subtype, params=params)
        else:
            files.append((attachment, maintype, subtype, params))
    for attachment, maintype, subtype, params in files:
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params
        )
    return email


def _content_type(attachment: OutboxAttachment) -> tuple[str, str, dict[str, str]]:
    """`text/calendar; method=REQUEST` -> ("text", "calendar", {"method": "REQUEST"})."""
    maintype, _, rest = attachment.content_type.partition("/")
    subtype, _, params = rest.partition(";")
    extra = dict(
        (key.strip(), value.strip().strip('"'))
        for key, _, value in (param.partition("=") for param in params.split(";") if param.strip())
    )
    return maintype.strip(), subtype.strip(), extra
