"""The visitor's reminders before a meeting (default 24 h and 1 h), at the edges of their windows, with `now` given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from overture.db import Database
from overture.mail.models import OutboxMessage
from overture.scheduling import notices
from overture.scheduling.models import Meeting

from .rows import BASE_URL, SECRET_KEY, make_agent, make_meeting, make_person

START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LEADS = [1440, 60]


def meeting_at(db: Database, start: datetime = START, **fields: object) -> int:
    with db.write() as session:
        rita = make_agent(session, "rita@example.com", "Rita Rep", meeting_link="https://meet.example.com/rita-rep")
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        return make_meeting(session, rita, start, person=chloe, title="Product demo", **fields).id


def remind(db: Database, now: datetime, leads: list[int] = LEADS) -> int:
    with db.write() as session:
        return notices.queue_due_reminders(session, now, leads, base_url=BASE_URL, secret_key=SECRET_KEY)


def reminders(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sent_leads(db: Database, meeting_id: int) -> list[int]:
    with db.read() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return list(meeting.reminders_sent)


def test_the_day_before_reminder_goes_at_24_hours_not_a_minute_sooner_and_once(db: Database) -> None:
    meeting_id = meeting_at(db)

    assert remind(db, START - timedelta(hours=24, minutes=1)) == 0
    assert remind(db, START - timedelta(hours=24)) == 1
    assert remind(db, START - timedelta(hours=24)) == 0
    assert remind(db, START - timedelta(hours=2)) == 0

    (reminder,) = reminders(db)
    assert reminder.to == ["chloe@customer.example"]
    assert reminder.kind == "meeting_notice"
    assert reminder.subject == "Reminder: Product demo — Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)"
    assert "starts in 24 hours, on Tuesday 10 March 2026 at 16:00 CET (Europe/Paris)" in reminder.text_body
    assert sent_leads(db, meeting_id) == [1440]


def test_the_hour_before_reminder_goes_at_one_hour_once(db: Database) -> None:
    meeting_id = meeting_at(db)
    remind(db, START - timedelta(hours=24))

    assert remind(db, START - timedelta(minutes=61)) == 0
    assert remind(db, START - timedelta(minutes=60)) == 1
    assert remind(db, START - timedelta(minutes=1)) == 0

    last = reminders(db)[-1]
    assert "with Rita Rep starts in 1 hour" in last.text_body
    assert "Join the meeting: https://meet.example.com/rita-rep" in last.text_body
    assert f"Can't make it? {BASE_URL}/meetings/link/" in last.text_body
    assert sent_leads(db, meeting_id) == [1440, 60]


def test_a_meeting_booked_30_minutes_ahead_gets_one_reminder_not_the_day_before_one(db: Database) -> None:
    now = START - timedelta(minutes=30)
    meeting_id = meeting_at(db)

    assert remind(db, now) == 1
    assert remind(db, now + timedelta(minutes=5)) == 0

    (reminder,) = reminders(db)
    assert "starts in 30 minutes" in reminder.text_body
    assert sent_leads(db, meeting_id) == [1440, 60]


def test_a_late_job_still_sends_the_reminder_before_the_start_but_never_after(db: Database) -> None:
    meeting_at(db)
    assert remind(db, START) == 0, "the meeting has started"
    assert remind(db, START - timedelta(minutes=3)) == 1
    assert "starts in 3 minutes" in reminders(db)[0].text_body


def test_cancelled_meetings_and_meetings_with_an_outcome_get_no_reminder(db: Database) -> None:
    meeting_at(db, status="cancelled")
    with db.write() as session:
        other = make_agent(session, "ann@example.com", "Ann")
        make_meeting(session, other, START, person=make_person(session, "zoe@customer.example"), status="held")

    assert remind(db, START - timedelta(minutes=30)) == 0
    assert reminders(db) == []


def test_a_rescheduled_meeting_is_reminded_of_its_new_time(db: Database) -> None:
    meeting_at(db, status="rescheduled")
    assert remind(db, START - timedelta(minutes=59)) == 1


def test_no_reminder_is_configured_no_reminder_is_sent(db: Database) -> None:
    meeting_at(db)
    assert remind(db, START - timedelta(minutes=30), leads=[]) == 0


def test_a_visitor_without_email_is_not_reminded_and_is_not_tried_again(db: Database) -> None:
    with db.write() as session:
        meeting_id = make_meeting(
            session, make_agent(session, "rita@example.com", "Rita Rep"), START, person=make_person(session, None)
        ).id

    assert remind(db, START - timedelta(minutes=30)) == 0
    assert sent_leads(db, meeting_id) == [1440, 60]
