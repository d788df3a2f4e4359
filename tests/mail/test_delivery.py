"""The outbox end to end: queue in a transaction, deliver to a real SMTP server (aiosmtpd), retry, give up."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from sqlalchemy import event

from overture.db import Database, utcnow
from overture.jobs import make_sender
from overture.mail.models import OutboxMessage
from overture.mail.schemas import Attachment, NewMessage
from overture.mail.service import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    DeliveryReport,
    deliver_due,
    enqueue,
    get_message,
    list_messages,
    retry_delay,
    retry_message,
)
from overture.mail.smtp import SmtpSender
from overture.settings import Settings

from smtp_server import SMTP_PASSWORD, SMTP_USERNAME, SmtpServer, closed_port
from support import ENGINE

MAIL_FROM = "Overture <overture@example.org>"
INVITE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:meeting-42@example.org\r\n"
    "SUMMARY:Démo avec Chloé\r\nDTSTART:20300115T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
PDF = bytes(range(256)) * 4


# The SMTP fixtures live here, not in tests/mail/conftest.py: a second conftest module would shadow the root one
# for every `from support import ...` in the test modules collected after it.


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS, no AUTH) that accepts everything until told otherwise."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def starttls_server(smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    """A server that refuses mail until the client has switched to TLS with STARTTLS."""
    with SmtpServer(ca=smtp_ca, require_starttls=True) as server:
        yield server


@pytest.fixture
def auth_server(smtp_ca: trustme.CA) -> Iterator[SmtpServer]:
    """A STARTTLS server that accepts mail only from SMTP_USERNAME with SMTP_PASSWORD."""
    with SmtpServer(ca=smtp_ca, require_starttls=True, username=SMTP_USERNAME, password=SMTP_PASSWORD) as server:
        yield server


def queue(db: Database, **fields: Any) -> int:
    """Queues one message in its own committed transaction; returns its id."""
    data: dict[str, Any] = {"to": ["visitor@example.com"], "subject": "Your meeting", "text_body": "See you.\n"}
    with db.write() as session:
        return enqueue(session, NewMessage(**{**data, **fields})).id


def stored(db: Database, message_id: int) -> OutboxMessage:
    with db.read() as session:
        return get_message(session, message_id)


def plain_sender(server: SmtpServer) -> SmtpSender:
    return SmtpSender(host=server.host, port=server.port, security="none", timeout=5)


def tls_sender(server: SmtpServer, **credentials: str) -> SmtpSender:
    return SmtpSender(
        host=server.host,
        port=server.port,
        security="starttls",
        timeout=5,
        ssl_context=server.client_ssl_context(),
        **credentials,
    )


class WorkerDied(Exception):
    """Not a mail error: stands for a worker process killed in the middle of sending."""


class DyingSender:
    def send(self, email: EmailMessage) -> None:
        raise WorkerDied("killed while sending")


class CountingSender:
    """Records every message handed to it, with the thread that sent it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send(self, email: EmailMessage) -> None:
        with self._lock:
            self.sent.append((str(email["Subject"]), threading.current_thread().name))


# --- queueing ----------------------------------------------------------------------------------------------


def test_a_message_queued_in_a_transaction_that_rolls_back_is_not_in_the_outbox(db: Database) -> None:
    class SignupFailed(Exception):
        pass

    with pytest.raises(SignupFailed), db.write() as session:
        enqueue(session, NewMessage(to=["visitor@example.com"], subject="Welcome", text_body="Hello"))
        raise SignupFailed()

    with db.read() as session:
        assert list_messages(session) == ([], 0)
    assert deliver_due(db, None, MAIL_FROM, utcnow()) == DeliveryReport()


def test_a_message_queued_in_a_committed_transaction_is_in_the_outbox_waiting(db: Database) -> None:
    message_id = queue(
        db,
        to=["visitor@example.com", "boss@example.com"],
        subject="Welcome",
        attachments=[Attachment(filename="invite.ics", content_type="text/calendar; method=REQUEST", content=INVITE)],
    )

    with db.read() as session:
        messages, total = list_messages(session)
    assert total == 1
    [message] = messages
    assert message.id == message_id
    assert (message.subject, message.to, message.status, message.attempts) == (
        "Welcome",
        ["visitor@example.com", "boss@example.com"],
        "pending",
        0,
    )
    assert [(a.filename, a.content) for a in message.attachments] == [("invite.ics", INVITE)]


def test_the_outbox_lists_the_newest_messages_first(db: Database) -> None:
    first = queue(db, subject="First")
    second = queue(db, subject="Second")

    with db.read() as session:
        messages, total = list_messages(session)
        newest, _ = list_messages(session, limit=1)
        older, _ = list_messages(session, limit=1, offset=1)

    assert total == 2
    assert [m.id for m in messages] == [second, first]
    assert [m.subject for m in newest + older] == ["Second", "First"]


# --- without SMTP --------------------------------------------------------------------------------------------


def test_without_an_smtp_server_due_messages_are_kept_in_the_outbox(db: Database) -> None:
    message_id = queue(db)

    report = deliver_due(db, None, MAIL_FROM, utcnow())

    assert report == DeliveryReport(kept=1)
    message = stored(db, message_id)
    assert (message.status, message.attempts, message.sent_at) == ("kept", 0, None)
    assert deliver_due(db, None, MAIL_FROM, utcnow() + timedelta(days=1)) == DeliveryReport(), "kept is not retried"


def test_make_sender_keeps_mail_without_an_smtp_host_and_sends_with_one(
    db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    assert make_sender(settings) is None

    settings.smtp_host = smtp_server.host
    settings.smtp_port = smtp_server.port
    settings.smtp_security = "none"
    queue(db, subject="Configured")
    report = deliver_due(db, make_sender(settings), settings.mail_from, utcnow())

    assert report == DeliveryReport(sent=1)
    assert [r.email["Subject"] for r in smtp_server.received] == ["Configured"]


# --- delivery to a real SMTP server -----------------------------------------------------------------------------


def test_the_smtp_server_receives_the_text_the_html_alternative_and_an_intact_invitation(
    db: Database, smtp_server: SmtpServer
) -> None:
    queue(
        db,
        to=["visitor@example.com", "boss@example.com"],
        subject="Votre rendez-vous — mardi",
        text_body="Bonjour Chloé,\nà mardi.\n",
        html_body="<p>Bonjour Chloé,<br>à mardi.</p>\n",
        kind="meeting_invitation",
        attachments=[
            Attachment(filename="invite.ics", content_type="text/calendar; method=REQUEST", content=INVITE),
            Attachment(filename="agenda.pdf", content_type="application/pdf", content=PDF),
        ],
    )

    deliver_due(db, plain_sender(smtp_server), MAIL_FROM, utcnow())

    [received] = smtp_server.received
    assert received.mail_from == "overture@example.org"
    assert received.rcpt_tos == ["visitor@example.com", "boss@example.com"]
    mail = received.email
    assert mail["From"] == MAIL_FROM
    assert mail["To"] == "visitor@example.com, boss@example.com"
    assert mail["Subject"] == "Votre rendez-vous — mardi"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == "Bonjour Chloé,\nà mardi.\n"
    assert html.get_content().replace("\r\n", "\n") == "<p>Bonjour Chloé,<br>à mardi.</p>\n"
    invite, pdf = mail.iter_attachments()
    assert invite.get_filename() == "invite.ics"
    assert invite.get_content_type() == "text/calendar"
    assert invite.get_param("method") == "REQUEST"
    assert invite.get_payload(decode=True) == INVITE
    assert pdf.get_filename() == "agenda.pdf"
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_payload(decode=True) == PDF


def test_a_delivered_message_is_sent_at_the_delivery_time_after_one_attempt(
    db: Database, smtp_server: SmtpServer
) -> None:
    message_id = queue(db)
    now = utcnow()

    report = deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now)

    assert report == DeliveryReport(sent=1)
    message = stored(db, message_id)
    assert (message.status, message.sent_at, message.attempts, message.last_error) == ("sent", now, 1, None)
    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now + timedelta(days=1)) == DeliveryReport()
    assert len(smtp_server.received) == 1, "a sent message is not sent again"


def test_delivery_sends_at_most_limit_messages_oldest_first(db: Database, smtp_server: SmtpServer) -> None:
    for subject in ("One", "Two", "Three"):
        queue(db, subject=subject)
    now = utcnow()

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now, limit=2) == DeliveryReport(sent=2)
    assert [r.email["Subject"] for r in smtp_server.received] == ["One", "Two"]
    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now, limit=2) == DeliveryReport(sent=1)
    assert [r.email["Subject"] for r in smtp_server.received] == ["One", "Two", "Three"]


def test_starttls_delivers_over_tls_to_a_server_whose_authority_the_context_trusts(
    db: Database, starttls_server: SmtpServer
) -> None:
    message_id = queue(db)

    report = deliver_due(db, tls_sender(starttls_server), MAIL_FROM, utcnow())

    assert report == DeliveryReport(sent=1)
    [received] = starttls_server.received
    assert received.over_tls
    assert stored(db, message_id).status == "sent"


def test_a_server_certificate_from_an_unknown_authority_is_refused_and_retried(
    db: Database, starttls_server: SmtpServer
) -> None:
    message_id = queue(db)
    trusting_another_ca = ssl.create_default_context()
    trustme.CA().configure_trust(trusting_another_ca)
    sender = SmtpSender(
        host=starttls_server.host,
        port=starttls_server.port,
        security="starttls",
        timeout=5,
        ssl_context=trusting_another_ca,
    )

    report = deliver_due(db, sender, MAIL_FROM, utcnow())

    assert report == DeliveryReport(retried=1)
    assert starttls_server.received == []
    message = stored(db, message_id)
    assert message.status == "pending"
    assert message.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in message.last_error


def test_a_starttls_sender_facing_a_server_without_starttls_is_retried_with_the_reason(
    db: Database, smtp_server: SmtpServer
) -> None:
    message_id = queue(db)
    sender = SmtpSender(host=smtp_server.host, port=smtp_server.port, security="starttls", timeout=5)

    assert deliver_due(db, sender, MAIL_FROM, utcnow()) == DeliveryReport(retried=1)

    assert smtp_server.received == [], "never sent in clear text"
    message = stored(db, message_id)
    assert message.status == "pending"
    assert message.last_error is not None and "STARTTLS" in message.last_error


def test_auth_with_the_right_user_name_and_password_delivers(db: Database, auth_server: SmtpServer) -> None:
    message_id = queue(db)
    sender = tls_sender(auth_server, username=SMTP_USERNAME, password=SMTP_PASSWORD)

    assert deliver_due(db, sender, MAIL_FROM, utcnow()) == DeliveryReport(sent=1)

    [received] = auth_server.received
    assert received.authenticated_as == SMTP_USERNAME
    assert stored(db, message_id).status == "sent"


def test_a_wrong_smtp_password_is_retried_with_a_clear_error(db: Database, auth_server: SmtpServer) -> None:
    message_id = queue(db)
    now = utcnow()
    sender = tls_sender(auth_server, username=SMTP_USERNAME, password="not the password")

    assert deliver_due(db, sender, MAIL_FROM, now) == DeliveryReport(retried=1)

    assert auth_server.received == []
    message = stored(db, message_id)
    assert (message.status, message.attempts, message.next_attempt_at) == ("pending", 1, now + retry_delay(1))
    assert message.last_error == "the server refused the SMTP user name or password (535)"


def test_sending_without_credentials_to_a_server_requiring_auth_is_retried_with_its_530_answer(
    db: Database, auth_server: SmtpServer
) -> None:
    message_id = queue(db)

    assert deliver_due(db, tls_sender(auth_server), MAIL_FROM, utcnow()) == DeliveryReport(retried=1)

    assert auth_server.received == []
    message = stored(db, message_id)
    assert message.status == "pending", "a missing SMTP user is a setting to fix; the message waits for it"
    assert message.last_error == "the server answered 530: 5.7.0 Authentication required"


# --- temporary and permanent failures ----------------------------------------------------------------------


def test_a_451_answer_keeps_the_message_pending_until_the_retry_delay_has_passed(
    db: Database, smtp_server: SmtpServer
) -> None:
    message_id = queue(db)
    now = utcnow()
    smtp_server.answer_data("451 4.3.0 Mailbox busy, try again later")

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now) == DeliveryReport(retried=1)

    message = stored(db, message_id)
    assert (message.status, message.attempts, message.sent_at) == ("pending", 1, None)
    assert message.next_attempt_at == now + retry_delay(1) > now
    assert message.last_error == "the server answered 451: 4.3.0 Mailbox busy, try again later"

    smtp_server.accept_everything()
    too_early = message.next_attempt_at - timedelta(seconds=1)
    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, too_early) == DeliveryReport()
    assert smtp_server.received == []

    later = message.next_attempt_at
    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, later) == DeliveryReport(sent=1)
    message = stored(db, message_id)
    assert (message.status, message.attempts, message.sent_at, message.last_error) == ("sent", 2, later, None)
    assert len(smtp_server.received) == 1


def test_an_unreachable_server_is_retried_with_growing_delays_then_the_message_fails(db: Database) -> None:
    message_id = queue(db)
    port = closed_port()
    sender = SmtpSender(host="127.0.0.1", port=port, security="none", timeout=5)
    now = utcnow()
    delays = []

    for attempt in range(1, MAX_ATTEMPTS):
        assert deliver_due(db, sender, MAIL_FROM, now) == DeliveryReport(retried=1)
        message = stored(db, message_id)
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.last_error is not None and message.last_error.startswith(f"cannot reach 127.0.0.1:{port}")
        delays.append(message.next_attempt_at - now)
        now = message.next_attempt_at

    assert delays == [timedelta(minutes=m) for m in (1, 4, 16, 64, 256)][: MAX_ATTEMPTS - 1]
    assert deliver_due(db, sender, MAIL_FROM, now) == DeliveryReport(failed=1)
    message = stored(db, message_id)
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert message.last_error is not None and f"127.0.0.1:{port}" in message.last_error
    assert deliver_due(db, sender, MAIL_FROM, now + timedelta(days=30)) == DeliveryReport(), "failed is final"


def test_a_recipient_refused_with_550_fails_at_once(db: Database, smtp_server: SmtpServer) -> None:
    message_id = queue(db, to=["nobody@example.com"])
    smtp_server.refuse_recipients("550 5.1.1 No such user here")

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, utcnow()) == DeliveryReport(failed=1)

    message = stored(db, message_id)
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "the server refused every recipient: nobody@example.com (550 5.1.1 No such user here)"


def test_a_message_refused_with_554_after_data_fails_at_once(db: Database, smtp_server: SmtpServer) -> None:
    message_id = queue(db)
    smtp_server.answer_data("554 5.7.1 Message rejected as spam")

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, utcnow()) == DeliveryReport(failed=1)

    message = stored(db, message_id)
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "the server answered 554: 5.7.1 Message rejected as spam"


def test_a_recipient_refused_temporarily_with_451_is_retried(db: Database, smtp_server: SmtpServer) -> None:
    message_id = queue(db)
    smtp_server.refuse_recipients("451 4.7.1 Greylisted, please try again later")

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, utcnow()) == DeliveryReport(retried=1)
    assert stored(db, message_id).status == "pending"


# --- several workers ---------------------------------------------------------------------------------------------


def test_two_workers_running_at_once_send_each_message_exactly_once(db: Database) -> None:
    subjects = [f"Message {n}" for n in range(12)]
    for subject in subjects:
        queue(db, subject=subject)
    now = utcnow()
    counting = CountingSender()
    # Each worker's first send waits until the other worker is also sending: both hold a claim at the same time.
    both_sending = threading.Barrier(2, timeout=10)
    waited: set[str] = set()

    class MeetingSender:
        def send(self, email: EmailMessage) -> None:
            name = threading.current_thread().name
            if name not in waited:
                waited.add(name)
                both_sending.wait()
            counting.send(email)

    def worker() -> DeliveryReport:
        return deliver_due(db, MeetingSender(), MAIL_FROM, now)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = [future.result() for future in [pool.submit(worker), pool.submit(worker)]]

    assert sorted(subject for subject, _ in counting.sent) == sorted(subjects)
    assert len({thread for _, thread in counting.sent}) == 2, "both workers sent something"
    assert sum(r.sent for r in reports) == len(subjects)
    with db.read() as session:
        messages, _ = list_messages(session)
    assert {(m.status, m.attempts) for m in messages} == {("sent", 1)}


def test_a_second_worker_does_not_take_a_message_the_first_one_is_sending(db: Database) -> None:
    message_id = queue(db)
    now = utcnow()
    counting = CountingSender()
    second_worker: list[DeliveryReport] = []

    class SenderThatStartsAnotherWorker:
        def send(self, email: EmailMessage) -> None:
            second_worker.append(deliver_due(db, counting, MAIL_FROM, now))
            counting.send(email)

    report = deliver_due(db, SenderThatStartsAnotherWorker(), MAIL_FROM, now)

    assert second_worker == [DeliveryReport()]
    assert report == DeliveryReport(sent=1)
    assert [subject for subject, _ in counting.sent] == ["Your meeting"]
    assert stored(db, message_id).status == "sent"


def test_a_worker_that_loses_the_race_for_a_message_sends_the_next_one_instead(db: Database) -> None:
    first = queue(db, subject="First")
    queue(db, subject="Second")
    now = utcnow()
    counting = CountingSender()
    raced: list[bool] = []

    def rival_claims_first(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        # Just before this worker's first claim (after it read its candidate), a rival claims that same row: the
        # rival's claim is played on this connection, so it works on SQLite too, where a second writer would wait.
        if statement.startswith("UPDATE") and not raced:
            raced.append(True)
            cursor.execute(
                "UPDATE outbox_messages SET status = 'sending', version = version + 1 WHERE id = ?"
                if ENGINE == "sqlite"
                else "UPDATE outbox_messages SET status = 'sending', version = version + 1 WHERE id = %s",
                (first,),
            )

    event.listen(db.engine, "before_cursor_execute", rival_claims_first)
    try:
        report = deliver_due(db, counting, MAIL_FROM, now)
    finally:
        event.remove(db.engine, "before_cursor_execute", rival_claims_first)

    assert raced == [True]
    assert report == DeliveryReport(sent=1)
    assert [subject for subject, _ in counting.sent] == ["Second"], "the claimed one is the rival's to send"
    assert stored(db, first).status == "sending"


def test_a_message_left_sending_by_a_dead_worker_is_taken_up_after_the_claim_timeout(db: Database) -> None:
    message_id = queue(db)
    claimed_at = utcnow()
    with pytest.raises(WorkerDied):
        deliver_due(db, DyingSender(), MAIL_FROM, claimed_at)
    assert stored(db, message_id).status == "sending"
    counting = CountingSender()

    just_before = claimed_at + CLAIM_TIMEOUT - timedelta(seconds=1)
    assert deliver_due(db, counting, MAIL_FROM, just_before) == DeliveryReport()
    assert counting.sent == []

    assert deliver_due(db, counting, MAIL_FROM, claimed_at + CLAIM_TIMEOUT) == DeliveryReport(sent=1)
    assert [subject for subject, _ in counting.sent] == ["Your meeting"]
    message = stored(db, message_id)
    assert (message.status, message.sent_at) == ("sent", claimed_at + CLAIM_TIMEOUT)


# --- sending again -----------------------------------------------------------------------------------------------


def test_send_again_puts_a_failed_message_back_in_the_queue(db: Database, smtp_server: SmtpServer) -> None:
    message_id = queue(db)
    smtp_server.refuse_recipients()
    now = utcnow()
    deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now)
    assert stored(db, message_id).status == "failed"

    smtp_server.accept_everything()
    later = now + timedelta(hours=1)
    with db.write() as session:
        retry_message(session, message_id, later)
    assert stored(db, message_id).status == "pending"

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, later) == DeliveryReport(sent=1)
    assert len(smtp_server.received) == 1
    assert stored(db, message_id).status == "sent"


def test_send_again_delivers_a_kept_message_once_smtp_is_configured(db: Database, smtp_server: SmtpServer) -> None:
    message_id = queue(db)
    now = utcnow()
    deliver_due(db, None, MAIL_FROM, now)
    assert stored(db, message_id).status == "kept"

    later = now + timedelta(days=2)
    with db.write() as session:
        retry_message(session, message_id, later)

    assert deliver_due(db, plain_sender(smtp_server), MAIL_FROM, later) == DeliveryReport(sent=1)
    message = stored(db, message_id)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 1, later)


def test_send_again_gives_a_message_that_used_up_its_attempts_a_fresh_set(
    db: Database, smtp_server: SmtpServer
) -> None:
    message_id = queue(db)
    now = utcnow()
    smtp_server.refuse_recipients("451 4.7.1 Greylisted")
    for attempt in range(MAX_ATTEMPTS):
        deliver_due(db, plain_sender(smtp_server), MAIL_FROM, now + timedelta(days=attempt))
    assert (stored(db, message_id).status, stored(db, message_id).attempts) == ("failed", MAX_ATTEMPTS)

    later = now + timedelta(days=30)
    with db.write() as session:
        retry_message(session, message_id, later)
    deliver_due(db, plain_sender(smtp_server), MAIL_FROM, later)

    message = stored(db, message_id)
    assert (message.status, message.attempts) == ("pending", 1), "one more temporary error is retried, not final"
