"""The Marketo inbound sync against the fake: a full sync ends with the exact records, once each, whatever Marketo
refuses on the way, a failed export, or a kill -9 in the middle of a file; the incremental sync brings changes and
new leads under the conflict rule; records that cannot be applied are listed with their reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import overture
from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.db import Database
from overture.integrations.marketo.errors import ExportFailed
from overture.integrations.marketo.sync import sync_marketo
from overture.integrations.marketo.sync_models import IntegrationRecord, MarketoSyncSkip, MarketoSyncState
from overture.people.models import Company, Person

from .client_support import START, Clock, StartMarketo, calls_to, marketo

SINCE = START - timedelta(days=740)  # the fake's leads were created over the two years before START
LEADS, COMPANIES, BATCH = 1500, 40, 200


def counts(db: Database) -> tuple[int, int, int, int]:
    """People, companies, people without a company, integration records."""
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(Company)) or 0,
            session.scalar(select(func.count()).select_from(Person).where(Person.company_id.is_(None))) or 0,
            session.scalar(select(func.count()).select_from(IntegrationRecord)) or 0,
        )


def person(db: Database, email: str) -> Person:
    with db.read() as session:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None, email
        return found


EXACT = (LEADS, COMPANIES, 0, LEADS + COMPANIES)


def test_a_full_sync_creates_every_lead_and_company_once_with_each_person_in_their_company(
    db: Database, start_marketo: StartMarketo
) -> None:
    seen: list[tuple[str, int, int | None]] = []
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (fake, client):
        summary = sync_marketo(db, client, start=SINCE, batch_rows=BATCH, progress=lambda *args: seen.append(args))
        first = fake.lead(1)
    assert (summary.leads.created, summary.companies.created, summary.leads.skipped) == (LEADS, COMPANIES, 0)
    assert counts(db) == EXACT
    assert first is not None
    ada = person(db, first["email"])
    assert (ada.first_name, ada.last_name) == (first["firstName"], first["lastName"])
    with db.read() as session:
        company = session.get(Company, ada.company_id)
    assert company is not None and company.name == first["company"]
    assert [args for args in seen if args[0] == "companies"][-1] == ("companies", COMPANIES, COMPANIES)
    assert max(done for phase, done, _ in seen if phase == "leads") == LEADS


def test_without_a_start_the_initial_sync_starts_the_day_the_oldest_lead_was_created_not_in_2006(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (fake, client):
        oldest = fake.lead(1)
        summary = sync_marketo(db, client, batch_rows=BATCH)
    with db.read() as session:
        windows = session.scalars(
            select(MarketoSyncState.window_start).where(MarketoSyncState.phase == "leads").order_by("window_start")
        ).all()
    assert oldest is not None
    assert windows[0].date().isoformat() == oldest["createdAt"][:10]
    assert len(windows) == 24  # two years of leads in 31-day windows (from 2006: 245)
    assert summary.leads.created == LEADS


def test_running_the_sync_again_in_full_creates_nothing_twice(db: Database, start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (_, client):
        sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
        again = sync_marketo(db, client, start=SINCE, batch_rows=BATCH, full=True)
    assert (again.leads.created, again.companies.created) == (0, 0)
    assert again.leads.unchanged == LEADS
    assert counts(db) == EXACT


def test_rate_and_concurrency_refusals_and_server_errors_on_the_way_still_end_with_the_exact_records(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (fake, client):
        fake.fail_next("606", times=2, path="/bulk/")
        fake.fail_next("615", times=2, path="/rest/v1/companies")
        fake.fail_http_next(502, times=2, path="file.json")
        fake.fail_http_next(503, times=1, path="status.json")
        summary = sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
    assert (summary.leads.created, summary.companies.created) == (LEADS, COMPANIES)
    assert counts(db) == EXACT


def test_a_failed_bulk_export_stops_with_marketos_reason_and_the_next_run_completes_from_the_checkpoint(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (fake, client):
        fake.fail_next_bulk_job("Export failed: internal error")
        with pytest.raises(ExportFailed, match="internal error"):
            sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
        with db.read() as session:
            failed = session.scalars(select(MarketoSyncState).where(MarketoSyncState.status == "failed")).one()
        assert failed.last_error is not None and "internal error" in failed.last_error
        summary = sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
    assert summary.leads.created == LEADS
    assert counts(db) == EXACT


# The sync in a process of its own, killed (SIGKILL, no cleanup) while it applies the third batch of a file: two
# batches are committed with their checkpoint, the third is not.
KILLED_IN_THE_THIRD_BATCH = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime, timedelta
    from overture.db import Database
    from overture.http import HttpClient
    from overture.integrations.marketo import sync
    from overture.integrations.marketo.client import MarketoClient

    applied = []
    real = sync.apply_leads

    def apply_then_die(*args, **kwargs):
        counts = real(*args, **kwargs)
        applied.append(counts)
        if len(applied) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return counts

    sync.apply_leads = apply_then_die
    now = datetime.fromisoformat(sys.argv[3])
    with HttpClient(allow_private=True) as http:
        client = MarketoClient(sys.argv[2], "overture", "secret", http=http, clock=lambda: now, sleep=lambda s: None)
        sync.sync_marketo(Database.from_url(sys.argv[1]), client, start=datetime.fromisoformat(sys.argv[4]),
                          batch_rows=int(sys.argv[5]))
    """
)


def test_a_sync_killed_in_the_middle_of_a_bulk_file_resumes_from_its_checkpoint_and_ends_with_the_exact_records(
    db: Database, database_url: str, start_marketo: StartMarketo
) -> None:
    # Few windows hold all the leads, so that a file has more than three batches.
    with marketo(start_marketo, Clock(), leads=LEADS, companies=COMPANIES) as (fake, client):
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_IN_THE_THIRD_BATCH, database_url, fake.url, START.isoformat(),
             SINCE.isoformat(), "50"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(Path(overture.__file__).parents[1])},  # this source tree
        )  # fmt: skip
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        with db.read() as session:
            states = session.scalars(select(MarketoSyncState).where(MarketoSyncState.phase == "leads")).all()
        applied = sum(state.rows_applied for state in states)
        [killed_in] = [state for state in states if state.status == "running"]
        assert killed_in.byte_offset > 0 and counts(db)[0] == applied, "each batch committed with its checkpoint"
        exports = len(fake.export_jobs)
        summary = sync_marketo(db, client, start=SINCE, batch_rows=50)
        new_exports = len(fake.export_jobs) - exports
    assert summary.leads.created == LEADS - applied
    assert counts(db) == EXACT
    left = sum(1 for state in states if state.status == "pending")
    assert new_exports == left, "the window killed mid-file went on with its own export"


def captured(db: Database, email: str, field: str, value: Any, at: Any) -> None:
    """`email`'s person gave `value` for `field` in chat at `at`."""
    with db.write() as session:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        setattr(found, field.removeprefix("person."), value)
        session.add(
            Activity(person_id=found.id, type=ActivityType.field_captured.value, occurred_at=at,
                     session_number=1, attributes={"field": field, "value": value})
        )  # fmt: skip


def test_a_value_captured_in_chat_after_marketos_last_change_wins_and_an_older_one_gives_way(
    db: Database, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=300, companies=10) as (fake, client):
        sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
        newer, older = fake.lead(1), fake.lead(2)
        assert newer is not None and older is not None
        captured(db, newer["email"], "person.first_name", "Chatty", START + timedelta(hours=2))
        captured(db, older["email"], "person.first_name", "Stale", START + timedelta(minutes=30))
        fake.change_lead(1, START + timedelta(hours=1), firstName="FromMarketo")
        fake.change_lead(2, START + timedelta(hours=1), firstName="FromMarketo")
        clock.advance(3 * 3600)
        summary = sync_marketo(db, client, start=SINCE)
    assert summary.changes == 1
    assert person(db, newer["email"]).first_name == "Chatty"
    assert person(db, older["email"]).first_name == "FromMarketo"


def test_a_lead_created_after_the_initial_sync_arrives_with_the_next_run_in_its_company(
    db: Database, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=300, companies=10) as (fake, client):
        sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
        company = fake.company(3)
        assert company is not None
        clock.advance(60)
        client.sync_leads([{"email": "nia@later.example", "firstName": "Nia", "externalCompanyId": "ACCT-000003"}])
        clock.advance(60)
        summary = sync_marketo(db, client, start=SINCE)
    assert summary.leads.created == 1
    nia = person(db, "nia@later.example")
    with db.read() as session:
        joined = session.get(Company, nia.company_id)
    assert nia.first_name == "Nia" and joined is not None and joined.name == company["company"]
    assert counts(db)[:2] == (301, 10)


def test_records_that_cannot_be_applied_are_skipped_with_their_reason_and_the_others_synced(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock(), leads=300, companies=10) as (fake, client):
        bad_email = fake.add_lead(email="not-an-email", firstName="Bo", createdAt="2024-06-01T00:00:00Z")
        long_title = fake.add_lead(email="long@acme.example", title="T" * 300, createdAt="2024-06-02T00:00:00Z")
        summary = sync_marketo(db, client, start=SINCE, batch_rows=BATCH)
        assert calls_to(fake, "/rest/v1/companies.json") >= 1
    assert summary.leads.created == 300 and summary.leads.skipped == 2
    with db.read() as session:
        skips = {skip.remote_id: skip.reason for skip in session.scalars(select(MarketoSyncSkip))}
    assert skips == {
        str(bad_email): "email: 'not-an-email' is not a valid email address.",
        str(long_title): "title: This text has 300 characters; the field holds at most 200.",
    }
    assert counts(db)[0] == 300
