"""The outbox: queue a message inside the caller's transaction; deliver queued messages later, at least once.

Delivery claims one row at a time with compare-and-set, sends it outside any transaction, and records the result.
Without an SMTP server the messages are kept in the outbox, where the admin's Outbox page shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from overture.db import Database, Wake, wake_after_commit
from overture.errors import Conflict, NotFound
from overture.mail.compose import build_email
from overture.mail.models import OutboxAttachment, OutboxMessage
from overture.mail.schemas import NewMessage
from overture.mail.smtp import MailError, Sender

MAX_ATTEMPTS = 6
# A claimed message whose worker died is taken up again after this long.
CLAIM_TIMEOUT = timedelta(minutes=5)


def enqueue(session: Session, message: NewMessage) -> OutboxMessage:
    """Adds the message to the outbox, in the caller's transaction: it goes out only if that commits."""
    row = OutboxMessage(
        to=[str(address) for address in message.to],
        subject=message.subject,
        text_body=message.text_body,
        html_body=message.html_body,
        kind=message.kind,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in message.attachments
        ],
    )
    session.add(row)
    session.flush()
    # Whoever commits the session wakes a worker once the message is really in the outbox.
    wake_after_commit(session, Wake.mail)
    return row


def list_messages(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[OutboxMessage], int]:
    """The newest messages first, with their attachments, and the total count."""
    total = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    rows = session.scalars(
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.attachments))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def get_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id, options=[selectinload(OutboxMessage.attachments)])
    if message is None:
        raise NotFound(f"There is no message {message_id} in the outbox.")
    return message


def get_attachment(session: Session, message_id: int, attachment_id: int) -> OutboxAttachment:
    attachment = session.get(OutboxAttachment, attachment_id)
    if attachment is None or attachment.message_id != message_id:
        raise NotFound(f"Message {message_id} has no attachment {attachment_id}.")
    return attachment


@dataclass
class DeliveryReport:
    sent: int = 0
    kept: int = 0
    retried: int = 0
    failed: int = 0


def _claim_next(db: Database, now: datetime) -> OutboxMessage | None:
    """Claims the oldest due message for this worker; None when nothing is due."""
    while True:
        with db.write() as session:
            candidate = session.scalars(
                select(OutboxMessage)
                .options(selectinload(OutboxMessage.attachments))
                .where(
                    or_(
                        (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                        (OutboxMessage.status == "sending") & (OutboxMessage.next_attempt_at <= now - CLAIM_TIMEOUT),
                    )
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
            ).first()
            if candidate is None:
                return None
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == candidate.id, OutboxMessage.version == candidate.version)
                .values(status="sending", next_attempt_at=now, version=candidate.version + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                candidate.version += 1
                return candidate
        # Another worker won this row between our read and our update: look for the next one.


def _record(db: Database, message: OutboxMessage, **values: object) -> None:
    with db.write() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.version == message.version)
            .values(version=message.version + 1, **values)
            .execution_options(synchronize_session=False)
        )


def retry_delay(attempts: int) -> timedelta:
    """1, 4, 16, 64 minutes... between attempts."""
    return timedelta(minutes=4 ** (attempts - 1))


def deliver_due(db: Database, sender: Sender | None, mail_from: str, now: datetime, limit: int = 100) -> DeliveryReport:
    """Delivers up to `limit` due messages; with no sender, marks them kept. Never raises for a mail error."""
    report = DeliveryReport()
    for _ in range(limit):
        message = _claim_next(db, now)
        if message is None:
            break
        if sender is None:
            _record(db, message, status="kept")
            report.kept += 1
            continue
        attempts = message.attempts + 1
        try:
            sender.send(build_email(message, mail_from))
        except MailError as exc:
            if exc.permanent or attempts >= MAX_ATTEMPTS:
                _record(db, message, status="failed", attempts=attempts, last_error=str(exc))
                report.failed += 1
            else:
                _record(
                    db,
                    message,
                    status="pending",
                    attempts=attempts,
                    last_error=str(exc),
                    next_attempt_at=now + retry_delay(attempts),
                )
                report.retried += 1
            continue
        _record(db, message, status="sent", attempts=attempts, sent_at=now, last_error=None)
        report.sent += 1
    return report


def retry_message(session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """Puts a failed or kept message back in the queue with fresh attempts, e.g. after SMTP was configured.

    Raises Conflict for a message that is pending, being sent or sent: sending it again would send it twice.
    """
    message = get_message(session, message_id)
    if message.status not in ("failed", "kept"):
        raise Conflict(f"Message {message_id} is {message.status}; only failed or kept messages can be sent again.")
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = now
    message.version += 1
    return message
