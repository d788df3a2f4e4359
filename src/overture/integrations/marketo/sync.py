"""The Marketo inbound sync of leads and companies: the initial (bulk) sync, then incremental runs.

`sync_marketo(db, client)` does whatever is due, in three phases, each checkpointed in `marketo_sync_state`:

1. **leads** — every lead through the Bulk Lead Extract, in 31-day `createdAt` windows (the longest Marketo takes)
   from `start` to the moment of the first run. `start` defaults to 2006-01-01: Marketo was founded in 2006, so
   no instance holds an older lead. One export at a time (Marketo runs 2 and queues 10 for every app of the
   instance). Each file is downloaded in byte ranges and read as a stream (`csv_stream.py`); its rows are applied
   5,000 to a transaction, and the same transaction moves the window's checkpoint (the export id, the byte offset
   after the last row applied, the counts). A run killed anywhere starts again from the last checkpoint: the same
   export from that offset while Marketo keeps its file (7 days), else a new export of the window; rows applied
   twice find their person by the Marketo id (`integration_records`) and change nothing twice.
2. **companies** — the `externalCompanyId`s seen on leads, read 300 at a time through the companies endpoint,
   created or updated, and their people linked to them; checkpointed by the last id done.
3. **changes** — the incremental sync, every run after the initial one (and at its end): the lead changes since
   the stored paging token (the first token is asked for the moment the initial sync began), with the mapped
   fields. New leads come with them: Marketo's lead changes include its "New Lead" activities, and the leads they
   name (and any lead not synced yet) are read with `get_leads` by id, 300 a call. That costs one call per 300 new
   leads every 5 minutes, where a bulk export would take a place in the instance's export queue and a minute or
   more of polling (Marketo updates an export's status at most every 60 s) for a handful of leads. A page's
   changes and its token are written in one transaction, so a page is never applied twice.
4. **activities** — last, once the leads are people: Marketo's activities since the last run (the first run: the
   last 90 days) become activities of those people (`activities_import.py`).

**Conflict rule**: a value captured in chat after Marketo's last change wins; otherwise Marketo's does. For a bulk
row, "Marketo's last change" is the lead's `updatedAt`; for a lead change, the change's own time. When a field was
captured in chat is read from the activity log (`field.captured`); see `leads_import.py`. A change older than what
was last applied of a lead (its `updatedAt`) is left out.

Every step of a phase moves its checkpoint by compare-and-set on its version: a second sync running at the same
time fails its next step with `SyncConflict` rather than apply a batch twice. A Marketo failure (a failed export,
the daily quota...) is kept as the phase's last error and raised; the checkpoints stay, so the next run resumes.
A disconnect stops it: `still_connected` is asked before each step, and a no ends the run with `SyncStopped`.
No network call is made inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from overture.db import Database
from overture.errors import OvertureError
from overture.integrations.marketo.activities_import import ActivityCounts, import_activities
from overture.integrations.marketo.bulk import MAX_WINDOW
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.marketo.companies_bulk import apply_companies
from overture.integrations.marketo.csv_stream import row_batches
from overture.integrations.marketo.errors import ExportFailed, MarketoFailure
from overture.integrations.marketo.lead_changes import apply_changes
from overture.integrations.marketo.leads_bulk import apply_leads
from overture.integrations.marketo.leads_import import (
    COMPANY,
    COMPANY_KEY,
    INTEGRATION,
    LEAD,
    Counts,
    records_of,
    remote_time,
    text_of,
)
from overture.integrations.marketo.schemas import ExportJob, LeadChange, Record
from overture.integrations.marketo.sync_models import IntegrationRecord, MarketoSyncState
from overture.people.service import field_schema

DEFAULT_START = datetime(2006, 1, 1, tzinfo=UTC)  # Marketo's founding: no instance has an older lead
BATCH_ROWS = 5_000  # rows applied in one transaction (a few statements each: see leads_bulk.py)
COMPANY_BATCH = 300  # external ids a companies call takes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the window key of the phases that have no window
# A proposal (part 3 stores the admin's mapping): Marketo field -> Overture field.
DEFAULT_LEAD_MAPPING: dict[str, str] = {
    "email": "person.email",
    "firstName": "person.first_name",
    "lastName": "person.last_name",
    "title": "person.title",
    "phone": "person.phone",
}
DEFAULT_COMPANY_MAPPING: dict[str, str] = {
    "company": "company.name",
    "website": "company.domain",
    "industry": "company.industry",
    "numberOfEmployees": "company.employees",
    "annualRevenue": "company.revenue",
}
# Always exported: the key, what the conflict rule and the links need.
LEAD_SYSTEM_FIELDS = ("id", "createdAt", "updatedAt", COMPANY_KEY)
COMPANY_SYSTEM_FIELDS = (COMPANY_KEY, "updatedAt")

Progress = Callable[[str, int, int | None], None]
"""Called as work is done: (phase, records done in it, records in it or None while unknown)."""


class SyncConflict(OvertureError):
    """Another sync moved a checkpoint this one was about to move: only one sync runs at a time."""

    def __init__(self, phase: str) -> None:
        super().__init__(
            f"Another Marketo sync is running (it moved the {phase} checkpoint); this one stopped.", [], 409
        )


class SyncStopped(OvertureError):
    """Marketo was disconnected while the sync ran: it stopped before its next step (the checkpoints stay)."""

    def __init__(self) -> None:
        super().__init__(
            "Marketo was disconnected: the sync stopped before its next step. It resumes where it stopped once "
            "Marketo is connected again.",
            [],
            409,
        )


def _always() -> bool:
    return True


@dataclass
class Summary:
    """What a sync did: leads and companies created, updated, unchanged and skipped (with the reasons), the lead
    field changes applied by the incremental phase, and the Marketo activities recorded."""

    leads: Counts = field(default_factory=Counts)
    companies: Counts = field(default_factory=Counts)
    changes: int = 0
    activities: ActivityCounts = field(default_factory=ActivityCounts)


@dataclass(frozen=True)
class Mappings:
    leads: Mapping[str, str]
    companies: Mapping[str, str]

    def lead_fields(self) -> list[str]:
        return [*LEAD_SYSTEM_FIELDS, *(name for name in self.leads if name not in LEAD_SYSTEM_FIELDS)]

    def company_fields(self) -> list[str]:
        return [*COMPANY_SYSTEM_FIELDS, *(name for name in self.companies if name not in COMPANY_SYSTEM_FIELDS)]


def windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut in windows of at most 31 days."""
    cuts: list[tuple[datetime, datetime]] = []
    while start < end:
        cuts.append((start, min(start + MAX_WINDOW, end)))
        start = cuts[-1][1]
    return cuts


def sync_marketo(
    db: Database,
    client: MarketoClient,
    *,
    full: bool = False,
    start: datetime = DEFAULT_START,
    lead_mapping: Mapping[str, str] | None = None,
    company_mapping: Mapping[str, str] | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    still_connected: Callable[[], bool] = _always,
) -> Summary:
    """Runs what is due: the initial sync (or what is left of it), then the lead changes since the last run.
    `full` starts the initial sync again from `start` (records are updated, never created twice). Returns what
    was done. `still_connected` is asked before each step (a window, a batch of rows, a batch of companies, a page
    of changes): once it says no, the sync stops there with `SyncStopped`. Raises the `MarketoFailure` that
    stopped it (kept as the phase's last error), `SyncConflict` or `SyncStopped`."""
    if start.tzinfo is None:
        raise ValueError(f"The sync's start must be an aware datetime, not {start.isoformat()}.")
    mappings = Mappings(lead_mapping or DEFAULT_LEAD_MAPPING, company_mapping or DEFAULT_COMPANY_MAPPING)
    report = progress or (lambda phase, done, total: None)
    summary = Summary()

    def go_on() -> None:
        if not still_connected():
            raise SyncStopped()

    go_on()
    if start == DEFAULT_START and (full or not _planned(db)):
        start = _first_lead_created(client) or start
    _plan(db, start, client.clock(), full)
    _leads_phase(db, client, mappings, batch_rows, report, summary, go_on)
    go_on()
    _companies_phase(db, client, mappings, report, summary, go_on)
    go_on()
    _changes_phase(db, client, mappings, report, summary, go_on)
    go_on()
    # Last: the leads their activities name are people by now.
    summary.activities = import_activities(db, client, progress=report)
    return summary


# --- the plan and the checkpoints --------------------------------------------------------------------------------


def _planned(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(MarketoSyncState.id).where(MarketoSyncState.phase == "leads").limit(1)) is not None


def _first_lead_created(client: MarketoClient) -> datetime | None:
    """When the instance's oldest lead was created, as far as one call tells: Marketo numbers leads in the order it
    creates them, so the lowest ids still there are the oldest. The initial sync then starts that day instead of
    in 2006: every empty 31-day window costs an export and a minute of polling. None when those ids are all gone
    (the sync starts in 2006)."""
    leads = client.get_leads("id", list(range(1, 301)), ["createdAt"])
    created = [moment for lead in leads if (moment := remote_time(text_of(lead.get("createdAt")))) is not None]
    if not created:
        return None
    return min(created).replace(hour=0, minute=0, second=0, microsecond=0)


def _plan(db: Database, start: datetime, now: datetime, full: bool) -> None:
    """The windows of the initial sync (fixed at its first run) and the rows of the other phases."""
    now = now.replace(microsecond=0)  # Marketo takes whole seconds: no window may shrink to nothing
    start = start.replace(microsecond=0)
    with db.write() as session:
        if full:
            session.execute(delete(MarketoSyncState).where(MarketoSyncState.phase.in_(("leads", "companies"))))
        have = set(session.scalars(select(MarketoSyncState.phase).distinct()))
        if "leads" not in have:
            for window_start, window_end in windows(start, now):
                session.add(MarketoSyncState(phase="leads", window_start=window_start, window_end=window_end))
        if "companies" not in have:
            session.add(MarketoSyncState(phase="companies", window_start=EPOCH, extra={}))
        if "changes" not in have:
            session.add(MarketoSyncState(phase="changes", window_start=EPOCH, extra={"since": now.isoformat()}))


def _state(session: Session, state_id: int) -> MarketoSyncState:
    state = session.get(MarketoSyncState, state_id)
    if state is None:
        raise SyncConflict("sync")
    return state


def _advance(session: Session, state: MarketoSyncState, **values: Any) -> None:
    """Moves a checkpoint by compare-and-set on its version (in the caller's transaction)."""
    result = session.execute(
        update(MarketoSyncState)
        .where(MarketoSyncState.id == state.id, MarketoSyncState.version == state.version)
        .values(version=state.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise SyncConflict(state.phase)
    session.expire(state)


def _fail(db: Database, state_id: int, error: MarketoFailure, now: datetime) -> None:
    with db.write() as session:
        state = _state(session, state_id)
        _advance(session, state, status="failed", last_error=error.message[:4000], finished_at=now)


def _counted(state: MarketoSyncState, counts: Counts) -> dict[str, int]:
    return {
        "created": state.created + counts.created,
        "updated": state.updated + counts.updated + counts.unchanged,
        "skipped": state.skipped + counts.skipped,
    }


# --- leads -----------------------------------------------------------------------------------------------------


def _leads_phase(
    db: Database,
    client: MarketoClient,
    mappings: Mappings,
    batch_rows: int,
    report: Progress,
    summary: Summary,
    go_on: Callable[[], None],
) -> None:
    with db.read() as session:
        ids = list(
            session.scalars(
                select(MarketoSyncState.id)
                .where(MarketoSyncState.phase == "leads", MarketoSyncState.status != "done")
                .order_by(MarketoSyncState.window_start)
            )
        )
        done = session.scalar(
            select(func.coalesce(func.sum(MarketoSyncState.rows_applied), 0)).where(MarketoSyncState.phase == "leads")
        )
    applied = int(done or 0)
    for state_id in ids:
        go_on()
        try:
            applied = _lead_window(db, client, state_id, mappings, batch_rows, report, summary, applied, go_on)
        except MarketoFailure as exc:
            _fail(db, state_id, exc, client.clock())
            raise


def _export(db: Database, client: MarketoClient, state_id: int, fields: list[str]) -> tuple[ExportJob, int]:
    """The window's completed export and the offset to read its file from: the one begun, while Marketo keeps
    it; else a new one (from offset 0). Raises `ExportFailed` when Marketo fails the export."""
    with db.read() as session:
        state = _state(session, state_id)
    if state.export_id:
        job = client.lead_export_status(state.export_id)
        if job.status == "Created":
            client.enqueue_lead_export(job.export_id)
        if job.status not in ("Failed", "Canceled", "Cancelled"):
            return client.wait_for_lead_export(job.export_id), state.byte_offset
    window_end = state.window_end or client.clock()
    created = client.create_lead_export(fields, state.window_start, window_end)
    with db.write() as session:
        # Kept before it is started, so that a run killed now finds it and does not leave it queued for nothing.
        _advance(
            session,
            _state(session, state_id),
            export_id=created.export_id,
            fields=fields,
            byte_offset=0,
            status="running",
            started_at=client.clock(),
            last_error=None,
        )
    client.enqueue_lead_export(created.export_id)
    return client.wait_for_lead_export(created.export_id), 0


def _lead_window(
    db: Database,
    client: MarketoClient,
    state_id: int,
    mappings: Mappings,
    batch_rows: int,
    report: Progress,
    summary: Summary,
    applied: int,
    go_on: Callable[[], None],
) -> int:
    """Applies one window's export from its checkpoint; returns the rows applied over every window so far."""
    job, offset = _export(db, client, state_id, mappings.lead_fields())
    with db.read() as session:
        fields = _state(session, state_id).fields or mappings.lead_fields()
    if job.number_of_records:
        try:
            chunks = client.lead_export_file(job, offset=offset)
            for batch in row_batches(chunks, fields, offset=offset, size=batch_rows):
                go_on()
                with db.write() as session:
                    state = _state(session, state_id)
                    counts = apply_leads(session, batch.rows, mappings.leads, field_schema(session), client.clock())
                    _advance(
                        session,
                        state,
                        byte_offset=batch.end,
                        rows_applied=state.rows_applied + len(batch.rows),
                        **_counted(state, counts),
                    )
                summary.leads.add(counts)
                applied += len(batch.rows)
                report("leads", applied, None)
        except ExportFailed:
            # The file is gone or did not match its checksum: the window starts again with a new export.
            with db.write() as session:
                _advance(session, _state(session, state_id), export_id=None, byte_offset=0)
            raise
    with db.write() as session:
        _advance(session, _state(session, state_id), status="done", finished_at=client.clock(), last_error=None)
    report("leads", applied, None)
    return applied


# --- companies -------------------------------------------------------------------------------------------------


def _company_keys(session: Session, after: str | None, limit: int | None) -> list[str]:
    """The external company ids named by synced leads, in order, after `after`."""
    query = (
        select(IntegrationRecord.company_remote_id)
        .where(
            IntegrationRecord.integration == INTEGRATION,
            IntegrationRecord.kind == LEAD,
            IntegrationRecord.company_remote_id.is_not(None),
        )
        .distinct()
        .order_by(IntegrationRecord.company_remote_id)
    )
    if after is not None:
        query = query.where(IntegrationRecord.company_remote_id > after)
    if limit is not None:
        query = query.limit(limit)
    return [key for key in session.scalars(query) if key]


def _companies_phase(
    db: Database,
    client: MarketoClient,
    mappings: Mappings,
    report: Progress,
    summary: Summary,
    go_on: Callable[[], None],
) -> None:
    with db.read() as session:
        state = session.scalars(select(MarketoSyncState).where(MarketoSyncState.phase == "companies")).one()
        if state.status == "done":
            return
        total = len(_company_keys(session, None, None))
    state_id = state.id
    done = state.rows_applied
    try:
        while True:
            go_on()
            with db.read() as session:
                state = _state(session, state_id)
                keys = _company_keys(session, state.extra.get("after"), COMPANY_BATCH)
            if not keys:
                break
            records = fetch_companies(client, keys, mappings)
            with db.write() as session:
                state = _state(session, state_id)
                counts = apply_companies(session, records, mappings.companies, field_schema(session), client.clock())
                _advance(
                    session,
                    state,
                    extra={"after": keys[-1]},
                    rows_applied=state.rows_applied + len(keys),
                    status="running",
                    **_counted(state, counts),
                )
            summary.companies.add(counts)
            done += len(keys)
            report("companies", done, total)
    except MarketoFailure as exc:
        _fail(db, state_id, exc, client.clock())
        raise
    with db.write() as session:
        _advance(session, _state(session, state_id), status="done", finished_at=client.clock(), last_error=None)


def fetch_companies(client: MarketoClient, keys: Sequence[str], mappings: Mappings) -> list[dict[str, str | None]]:
    """The companies of these external ids, as text (those Marketo no longer has are left out)."""
    found = client.get_companies(COMPANY_KEY, list(keys), mappings.company_fields())
    return [_as_text(record) for record in found]


def _as_text(record: Record) -> dict[str, str | None]:
    return {name: text_of(value) for name, value in record.items()}


# --- changes ---------------------------------------------------------------------------------------------------


def _changes_phase(
    db: Database,
    client: MarketoClient,
    mappings: Mappings,
    report: Progress,
    summary: Summary,
    go_on: Callable[[], None],
) -> None:
    with db.read() as session:
        state = session.scalars(select(MarketoSyncState).where(MarketoSyncState.phase == "changes")).one()
    state_id = state.id
    try:
        token = state.paging_token or client.paging_token(datetime.fromisoformat(state.extra["since"]))
        fields = [name for name in [*mappings.leads, COMPANY_KEY] if name not in ("id", "createdAt", "updatedAt")]
        seen = 0
        for page in client.lead_changes(token, fields):
            go_on()
            seen += _changes_page(db, client, state_id, page.items, page.next_page_token, mappings, summary)
            report("changes", seen, None)
    except MarketoFailure as exc:
        _fail(db, state_id, exc, client.clock())
        raise


def _changes_page(
    db: Database,
    client: MarketoClient,
    state_id: int,
    items: Sequence[LeadChange],
    token: str,
    mappings: Mappings,
    summary: Summary,
) -> int:
    """Applies one page of lead changes and stores the token after it, in one transaction."""
    lead_ids = sorted({str(item.lead_id) for item in items})
    with db.read() as session:
        known = records_of(session, LEAD, lead_ids)
    wanted = sorted({str(item.lead_id) for item in items if item.activity_type_id == 12} | (set(lead_ids) - set(known)))
    leads = [_as_text(record) for record in _leads_by_id(client, wanted, mappings)] if wanted else []
    keys = {lead.get(COMPANY_KEY) for lead in leads} | {
        text_of(change.new_value) for item in items for change in item.fields if change.name == COMPANY_KEY
    }
    with db.read() as session:
        have = records_of(session, COMPANY, sorted(key for key in keys if key))
    missing = sorted(key for key in keys if key and key not in have)
    companies = fetch_companies(client, missing, mappings) if missing else []
    with db.write() as session:
        state = _state(session, state_id)
        schema = field_schema(session)
        now = client.clock()
        summary.companies.add(apply_companies(session, companies, mappings.companies, schema, now))
        counts = apply_leads(session, leads, mappings.leads, schema, now)
        summary.leads.add(counts)
        fetched = set(wanted)
        later = [item for item in items if str(item.lead_id) not in fetched]
        applied, skips = apply_changes(session, later, mappings.leads, schema, now)
        summary.changes += applied
        summary.leads.skipped += len(skips)
        summary.leads.skips += skips
        _advance(
            session,
            state,
            paging_token=token,
            rows_applied=state.rows_applied + len(items),
            status="done",
            finished_at=now,
            last_error=None,
            **_counted(state, counts),
        )
    return len(items)


def _leads_by_id(client: MarketoClient, ids: Iterable[str], mappings: Mappings) -> list[Record]:
    return list(client.get_leads("id", [int(lead_id) for lead_id in ids], mappings.lead_fields()))
