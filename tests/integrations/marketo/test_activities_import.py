"""Marketo activities into the activity log, against the fake: the activities of synced leads arrive with their
type, what they are about and Marketo's date, once each whether the import runs again, reads pages again or is
killed in the middle of a page; empty pages are followed; leads that are not people here are skipped and counted;
a Marketo failure is kept on the checkpoint and the next run goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

import overture
from overture.activities.models import Activity
from overture.db import Database
from overture.integrations.marketo.activities_import import PHASE, import_activities
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.marketo.errors import QuotaExhausted
from overture.integrations.marketo.sync import sync_marketo
from overture.integrations.marketo.sync_models import MarketoSyncState
from overture.people.models import Person

from .client_support import START, Clock, StartMarketo, marketo

VISIT, FORM, CLICK_LINK, SEND_EMAIL, OPEN_EMAIL, CLICK_EMAIL, PROGRAM_STATUS = 1, 2, 3, 6, 10, 11, 104
CREATED = "2024-12-20T00:00:00Z"  # the leads' createdAt: inside the one window the sync below exports
ACTIVITIES = "/rest/v1/activities.json"

Row = tuple[str, str, datetime]


def sync_leads(db: Database, client: MarketoClient) -> None:
    """The leads sync (the phase before this one): the fake's leads become people."""
    sync_marketo(db, client, start=START - timedelta(days=30))


def recorded(db: Database) -> list[tuple[str, str, datetime, str]]:
    """(email, type, subject, time) of every Marketo activity recorded, oldest first."""
    with db.read() as session:
        rows = session.execute(
            select(Person.email, Activity.type, Activity.attributes, Activity.occurred_at)
            .join(Person, Person.id == Activity.person_id)
            .where(Activity.type.like("marketo.%"))
            .order_by(Activity.occurred_at, Activity.id)
        ).all()
    return [(email or "", kind, attributes["subject"], at) for email, kind, attributes, at in rows]


def guids(db: Database) -> list[str]:
    with db.read() as session:
        found = session.scalars(select(Activity.attributes).where(Activity.type.like("marketo.%"))).all()
    return sorted(attributes["marketo_guid"] for attributes in found)


def checkpoint(db: Database) -> MarketoSyncState:
    with db.read() as session:
        return session.scalars(select(MarketoSyncState).where(MarketoSyncState.phase == PHASE)).one()


def ago(**delta: float) -> datetime:
    return START - timedelta(**delta)


def test_the_activities_of_a_synced_lead_arrive_with_their_type_what_they_are_about_and_marketos_date(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        fake.add_activity(ann, VISIT, ago(days=6), "www.example.com/pricing", {"Webpage URL": "/pricing"})
        fake.add_activity(ann, FORM, ago(days=5), "Webinar Registration")
        fake.add_activity(ann, CLICK_LINK, ago(days=4), "https://www.example.com/guide.pdf")
        fake.add_activity(ann, SEND_EMAIL, ago(days=3, hours=1), "Spring Webinar Invite.Email 1")  # not imported
        fake.add_activity(ann, OPEN_EMAIL, ago(days=3), "Spring Webinar Invite.Email 1")
        fake.add_activity(ann, CLICK_EMAIL, ago(days=2), "Spring Webinar Invite.Email 1",
                          {"Link": "https://www.example.com/webinars/spring-launch"})  # fmt: skip
        fake.add_activity(ann, PROGRAM_STATUS, ago(days=1), "Spring Webinar",
                          {"New Status": "Attended", "Old Status": "Registered"})  # fmt: skip
        fake.add_activity(ann, VISIT, ago(days=120), "www.example.com/old")  # before the 90 days read
        counts = import_activities(db, client)
    assert recorded(db) == [
        ("ann@example.com", "marketo.visited_web_page", "www.example.com/pricing", ago(days=6)),
        ("ann@example.com", "marketo.filled_out_form", "Webinar Registration", ago(days=5)),
        ("ann@example.com", "marketo.clicked_link", "https://www.example.com/guide.pdf", ago(days=4)),
        ("ann@example.com", "marketo.opened_email", "Spring Webinar Invite.Email 1", ago(days=3)),
        ("ann@example.com", "marketo.clicked_email", "Spring Webinar Invite.Email 1", ago(days=2)),
        ("ann@example.com", "marketo.changed_program_status", "Spring Webinar / Attended", ago(days=1)),
    ]
    assert (counts.recorded, counts.already, counts.not_a_person) == (6, 0, 0)
    with db.read() as session:
        status = session.scalars(
            select(Activity.attributes).where(Activity.type == "marketo.changed_program_status")
        ).one()
    assert (status["program"], status["status"], status["old_status"]) == ("Spring Webinar", "Attended", "Registered")
    assert checkpoint(db).status == "done"


def test_running_the_import_again_reads_only_what_is_new_and_records_nothing_twice(
    db: Database, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        for day in range(5, 0, -1):
            fake.add_activity(ann, VISIT, ago(days=day), f"www.example.com/page-{day}")
        first = import_activities(db, client)
        clock.advance(300)
        later = fake.add_activity(ann, OPEN_EMAIL, START + timedelta(minutes=2), "Trial Nurture.Day 3")
        again = import_activities(db, client)
    assert (first.recorded, again.recorded, again.already) == (5, 1, 0)
    assert len(recorded(db)) == 6 and str(later) in guids(db)


def test_pages_read_again_once_the_checkpoint_is_gone_record_nothing_twice(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        for day in range(8, 0, -1):
            fake.add_activity(ann, CLICK_EMAIL, ago(days=day), "Product Newsletter - March")
        fake.activity_window = 3
        import_activities(db, client)
        with db.write() as session:
            session.execute(delete(MarketoSyncState).where(MarketoSyncState.phase == PHASE))
        again = import_activities(db, client)
    assert (again.recorded, again.already) == (0, 8)
    assert len(guids(db)) == len(set(guids(db))) == 8


def test_empty_pages_that_say_more_follow_are_read_through_to_the_last_activity(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        # Nine activities of a type not imported, then two that are: with Marketo scanning three ids a page, the
        # first three pages are empty (moreResult true) and the fourth holds both.
        for minute in range(9):
            fake.add_activity(ann, SEND_EMAIL, ago(days=2, minutes=-minute), "Product Newsletter - March")
        wanted = [fake.add_activity(ann, OPEN_EMAIL, ago(days=1, minutes=-i), "Product Newsletter - March")
                  for i in range(2)]  # fmt: skip
        fake.activity_window = 3
        counts = import_activities(db, client)
    assert (counts.pages, counts.recorded) == (4, 2)
    assert guids(db) == sorted(str(guid) for guid in wanted)


def test_the_activities_of_a_lead_that_is_not_a_person_here_are_skipped_and_counted(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        bob = fake.add_lead(email="bob@example.com")  # created in Marketo after the sync: not a person here
        fake.add_activity(ann, FORM, ago(days=2), "Contact Us")
        fake.add_activity(bob, FORM, ago(days=2), "Contact Us")
        fake.add_activity(bob, VISIT, ago(days=1), "www.example.com/")
        counts = import_activities(db, client)
    assert (counts.recorded, counts.not_a_person) == (1, 2)
    assert [row[0] for row in recorded(db)] == ["ann@example.com"]
    assert (checkpoint(db).created, checkpoint(db).skipped) == (1, 2)


def test_a_marketo_failure_is_kept_on_the_checkpoint_and_the_next_run_goes_on_after_the_last_page(
    db: Database, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        sync_leads(db, client)
        for day in range(6, 0, -1):
            fake.add_activity(ann, OPEN_EMAIL, ago(days=day), "Trial Nurture.Day 3")
        fake.activity_window = 2

        def quota_used_after_two_pages(phase: str, done: int, total: int | None) -> None:
            if done == 4:
                fake.fail_next("607", path=ACTIVITIES)

        with pytest.raises(QuotaExhausted):
            import_activities(db, client, progress=quota_used_after_two_pages)
        stopped = checkpoint(db)
        clock.advance(24 * 3600)  # Marketo's daily quota is reset
        counts = import_activities(db, client)
    assert (stopped.status, stopped.rows_applied) == ("failed", 4) and "quota" in (stopped.last_error or "")
    assert (counts.recorded, counts.already) == (2, 0) and len(guids(db)) == 6
    assert (checkpoint(db).status, checkpoint(db).last_error) == ("done", None)


# The import in a process of its own, killed (SIGKILL, no cleanup) in the middle of its third page: the page's
# activities are written but not committed, and nor is the checkpoint after it.
KILLED_IN_THE_THIRD_PAGE = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    from overture.db import Database
    from overture.http import HttpClient
    from overture.integrations.marketo import activities_import
    from overture.integrations.marketo.client import MarketoClient

    pages = []
    real = activities_import.record_page

    def record_then_die(session, items):
        counts = real(session, items)
        session.flush()
        pages.append(counts)
        if len(pages) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return counts

    activities_import.record_page = record_then_die
    now = datetime.fromisoformat(sys.argv[3])
    with HttpClient(allow_private=True) as http:
        client = MarketoClient(sys.argv[2], "overture", "secret", http=http, clock=lambda: now, sleep=lambda s: None)
        activities_import.import_activities(Database.from_url(sys.argv[1]), client)
    """
)


def test_an_import_killed_in_the_middle_of_a_page_resumes_at_that_page_and_records_each_activity_once(
    db: Database, database_url: str, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        bob = fake.add_lead(email="bob@example.com", createdAt=CREATED)
        sync_leads(db, client)
        every = [
            fake.add_activity(lead, VISIT, ago(days=10, hours=-hour), f"www.example.com/{hour}")
            for hour in range(12)
            for lead in (ann, bob)
        ]
        fake.activity_window = 4
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_IN_THE_THIRD_PAGE, database_url, fake.url, START.isoformat()],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(Path(overture.__file__).parents[1])},  # this source tree
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert len(guids(db)) == 8 and checkpoint(db).rows_applied == 8, "two pages committed with their token"
        counts = import_activities(db, client)
    assert (counts.recorded, counts.already) == (16, 0), "the run went on at the third page"
    assert guids(db) == sorted(str(guid) for guid in every)
