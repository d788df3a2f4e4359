"""Turns an outbox row into a standard email (text, optional HTML alternative, attachments)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from overture.mail.models import OutboxMessage


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
    for attachment in message.attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, _, params = rest.partition(";")
        extra = dict(
            (key.strip(), value.strip().strip('"'))
            for key, _, value in (param.partition("=") for param in params.split(";") if param.strip())
        )
        email.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype.strip(),
            filename=attachment.filename,
            params=extra,
        )
    return email
