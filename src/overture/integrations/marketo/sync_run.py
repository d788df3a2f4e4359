"""One run of the Marketo sync (sync.py) on the stored connection, as `overture sync marketo`, the periodic job and
the Integrations page's "Sync now" start it.

- **The stored connection**: the client is the connection's (`service.connected_client`), so nothing runs unless
  Marketo is connected, and `still_connected` asks again before each step of the sync: a disconnect stops a run at
  its next step (the checkpoints stay; the next run after a new connect resumes there).
- **The admin's mapping** (the Integrations page): lead fields mapped to person fields, company fields mapped to
  company fields. A lead field mapped to a company field (a lead's `company`) is left to the companies phase, which
  reads each company itself: applied with the lead, it would make a company for every person whose company is not
  synced yet, beside the one the companies phase makes.
- **One run at a time**, whoever starts it: on PostgreSQL a session advisory lock held for the run; on SQLite an
  exclusive lock (flock) on a file beside the database file, which the web process's job threads and a command
  line run in another process all see. The checkpoints' compare-and-set alone is not enough: a batch re-reads its
  checkpoint inside its own write transaction (serial on SQLite), so a second run would pass every check and apply
  every batch again. Nothing would be created twice (records are keyed by their Marketo id), but every call, every
  write and the counts would be doubled.
- **The job never raises** for what it expects: not connected (nothing to do), another run under way (it carries
  on), a disconnect, a Marketo failure (the sync kept it as its phase's last error, which the page shows, and the
  next run resumes from the checkpoints). Each is logged.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from overture.db import Database
from overture.errors import Conflict, OvertureError
from overture.integrations import marketo, service
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.marketo.errors import MarketoFailure
from overture.integrations.marketo.leads_import import COMPANY, LEAD
from overture.integrations.marketo.sync import DEFAULT_START, Progress, Summary, SyncStopped, sync_marketo
from overture.integrations.world import IntegrationWorld

log = structlog.get_logger(__name__)

# The PostgreSQL advisory lock of the Marketo sync (a key of its own among the advisory locks of Overture).
LOCK_KEY = int.from_bytes(hashlib.sha256(b"overture integration sync: marketo").digest()[:4], "big")
# An in-memory SQLite database lives in one process: a lock of the process is one lock for all its runs.
_IN_MEMORY = threading.Lock()


class NotConnected(Conflict):
    """Marketo is not connected: there is nothing to sync with."""

    def __init__(self) -> None:
        super().__init__(
            "Marketo is not connected. Connect it first: overture integrations marketo connect --munchkin-id ID "
            "--client-id ID (or on the Integrations page)."
        )


class SyncBusy(Conflict):
    """Another run of the Marketo sync holds the lock."""

    def __init__(self) -> None:
        super().__init__(
            "A Marketo sync is running already (the periodic job, Sync now or another command): this one did not "
            "start. Try again once it ends."
        )


@dataclass(frozen=True)
class Opened:
    """The stored connection, ready to sync: its client and the admin's mapping as the sync takes it."""

    client: MarketoClient
    lead_mapping: dict[str, str]
    company_mapping: dict[str, str]


def sync_mappings(mapping: Mapping[str, Mapping[str, str | None]]) -> tuple[dict[str, str], dict[str, str]]:
    """The stored mapping ({object: {Marketo field: Overture field or None}}) as the sync takes it: the lead fields
    mapped to person fields, and the company fields mapped to company fields (see the module docstring)."""
    leads = {remote: local for remote, local in mapping.get(LEAD, {}).items() if local and local.startswith("person.")}
    companies = {
        remote: local for remote, local in mapping.get(COMPANY, {}).items() if local and local.startswith("company.")
    }
    return leads, companies


def open_stored(session: Session, world: IntegrationWorld) -> Opened | None:
    """The stored connection's client and mapping; None unless Marketo is connected. Raises Conflict when its
    secret cannot be read or its details are incomplete (connect it again)."""
    client = service.connected_client(session, world, marketo.NAME)
    row = service.find(session, marketo.NAME)
    if client is None or row is None:
        return None
    if not isinstance(client, MarketoClient):  # the registry's protocol says object; Marketo's module makes these
        raise TypeError(f"The Marketo module opened a {type(client).__name__}, not a MarketoClient.")
    leads, companies = sync_mappings(row.mapping or {})
    return Opened(client, leads, companies)


@contextmanager
def one_at_a_time(db: Database) -> Iterator[bool]:
    """Holds the Marketo sync's lock for the block when it is free: yields True, or False (holding nothing) when
    another run holds it. See the module docstring."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))
            connection.commit()  # a session lock: it outlives the transaction, which must not stay open
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                    connection.commit()
        return
    database = db.engine.url.database
    if not database or database == ":memory:":
        held = _IN_MEMORY.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                _IN_MEMORY.release()
        return
    with Path(f"{database}.marketo-sync.lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def run(
    db: Database,
    world: IntegrationWorld,
    *,
    full: bool = False,
    start: datetime = DEFAULT_START,
    progress: Progress | None = None,
) -> Summary:
    """Runs the sync (`sync_marketo`) on the stored connection: what is due, or from `start` again with `full`.
    Raises NotConnected, SyncBusy, Conflict (the stored details cannot be read), SyncStopped (disconnected while
    it ran), SyncConflict, or the MarketoFailure that stopped it (kept as its phase's last error)."""
    with db.read() as session:
        opened = open_stored(session, world)
    if opened is None:
        raise NotConnected()

    def still_connected() -> bool:
        with db.read() as session:
            return service.is_connected(session, marketo.NAME)

    with one_at_a_time(db) as held:
        if not held:
            raise SyncBusy()
        return sync_marketo(
            db,
            opened.client,
            full=full,
            start=start,
            lead_mapping=opened.lead_mapping,
            company_mapping=opened.company_mapping,
            progress=progress,
            still_connected=still_connected,
        )


def run_job(db: Database, world: IntegrationWorld) -> Summary | None:
    """The periodic job's run: `run` when Marketo is connected and no other run is under way. Returns what it did,
    or None when it did not run or stopped; never raises for what the module docstring lists (it logs them)."""
    try:
        summary = run(db, world)
    except NotConnected:
        return None
    except SyncBusy:
        log.info("marketo sync not started: another run is under way")
        return None
    except SyncStopped:
        log.info("marketo sync stopped: Marketo was disconnected")
        return None
    except MarketoFailure as exc:
        log.warning("marketo sync failed", error=exc.message)
        return None
    except OvertureError as exc:  # the stored details unreadable, or a checkpoint moved by another run
        log.error("marketo sync did not run", error=exc.message)
        return None
    log.info(
        "marketo sync",
        leads_created=summary.leads.created,
        leads_updated=summary.leads.updated,
        leads_skipped=summary.leads.skipped,
        companies_created=summary.companies.created,
        changes=summary.changes,
    )
    return summary
