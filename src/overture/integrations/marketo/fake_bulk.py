"""The fake Marketo's Bulk Lead Extract: export jobs, their states, and their files on disk.

Created -> (enqueue) Queued -> Processing -> Completed, Failed or Canceled. With `delay` 0 a queued job completes on
the first status poll; otherwise it is Processing `delay` seconds after it was queued and done after twice that, by
the fake's clock. The file is written when the job completes, row by row to a temporary file (a million leads never
sit in memory), and read back with or without a `Range`. Limits: 10 queued jobs, 500 MB of files a day (1029), a
`createdAt`/`updatedAt` window of at most 31 days; files are kept 7 days.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from overture.integrations.marketo.fake_data import LEAD_FIELD_NAMES, stamp
from overture.integrations.marketo.fake_store import Refusal

DELIMITERS = {"CSV": ",", "TSV": "\t", "SSV": " "}  # docs disagree on SSV; this fake uses a space
MAX_WINDOW = timedelta(days=31)
MAX_QUEUED = 10
DAILY_BYTES = 500 * 1024 * 1024
KEPT = timedelta(days=7)
FILTERS = ("createdAt", "updatedAt", "staticListId", "staticListName", "smartListId", "smartListName")

Rows = Callable[[str, Any], Iterator[dict[str, Any]]]


@dataclass
class ExportJob:
    export_id: str
    fields: list[str]
    headers: dict[str, str]
    format: str
    filter_name: str
    filter_value: Any
    created_at: datetime
    status: str = "Created"
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    path: str | None = None
    records: int = 0
    size: int = 0
    checksum: str = ""
    error: str | None = None
    fail_with: str | None = None

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"exportId": self.export_id, "format": self.format, "status": self.status,
                               "createdAt": stamp(self.created_at)}  # fmt: skip
        if self.queued_at:
            out["queuedAt"] = stamp(self.queued_at)
        if self.started_at:
            out["startedAt"] = stamp(self.started_at)
        if self.finished_at:
            out["finishedAt"] = stamp(self.finished_at)
        if self.status == "Completed":
            out.update(numberOfRecords=self.records, fileSize=self.size, fileChecksum=self.checksum)
        if self.error:
            out["errorMsg"] = self.error
        return out


def _instant(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise Refusal("1003", f"Invalid date '{value}' in {where}") from None
    if moment.tzinfo is None:
        raise Refusal("1003", f"Date '{value}' in {where} has no time zone offset")
    return moment


class Exports:
    """Every export job of one fake; `delay` is the fake's bulk_delay in seconds."""

    def __init__(self, rows: Rows, delay: float) -> None:
        self.rows = rows
        self.delay = delay
        self.jobs: dict[str, ExportJob] = {}
        self.daily_bytes = DAILY_BYTES
        self.max_queued = MAX_QUEUED
        self.fail_next: list[str] = []
        self._bytes_by_day: dict[date, int] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        """Deletes every file written."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def create(self, body: Any, now: datetime) -> ExportJob:
        """Raises Refusal (1003 bad fields, format or filter; 1035 an unsupported filter)."""
        if not isinstance(body, dict):
            raise Refusal("1003", "The body must be a JSON object with 'fields' and 'filter'")
        fields = body.get("fields")
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            raise Refusal("1003", "'fields' must be a non-empty list of lead field names")
        unknown = [f for f in fields if f not in LEAD_FIELD_NAMES]
        if unknown:
            raise Refusal("1003", f"Invalid fields: {', '.join(unknown)}")
        fmt = body.get("format", "CSV")
        if fmt not in DELIMITERS:
            raise Refusal("1003", f"Invalid format '{fmt}': CSV, TSV or SSV")
        headers = body.get("columnHeaderNames") or {}
        if not isinstance(headers, dict):
            raise Refusal("1003", "'columnHeaderNames' must be an object of field name to header")
        chosen = body.get("filter")
        if not isinstance(chosen, dict) or len(chosen) != 1:
            raise Refusal("1003", f"'filter' must hold exactly one of {', '.join(FILTERS)}")
        [(name, value)] = chosen.items()
        if name not in FILTERS:
            raise Refusal("1003", f"Invalid filter '{name}': one of {', '.join(FILTERS)}")
        if name.startswith("smartList"):
            raise Refusal("1035", f"Unsupported filter type for target subscription: {name}")
        if name in ("createdAt", "updatedAt"):
            if not isinstance(value, dict) or "startAt" not in value or "endAt" not in value:
                raise Refusal("1003", f"'{name}' needs 'startAt' and 'endAt'")
            start, end = _instant(value["startAt"], f"{name}.startAt"), _instant(value["endAt"], f"{name}.endAt")
            if end <= start:
                raise Refusal("1003", f"'{name}.endAt' must be after 'startAt'")
            if end - start > MAX_WINDOW:
                raise Refusal("1003", f"Date range of '{name}' must not exceed 31 days")
            value = (start, end)
        job = ExportJob(uuid.uuid4().hex[:8] + "-" + str(uuid.uuid4())[9:], list(fields), dict(headers), fmt,
                        name, value, now)  # fmt: skip
        self.jobs[job.export_id] = job
        return job

    def job(self, export_id: str) -> ExportJob:
        job = self.jobs.get(export_id)
        if job is None:
            raise Refusal("1003", f"Export id '{export_id}' not found")
        return job

    def enqueue(self, export_id: str, now: datetime, day: date) -> ExportJob:
        """Raises Refusal 1029 when 10 jobs are queued, the job is not new, or today's 500 MB are exported."""
        job = self.job(export_id)
        if job.status != "Created":
            raise Refusal("1029", f"Export '{export_id}' already queued")
        if sum(1 for j in self.jobs.values() if j.status == "Queued") >= self.max_queued:
            raise Refusal("1029", f"Too many jobs ({self.max_queued}) in queue")
        if self._bytes_by_day.get(day, 0) >= self.daily_bytes:
            raise Refusal("1029", f"Export daily quota {self.daily_bytes // (1024 * 1024)}MB exceeded")
        job.status, job.queued_at = "Queued", now
        if self.fail_next:
            job.fail_with = self.fail_next.pop(0)
        return job

    def status(self, export_id: str, now: datetime, day: date) -> ExportJob:
        """Moves the job on by the clock (writing its file when it completes) and returns it."""
        job = self.job(export_id)
        if job.status in ("Queued", "Processing") and job.queued_at is not None:
            if job.status == "Queued" and now >= job.queued_at + timedelta(seconds=self.delay):
                job.status, job.started_at = "Processing", now
            if job.status == "Processing" and now >= job.queued_at + timedelta(seconds=2 * self.delay):
                self._finish(job, now, day)
        return job

    def cancel(self, export_id: str) -> ExportJob:
        job = self.job(export_id)
        if job.status not in ("Created", "Queued", "Processing"):
            raise Refusal("1003", f"Export '{export_id}' is {job.status} and cannot be canceled")
        job.status = "Canceled"
        return job

    def file(self, export_id: str, now: datetime) -> ExportJob | None:
        """The completed job whose file can be read, or None (unknown, unfinished or older than 7 days)."""
        job = self.jobs.get(export_id)
        if job is None or job.status != "Completed" or job.path is None or job.finished_at is None:
            return None
        return job if now < job.finished_at + KEPT else None

    def _finish(self, job: ExportJob, now: datetime, day: date) -> None:
        if job.fail_with is not None:
            job.status, job.error, job.finished_at = "Failed", job.fail_with, now
            return
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="marketo-fake-")
        handle, path = tempfile.mkstemp(suffix=".csv", dir=self._folder.name)
        digest = hashlib.sha256()
        records = 0
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, delimiter=DELIMITERS[job.format], lineterminator="\n")
            writer.writerow([job.headers.get(f, f) for f in job.fields])
            for lead in self.rows(job.filter_name, job.filter_value):
                writer.writerow([_cell(lead.get(f)) for f in job.fields])
                records += 1
        with open(path, "rb") as written:
            for chunk in iter(lambda: written.read(1 << 20), b""):
                digest.update(chunk)
        job.path, job.records, job.size = path, records, os.path.getsize(path)
        job.checksum = "sha256:" + digest.hexdigest()
        job.status, job.finished_at = "Completed", now
        self._bytes_by_day[day] = self._bytes_by_day.get(day, 0) + job.size


def _cell(value: Any) -> str:
    """Marketo writes an empty value as the literal `null`."""
    if value is None or value == "":
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for `bytes=a-b`, `bytes=a-` or `bytes=-n`; None when unsatisfiable or malformed."""
    spec = header.strip().removeprefix("bytes=")
    if header.strip() == spec or "," in spec or "-" not in spec:
        return None
    first_text, last_text = (part.strip() for part in spec.split("-", 1))
    try:
        if first_text == "":
            first, last = max(size - int(last_text), 0), size - 1
        else:
            first = int(first_text)
            last = min(int(last_text), size - 1) if last_text else size - 1
    except ValueError:
        return None
    return (first, last) if 0 <= first <= last < size else None
