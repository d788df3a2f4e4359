"""The bulk lead export (reference: marketo.md, "Bulk lead extract"): how Overture reads every lead of an instance.

An export is a job on Marketo's side: `create_lead_export` (the fields, and leads created in a window of at most 31
days), `enqueue_lead_export`, then `lead_export_status` until Completed (`wait_for_lead_export` polls, no faster
than Marketo updates it: every 60 s), and `lead_export_file` downloads the file. `cancel_lead_export` stops one.

The file may be hundreds of megabytes and the HTTP client reads each answer whole, so it is asked for in byte
ranges (8 MB by default) and handed over chunk by chunk: never the whole file in memory. A download resumes from
a byte offset; the bytes before it are fetched again (not handed over) so that the sha256 of the whole file can
still be checked against the job's `fileChecksum` at the end.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from overture.integrations.marketo.errors import ExportFailed, MalformedAnswer
from overture.integrations.marketo.schemas import ExportJob
from overture.integrations.marketo.transport import Call, Transport, marketo_time

CHUNK_BYTES = 8 * 1024 * 1024  # one range request; the HTTP client holds this much at once
CHUNK_DEADLINE = 120.0  # seconds for one range: 8 MB at 70 KB/s
MAX_WINDOW = timedelta(days=31)  # the longest createdAt window Marketo takes
POLL_SECONDS = 60.0  # Marketo updates an export's status at most this often
EXPORT_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
FORMATS = ("CSV", "TSV", "SSV")


def _path(export_id: str, tail: str) -> str:
    if not EXPORT_ID.match(export_id):
        raise ValueError(f"{export_id!r} is not a Marketo export id (letters, digits and dashes).")
    return f"/bulk/v1/leads/export/{export_id}/{tail}"


class LeadExports(Transport):
    """The bulk lead export calls of a Marketo client (`client.MarketoClient` is one)."""

    def create_lead_export(
        self,
        fields: Sequence[str],
        created_from: datetime,
        created_to: datetime,
        *,
        column_names: Mapping[str, str] | None = None,
        file_format: str = "CSV",
    ) -> ExportJob:
        """Create (not start) an export of the `fields` of leads created from `created_from` to `created_to`
        (aware, at most 31 days apart), the file's header renamed by `column_names` (field to header). Raises
        `ValueError` before sending anything when the window or the fields are not what Marketo takes."""
        start = marketo_time(created_from, "created_from")
        end = marketo_time(created_to, "created_to")
        if not created_from < created_to <= created_from + MAX_WINDOW:
            raise ValueError(
                f"A bulk lead export takes leads created in a window of at most 31 days that ends after it starts, "
                f"not from {start} to {end}."
            )
        if not fields or any(not field for field in fields):
            raise ValueError("A bulk lead export needs at least one field, and no empty field names.")
        if file_format not in FORMATS:
            raise ValueError(f"A bulk lead export's format is one of {', '.join(FORMATS)}, not {file_format!r}.")
        body: dict[str, object] = {
            "fields": list(fields),
            "format": file_format,
            "filter": {"createdAt": {"startAt": start, "endAt": end}},
        }
        if column_names:
            body["columnHeaderNames"] = dict(column_names)
        call = Call("POST", "/bulk/v1/leads/export/create.json", "create a bulk lead export", repeatable=False)
        return self._one(call, ExportJob, self._result(call, body=body))

    def enqueue_lead_export(self, export_id: str) -> ExportJob:
        """Put a created export in Marketo's queue (10 may wait, 2 run; a full queue is waited for, as `1029`)."""
        call = Call("POST", _path(export_id, "enqueue.json"), "start a bulk lead export", repeatable=False)
        return self._one(call, ExportJob, self._result(call, body={}))

    def lead_export_status(self, export_id: str) -> ExportJob:
        """Where the export stands: Created, Queued, Processing, Completed (with its size and checksum), Failed
        (with Marketo's reason) or Canceled."""
        call = Call("GET", _path(export_id, "status.json"), "read a bulk lead export's status")
        return self._one(call, ExportJob, self._result(call))

    def cancel_lead_export(self, export_id: str) -> ExportJob:
        """Cancel the export (status Canceled; Marketo spells it either way)."""
        call = Call("POST", _path(export_id, "cancel.json"), "cancel a bulk lead export")
        return self._one(call, ExportJob, self._result(call, body={}))

    def wait_for_lead_export(self, export_id: str, *, every: float = POLL_SECONDS) -> ExportJob:
        """Poll the export's status every `every` seconds (the client's sleep) until it is Completed, and return
        it. Raises `ExportFailed` when Marketo failed or canceled it."""
        while True:
            job = self.lead_export_status(export_id)
            if job.status == "Completed":
                return job
            if job.status == "Failed":
                reason = job.error_msg or "it gave no reason"
                raise ExportFailed(export_id, f"Marketo says it failed ({reason}); a new export has to be created")
            if job.status in ("Canceled", "Cancelled"):
                raise ExportFailed(export_id, "it was canceled; a new export has to be created")
            self.sleep(every)

    def lead_export_file(self, job: ExportJob, *, offset: int = 0, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The file of the Completed export `job`, from byte `offset` on, in chunks of at most `chunk_bytes`.

        Each chunk is one range request. After the last chunk, the sha256 of the whole file (the bytes before
        `offset` are downloaded again to count them) is checked against the job's checksum: the iterator then
        raises `ExportFailed` when it differs, so a caller commits the end of an import only once the iterator is
        exhausted. Also raises `ExportFailed` when Marketo has no file (kept 7 days), `MalformedAnswer` for a
        range answer that does not match the range asked for, `ValueError` for a job not Completed."""
        if job.status != "Completed":
            raise ValueError(f"The export {job.export_id} is {job.status}: only a Completed export has a file.")
        if offset < 0 or chunk_bytes < 1 or (job.file_size is not None and offset > job.file_size):
            raise ValueError(f"Cannot read the export {job.export_id} from byte {offset} in chunks of {chunk_bytes}.")
        call = Call("GET", _path(job.export_id, "file.json"), "download a bulk lead export", raw=True)
        digest = hashlib.sha256()
        position = 0
        total = job.file_size
        while total is None or position < total:
            start = position
            end = position + chunk_bytes - 1
            if position < offset:
                end = min(end, offset - 1)  # the bytes already handed over: hashed, not handed over again
            chunk, total = self._range(call, job.export_id, position, end, total)
            digest.update(chunk)
            kept = chunk[max(0, offset - position) :]
            position += len(chunk)
            if kept:
                yield kept
            if len(chunk) < end - start + 1 and total is None:  # a short range ends a file of unknown length
                break
        self._verify(job, digest.hexdigest(), position, total)

    def _range(self, call: Call, export_id: str, start: int, end: int, total: int | None) -> tuple[bytes, int | None]:
        """Bytes `start` to `end` of the file (fewer at its end) and the file's length (None while unknown)."""
        response, _ = self.request(
            call, headers={"Range": f"bytes={start}-{end}"}, max_bytes=end - start + 1, deadline=CHUNK_DEADLINE
        )
        if response.status_code == 404:
            text = response.text.strip()[:200] or "no file"
            raise ExportFailed(
                export_id, f"Marketo has no file for it ({text}); it keeps files 7 days, so create a new export"
            )
        if response.status_code == 416:  # asked from the end of the file: nothing more
            return b"", start
        if response.status_code == 200:  # the whole file, Range ignored: usable only from its first byte
            if start != 0:
                raise MalformedAnswer(call.name, f"it sent the whole file when asked for bytes {start}-{end}")
            return response.content, len(response.content)
        found = CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if found is None or int(found[1]) != start or int(found[2]) - start + 1 != len(response.content):
            got = response.headers.get("Content-Range", "no Content-Range")
            raise MalformedAnswer(call.name, f"it answered bytes {start}-{end} with {got}")
        return response.content, int(found[3]) if found[3] != "*" else total

    @staticmethod
    def _verify(job: ExportJob, hexdigest: str, size: int, total: int | None) -> None:
        if total is not None and size != total:
            raise ExportFailed(job.export_id, f"its file ended after {size} bytes of {total}; download it again")
        if job.file_checksum is None:
            return
        algorithm, _, expected = job.file_checksum.partition(":")
        if algorithm.lower() != "sha256" or expected.lower() != hexdigest:
            raise ExportFailed(
                job.export_id,
                f"the file received does not match its checksum (Marketo: {job.file_checksum}, received: "
                f"sha256:{hexdigest}); download it again",
            )
