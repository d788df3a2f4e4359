"""The tables of the Marketo inbound sync (sync.py): which Overture record each Marketo record became, where each
phase of the sync stands, and the records it could not apply.

- `IntegrationRecord`: one row per remote record ever applied, unique per (integration, kind, remote id), so a
  record is never created twice, whatever is killed when. For leads the remote id is Marketo's lead id; for
  companies it is the `externalCompanyId` (what leads link to companies by). A lead's row also keeps the
  `externalCompanyId` it named, so that the companies phase links the people to their company.
- `MarketoSyncState`: one row per phase and window (`leads` for each 31-day createdAt window of the initial sync,
  `companies`, `changes` for the incremental sync): its export and how far its file was applied (the byte offset
  just after the last row applied, and the rows applied), its counts, status and last error. Every change is a
  compare-and-set on `version` (STYLE.md habit 4): two syncs at once cannot both move one checkpoint.
- `MarketoSyncSkip`: a record that could not be applied (an invalid email, a value too long...) and why; one row
  per record, its reason replaced when it is skipped again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overture.db import Base, UTCDateTime

REMOTE_ID_LENGTH = 100
REASON_LENGTH = 500


class IntegrationRecord(Base):
    """A remote record and the person or company it is in Overture."""

    __tablename__ = "integration_records"
    __table_args__ = (
        UniqueConstraint("integration", "kind", "remote_id", name="uq_integration_records_remote"),
        Index("ix_integration_records_company_remote_id", "integration", "company_remote_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration: Mapped[str] = mapped_column(String(40))  # the integration's registry name: "marketo"
    kind: Mapped[str] = mapped_column(String(10))  # lead | company
    remote_id: Mapped[str] = mapped_column(String(REMOTE_ID_LENGTH))
    # A person's row goes with the person (a privacy deletion); a merge moves it to the survivor.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), default=None, index=True)
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), default=None, index=True
    )
    # A lead's externalCompanyId (None for companies and for leads without one).
    company_remote_id: Mapped[str | None] = mapped_column(String(REMOTE_ID_LENGTH), default=None)
    # Marketo's updatedAt of the record as last applied.
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class MarketoSyncState(Base):
    """Where one phase (and window) of the Marketo sync stands; see the module docstring."""

    __tablename__ = "marketo_sync_state"
    __table_args__ = (UniqueConstraint("phase", "window_start", name="uq_marketo_sync_state_phase_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase: Mapped[str] = mapped_column(String(20))  # leads | companies | changes
    # The createdAt window of a leads phase (for the others: when the phase began to read, as a fixed key).
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    export_id: Mapped[str | None] = mapped_column(String(REMOTE_ID_LENGTH), default=None)
    # The fields of the export, in the file's column order (the header is not read again on resume).
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The byte just after the last row applied of the export's file, and the rows applied so far.
    byte_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_applied: Mapped[int] = mapped_column(Integer, default=0)
    # The changes phase: the paging token to read from next time.
    paging_token: Mapped[str | None] = mapped_column(String(1000), default=None)
    # What else a phase keeps between runs (the companies phase: the external ids done).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | running | done | failed
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)


class MarketoSyncSkip(Base):
    """A Marketo record the sync could not apply, with the reason (shown on the Integrations page and by the CLI)."""

    __tablename__ = "marketo_sync_skips"
    __table_args__ = (UniqueConstraint("kind", "remote_id", name="uq_marketo_sync_skips_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # lead | company
    remote_id: Mapped[str] = mapped_column(String(REMOTE_ID_LENGTH))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    skipped_at: Mapped[datetime] = mapped_column(UTCDateTime)
