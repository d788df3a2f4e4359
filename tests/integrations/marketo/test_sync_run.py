"""The Marketo sync as the periodic job and the command line run it, on the stored connection: nothing without a
connection, every record once with one, the admin's mapping, one run at a time, a disconnect that stops a run at
its next step (and a new connect that resumes there), and clients of one instance sharing its limits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from integrations.connect_support import SECRET
from overture.db import Database
from overture.integrations import marketo, service
from overture.integrations.accounts import Stored
from overture.integrations.marketo.sync import SyncStopped
from overture.integrations.marketo.sync_models import MarketoSyncState
from overture.integrations.marketo.sync_run import SyncBusy, one_at_a_time, run, run_job
from overture.jobs import create_jobs
from overture.people.models import Person
from overture.settings import Settings

from .client_support import START, Clock, StartMarketo, calls_to
from .wire_support import clocked_world, connect, disconnect, people_and_companies

SINCE = START - timedelta(days=740)  # the fake's leads were created over the two years before START
LEADS, COMPANIES = 300, 10
CREATE_EXPORT = "/bulk/v1/leads/export/create.json"


def test_the_job_syncs_every_lead_and_company_once_when_marketo_is_connected(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)
        first = run_job(db, world)
        again = run_job(db, world)
    assert first is not None and (first.leads.created, first.companies.created) == (LEADS, COMPANIES)
    assert again is not None and (again.leads.created, again.companies.created) == (0, 0)
    assert people_and_companies(db) == (LEADS, COMPANIES)


def test_the_job_does_nothing_when_marketo_was_never_connected_or_is_disconnected(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    with clocked_world(settings, clock) as world:
        assert run_job(db, world) is None
        assert fake.calls == []
        connect(db, world, fake)
        disconnect(db, world)
        calls = len(fake.calls)
        assert run_job(db, world) is None
    assert len(fake.calls) == calls, "not a call to Marketo once it is disconnected"
    assert people_and_companies(db) == (0, 0)


def test_a_disconnect_in_the_middle_stops_the_sync_at_its_next_step_and_a_new_connect_resumes_there(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    reported: list[int] = []
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)

        def disconnect_after_the_first_window(phase: str, done: int, total: int | None) -> None:
            if not reported:
                disconnect(db, world)
            reported.append(done)

        with pytest.raises(SyncStopped, match="Marketo was disconnected"):
            run(db, world, start=SINCE, progress=disconnect_after_the_first_window)
        assert people_and_companies(db) == (reported[0], 0)
        assert calls_to(fake, CREATE_EXPORT) == 1, "no export of the next window was asked for"
        connect(db, world, fake)
        summary = run(db, world, start=SINCE)
    assert summary.leads.created == LEADS - reported[0]
    assert people_and_companies(db) == (LEADS, COMPANIES)


def test_a_second_run_does_not_start_while_another_holds_the_lock(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)
        calls = len(fake.calls)
        with one_at_a_time(db) as held:
            assert held
            with pytest.raises(SyncBusy, match="A Marketo sync is running already"):
                run(db, world)
            assert run_job(db, world) is None
    assert len(fake.calls) == calls and people_and_companies(db) == (0, 0)


def test_the_sync_reads_the_fields_the_admin_mapped_and_not_those_set_to_not_synced(
    db: Database, settings: Settings, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    fake = start_marketo(clock=clock, leads=LEADS, companies=COMPANIES, client_secret=SECRET)
    with clocked_world(settings, clock) as world:
        connect(db, world, fake)
        with db.write() as session:
            service.set_mapping(session, marketo.NAME, {"lead": {"firstName": None}})
        run(db, world, start=SINCE)
    first = fake.lead(1)
    assert first is not None
    with db.read() as session:
        person = session.scalars(select(Person).where(Person.email == first["email"])).one()
    assert (person.first_name, person.last_name) == (None, first["lastName"])


def test_clients_of_one_marketo_instance_share_its_limits_and_another_instance_has_its_own(
    settings: Settings,
) -> None:
    secret = {"client_secret": "s"}
    with clocked_world(settings, Clock()) as world:
        one = marketo.open_client(
            world, Stored({"base_url": "https://123-ABC-456.mktorest.com", "client_id": "a"}, secret)
        )
        same = marketo.open_client(
            world, Stored({"base_url": "https://123-abc-456.mktorest.com/rest", "client_id": "b"}, secret)
        )
        other = marketo.open_client(
            world, Stored({"base_url": "https://987-XYZ-654.mktorest.com", "client_id": "a"}, secret)
        )
    assert one.limits is same.limits
    assert other.limits is not one.limits


def test_the_marketo_job_is_due_every_five_minutes_and_does_nothing_while_marketo_is_not_connected(
    settings: Settings, db: Database
) -> None:
    jobs = create_jobs(settings, db)
    periodic = jobs.sync_marketo.task_class()
    assert [periodic.validate_datetime(datetime(2025, 3, 14, 15, minute)) for minute in (0, 4, 5)] == [
        True,
        False,
        True,
    ]
    jobs.sync_marketo.call_local()
    with db.read() as session:
        assert session.scalars(select(MarketoSyncState)).all() == []
