"""Where the Marketo sync stands, as the Integrations page shows it: the phase, the records, the counts, the last
error with its time, and the skipped records with their reason, read from the sync's own checkpoints."""

from __future__ import annotations

from datetime import timedelta

from integrations.connect_support import SECRET
from overture.db import Database
from overture.integrations.marketo.fake_data import stamp
from overture.integrations.marketo.status import sync_status
from overture.integrations.marketo.sync_run import run_job
from overture.settings import Settings

from .client_support import START, Clock, StartMarketo
from .wire_support import clocked_world, connect

LEADS, COMPANIES = 300, 10


def test_after_the_initial_sync_the_status_is_up_to_date_with_the_counts_and_each_skipped_record_and_its_reason(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    bad = fake.add_lead(email="nobody@", createdAt=stamp(START - timedelta(days=3)))
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)
        run_job(db, world)
    with db.read() as session:
        status = sync_status(session, clock())
    assert status is not None
    assert (status.phase, status.state, status.in_progress) == ("changes", "done", False)
    assert (status.leads.created, status.leads.skipped, status.companies.created) == (LEADS, 1, COMPANIES)
    assert [(skip.kind, skip.remote_id, skip.reason) for skip in status.skips] == [
        ("lead", str(bad), "email: 'nobody@' is not a valid email address.")
    ]
    assert status.last_error is None


def test_a_failed_export_is_the_last_error_with_its_time_while_the_initial_sync_stays_in_progress(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    fake.fail_next_bulk_job("Export failed: internal error")
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)
        assert run_job(db, world) is None, "the job logs the failure, it does not raise it"
        failed_at = clock()
    with db.read() as session:
        status = sync_status(session, clock())
    assert status is not None
    assert (status.phase, status.state, status.in_progress, status.windows_done) == ("leads", "failed", True, 0)
    assert status.last_error is not None and "internal error" in status.last_error
    assert status.last_error_at == failed_at
