"""The bulk lead export: created for a window of at most 31 days, enqueued, waited for no faster than Marketo
updates it, and its file downloaded in byte ranges, resumable from an offset, checked against its checksum; a
failed, canceled or vanished export is a clear error."""

from __future__ import annotations

import csv
import io
import math
from datetime import timedelta

import pytest

from overture.integrations.marketo.errors import ExportFailed, MarketoError
from overture.integrations.marketo.schemas import ExportJob

from .client_support import START, Clock, StartMarketo, calls_to, marketo

FIELDS = ["id", "email", "firstName", "createdAt"]
MONTH_AGO = START - timedelta(days=31)


def _file_calls(fake: object, job: ExportJob) -> int:
    return calls_to(fake, f"/bulk/v1/leads/export/{job.export_id}/file.json")  # type: ignore[arg-type]


def test_the_leads_created_in_a_month_are_exported_and_downloaded_range_by_range(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=2000) as (fake, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START, column_names={"email": "Email Address"})
        assert created.status == "Created"
        client.enqueue_lead_export(created.export_id)
        job = client.wait_for_lead_export(created.export_id)
        chunks = list(client.lead_export_file(job, chunk_bytes=1024))
        assert _file_calls(fake, job) == math.ceil((job.file_size or 0) / 1024)
    assert max(len(chunk) for chunk in chunks) == 1024
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert rows[0] == ["id", "Email Address", "firstName", "createdAt"]
    assert len(rows) - 1 == job.number_of_records and (job.number_of_records or 0) > 20
    assert all(MONTH_AGO.isoformat()[:10] <= row[3][:10] <= START.isoformat()[:10] for row in rows[1:])


def test_a_download_resumes_from_a_byte_offset_and_still_checks_the_whole_file(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=2000) as (_, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        job = client.wait_for_lead_export(created.export_id)
        whole = b"".join(client.lead_export_file(job, chunk_bytes=1000))
        rest = b"".join(client.lead_export_file(job, offset=2500, chunk_bytes=1000))
    assert rest == whole[2500:]


def test_a_file_that_does_not_match_its_checksum_is_refused_after_its_last_chunk(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=500) as (_, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        job = client.wait_for_lead_export(created.export_id)
        tampered = job.model_copy(update={"file_checksum": "sha256:" + "0" * 64})
        received = bytearray()
        with pytest.raises(ExportFailed) as refused:
            for chunk in client.lead_export_file(tampered, chunk_bytes=4096):
                received += chunk
    assert len(received) == job.file_size
    assert "the file received does not match its checksum (Marketo: sha256:0000" in refused.value.message


def test_the_status_is_polled_every_minute_until_the_export_completes(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=200, bulk_delay=150) as (_, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        job = client.wait_for_lead_export(created.export_id)
    assert job.status == "Completed"
    assert clock.sleeps == [60.0] * 5


def test_a_failed_export_is_a_clear_error_with_marketo_s_reason(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=200) as (fake, client):
        fake.fail_next_bulk_job(message="Internal error while exporting")
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        with pytest.raises(ExportFailed) as failed:
            client.wait_for_lead_export(created.export_id)
    assert failed.value.message == (
        f"Marketo's bulk export {created.export_id} gave no usable file: Marketo says it failed (Internal error "
        "while exporting); a new export has to be created."
    )


def test_a_canceled_export_is_reported_as_canceled(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=200, bulk_delay=150) as (_, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        assert client.cancel_lead_export(created.export_id).status == "Canceled"
        with pytest.raises(ExportFailed, match="it was canceled; a new export has to be created"):
            client.wait_for_lead_export(created.export_id)


def test_a_full_export_queue_is_waited_for_and_the_export_enqueued_once(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=200) as (fake, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        fake.fail_next("1029", path="enqueue")
        assert client.enqueue_lead_export(created.export_id).status == "Queued"
        assert clock.sleeps == [2.0]


def test_the_file_of_an_export_marketo_no_longer_keeps_is_a_clear_error(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock(), leads=200) as (_, client):
        gone = ExportJob.model_validate({"exportId": "ce45a7a1-0000", "status": "Completed", "fileSize": 10})
        with pytest.raises(ExportFailed, match="Marketo has no file for it .*it keeps files 7 days"):
            list(client.lead_export_file(gone))


def test_a_window_over_31_days_is_refused_before_anything_is_sent(start_marketo: StartMarketo) -> None:
    with marketo(start_marketo, Clock()) as (fake, client):
        with pytest.raises(ValueError, match="a window of at most 31 days"):
            client.create_lead_export(FIELDS, START - timedelta(days=31, seconds=1), START)
        with pytest.raises(ValueError, match="a window of at most 31 days"):
            client.create_lead_export(FIELDS, START, START - timedelta(days=1))
        assert fake.calls == []


def test_enqueuing_an_export_twice_is_refused_at_once(start_marketo: StartMarketo) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=200, bulk_delay=150) as (_, client):
        created = client.create_lead_export(FIELDS, MONTH_AGO, START)
        client.enqueue_lead_export(created.export_id)
        with pytest.raises(MarketoError) as refused:
            client.enqueue_lead_export(created.export_id)
    assert refused.value.code == "1029"
    assert clock.sleeps == []
