"""Where the Marketo sync stands, for the Integrations page (its status partial and its JSON, polled while the
initial sync runs), read from the sync's checkpoints (`marketo_sync_state`) and skipped records
(`marketo_sync_skips`): nothing is kept for it besides what the sync keeps anyway.

- **The phase** is the first one not done: `leads` (the initial sync's 31-day windows of bulk exports), then
  `companies`, then `changes` (the incremental sync, every run after the initial one). The initial sync is **in
  progress** until its leads and companies are done: a run that failed or was killed is resumed by the periodic
  job, so the page follows it until then.
- **Records done / total**: the rows applied in the phase; the total when it is known before the end (the
  companies: the external company ids the synced leads name; a bulk export's size is not known until its file is),
  and for the leads the windows done of all windows.
- **Rate and time left**: records a second since the phase began (the leads: the first export; the companies: the
  end of the last window), up to now while it runs, else up to its last step; time left only with a known total.
- **Last error**: the latest failure the sync kept (a phase's `last_error`, cleared when that phase next succeeds),
  with its time.
- **Counts**: leads and companies created, updated and skipped over every phase; the last `SHOWN_SKIPS` records
  skipped, with their reason, and how many in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from overture.integrations.marketo.leads_import import INTEGRATION, LEAD
from overture.integrations.marketo.sync_models import IntegrationRecord, MarketoSyncSkip, MarketoSyncState

SHOWN_SKIPS = 20
LEADS, COMPANIES, CHANGES = "leads", "companies", "changes"
PHASE_LABELS = {
    LEADS: "Initial sync: leads",
    COMPANIES: "Initial sync: companies",
    CHANGES: "Lead changes (the initial sync is done)",
}
RUNNING, FAILED, DONE = "running", "failed", "done"
STATE_LABELS = {RUNNING: "In progress", FAILED: "Failed", DONE: "Up to date"}


@dataclass(frozen=True)
class Counted:
    """Records created, updated (or found unchanged) and skipped."""

    created: int = 0
    updated: int = 0
    skipped: int = 0

    def as_json(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped}


@dataclass(frozen=True)
class SkippedRecord:
    """A Marketo record the sync could not apply: a lead or a company, its Marketo id, why, and when."""

    kind: str
    remote_id: str
    reason: str
    skipped_at: datetime

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "remote_id": self.remote_id, "reason": self.reason,
                "skipped_at": self.skipped_at.isoformat()}  # fmt: skip


@dataclass(frozen=True)
class SyncStatus:
    """Where the sync stands (see the module docstring). `state` is running, failed (the phase's last step
    failed: the next run tries again) or done (the initial sync is over: the changes are read every run)."""

    phase: str
    state: str
    in_progress: bool
    done: int
    total: int | None
    windows_done: int
    windows: int
    rate: float | None  # records a second
    time_left: timedelta | None
    started_at: datetime | None
    last_step_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    leads: Counted
    companies: Counted
    skips: list[SkippedRecord]
    skipped_total: int

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    def as_json(self) -> dict[str, Any]:
        """The status as the page's script reads it: times in ISO 8601 (UTC), the time left in seconds."""
        return {
            "phase": self.phase,
            "state": self.state,
            "in_progress": self.in_progress,
            "done": self.done,
            "total": self.total,
            "windows_done": self.windows_done,
            "windows": self.windows,
            "rate": None if self.rate is None else round(self.rate, 1),
            "seconds_left": None if self.time_left is None else round(self.time_left.total_seconds()),
            "started_at": _iso(self.started_at),
            "last_step_at": _iso(self.last_step_at),
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
            "leads": self.leads.as_json(),
            "companies": self.companies.as_json(),
            "skipped": [skip.as_json() for skip in self.skips],
            "skipped_total": self.skipped_total,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _latest(moments: list[datetime | None]) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _counted(rows: list[MarketoSyncState]) -> Counted:
    return Counted(sum(row.created for row in rows), sum(row.updated for row in rows), sum(row.skipped for row in rows))


def _company_total(session: Session) -> int:
    """The external company ids the synced leads name: the companies phase's records to do."""
    return session.scalar(
        select(func.count(distinct(IntegrationRecord.company_remote_id))).where(
            IntegrationRecord.integration == INTEGRATION,
            IntegrationRecord.kind == LEAD,
            IntegrationRecord.company_remote_id.is_not(None),
        )
    ) or 0  # fmt: skip


def _rate(done: int, began: datetime | None, until: datetime | None) -> float | None:
    if began is None or until is None or done <= 0:
        return None
    seconds = (until - began).total_seconds()
    return done / seconds if seconds > 0 else None


def sync_status(session: Session, now: datetime) -> SyncStatus | None:
    """Where the Marketo sync stands at `now`; None when it has never run."""
    rows = list(session.scalars(select(MarketoSyncState).order_by(MarketoSyncState.window_start)))
    if not rows:
        return None
    windows = [row for row in rows if row.phase == LEADS]
    companies = [row for row in rows if row.phase == COMPANIES]
    changes = [row for row in rows if row.phase == CHANGES]
    open_windows = [row for row in windows if row.status != DONE]
    open_companies = [row for row in companies if row.status != DONE]
    current: MarketoSyncState | None
    if open_windows:
        phase, current = LEADS, open_windows[0]
    elif open_companies:
        phase, current = COMPANIES, open_companies[0]
    else:
        phase, current = CHANGES, changes[0] if changes else None
    in_progress = phase != CHANGES
    state = FAILED if current is not None and current.status == FAILED else RUNNING if in_progress else DONE

    failed = [row for row in rows if row.last_error]
    last_failed = max(failed, key=lambda row: row.finished_at or row.started_at or now) if failed else None
    last_step_at = _latest([row.finished_at for row in rows])
    started_at = min((row.started_at for row in windows if row.started_at is not None), default=None)
    until = now if state == RUNNING else last_step_at

    total: int | None = None
    rate: float | None = None
    if phase == LEADS:
        done = sum(row.rows_applied for row in windows)
        rate = _rate(done, started_at, until)
    elif phase == COMPANIES:
        done = sum(row.rows_applied for row in companies)
        total = _company_total(session)
        rate = _rate(done, _latest([row.finished_at for row in windows]), until)
    else:
        done = sum(row.rows_applied for row in changes)
    time_left = None
    if total is not None and rate and state == RUNNING:
        time_left = timedelta(seconds=max(total - done, 0) / rate)

    skips = session.scalars(
        select(MarketoSyncSkip)
        .order_by(MarketoSyncSkip.skipped_at.desc(), MarketoSyncSkip.id.desc())
        .limit(SHOWN_SKIPS)
    )
    return SyncStatus(
        phase=phase,
        state=state,
        in_progress=in_progress,
        done=done,
        total=total,
        windows_done=len(windows) - len(open_windows),
        windows=len(windows),
        rate=rate,
        time_left=time_left,
        started_at=started_at,
        last_step_at=last_step_at,
        last_error=last_failed.last_error if last_failed is not None else None,
        last_error_at=last_failed.finished_at if last_failed is not None else None,
        leads=_counted(windows + changes),
        companies=_counted(companies),
        skips=[SkippedRecord(skip.kind, skip.remote_id, skip.reason, skip.skipped_at) for skip in skips],
        skipped_total=session.scalar(select(func.count()).select_from(MarketoSyncSkip)) or 0,
    )
