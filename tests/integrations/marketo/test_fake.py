"""The fake Marketo (overture/integrations/marketo/fake.py), proven faithful by a client nobody here wrote:
`marketorestpython`'s MarketoClient runs each call Overture uses against it. Then its faults and limits, through
plain HTTP, each as the connector will meet it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from marketorestpython.client import MarketoClient
from marketorestpython.helper import http_lib

from fakes.marketo import FakeClock, FakeMarketo

CREDENTIALS = "grant_type=client_credentials&client_id=overture&client_secret=secret"
WEBINAR = {1001: ["Not in Program", "Invited", "Registered", "Attended"]}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeMarketo], MarketoClient]:
    """marketorestpython's client pointed at a fake. The library paces itself to 5 calls a second with time.sleep;
    its pacing is its own business (the fake's limits are tested below), so its sleep does nothing here."""
    monkeypatch.setattr(http_lib, "time", types.SimpleNamespace(time=time.time, sleep=lambda seconds: None))

    def make(fake: FakeMarketo) -> MarketoClient:
        made = MarketoClient("123-ABC-456", "overture", "secret", max_retry_time=1)
        made.host = fake.url  # the library builds https://{munchkin}.mktorest.com; the fake serves plain HTTP
        return made

    return make


_http: list[httpx2.Client] = []


@pytest.fixture(autouse=True, scope="module")
def http_client() -> Iterator[None]:
    """One HTTP client for the module's plain calls (a new client per call loads the TLS context each time)."""
    with httpx2.Client(timeout=30) as opened:
        _http.append(opened)
        yield
        _http.clear()


def token(fake: FakeMarketo) -> str:
    return str(_http[0].get(f"{fake.url}/identity/oauth/token?{CREDENTIALS}").json()["access_token"])


def call(fake: FakeMarketo, method: str, path: str, **options: Any) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {options.pop('bearer', None) or token(fake)}", **options.pop("headers", {})}
    return _http[0].request(method, fake.url + path, headers=headers, **options)


def error_code(response: httpx2.Response) -> str:
    body = response.json()
    assert response.status_code == 200 and body["success"] is False, body
    return str(body["errors"][0]["code"])


# --- marketorestpython against the fake -----------------------------------------------------------------------------


def test_the_python_client_authenticates_and_reads_the_lead_and_company_descriptions(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    marketo = client(start_marketo())
    fields = {field["rest"]["name"]: field for field in marketo.execute(method="describe")}
    assert fields["email"]["dataType"] == "email" and fields["createdAt"]["rest"]["readOnly"] is True
    [lead_object] = marketo.execute(method="describe2")
    assert ["email"] in lead_object["searchableFields"]
    assert {
        "name": "firstName",
        "displayName": "First Name",
        "dataType": "string",
        "length": 255,
        "updateable": True,
        "crmManaged": False,
    } in lead_object["fields"]
    [company_object] = marketo.execute(method="describe_company")
    assert company_object["dedupeFields"] == ["externalCompanyId"]
    assert marketo.token.endswith(":int") and marketo.expires_in == 3599


def test_the_python_client_reads_generated_leads_by_filter_and_upserts_one(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo(leads=500, companies=20)
    marketo = client(fake)
    third = fake.lead(3)
    assert third is not None
    found = marketo.execute(
        method="get_multiple_leads_by_filter_type",
        filterType="email",
        filterValues=[third["email"], "nobody@example.com"],
        fields=["email", "company"],
    )
    assert found == [{"id": 3, "email": third["email"], "company": third["company"]}]
    paged = marketo.execute(
        method="get_multiple_leads_by_filter_type",
        filterType="id",
        filterValues=[str(i) for i in range(1, 251)],
        batchSize=100,
    )
    assert [lead["id"] for lead in paged] == list(range(1, 251))

    written = marketo.execute(
        method="create_update_leads",
        leads=[
            {"email": third["email"], "title": "CMO"},
            {"email": "kat@example.com", "firstName": "Kat"},
            {"email": "bad@example.com", "favouriteColour": "teal"},
        ],
        action="createOrUpdate",
        lookupField="email",
    )
    assert written == [
        {"id": 3, "status": "updated"},
        {"id": 501, "status": "created"},
        {"status": "skipped", "reasons": [{"code": "1006", "message": "Field 'favouriteColour' not found"}]},
    ]
    assert fake.lead(3)["title"] == "CMO"  # type: ignore[index]
    assert fake.lead_by_email("kat@example.com")["firstName"] == "Kat"  # type: ignore[index]


def test_the_python_client_reads_companies_by_external_id(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo(leads=10, companies=5)
    marketo = client(fake)
    found = marketo.execute(
        method="get_companies",
        filterType="externalCompanyId",
        filterValues=["ACCT-000002", "ACCT-999999"],
        fields=["company", "website"],
    )
    company = fake.company(2)
    assert company is not None
    assert found == [{"seq": 0, "id": 2, "company": company["company"], "website": company["website"]}]
    updated = marketo.execute(
        method="create_update_companies",
        input=[
            {"externalCompanyId": "ACCT-000002", "industry": "Media"},
            {"externalCompanyId": "NEW-1", "company": "Kite"},
        ],
    )
    assert updated == [{"seq": 0, "id": 2, "status": "updated"}, {"seq": 1, "id": 6, "status": "created"}]


def test_the_python_client_extracts_a_month_of_leads_in_bulk(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo(leads=2000, companies=50)
    marketo = client(fake)
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 31, tzinfo=UTC)
    [job] = marketo.execute(
        method="create_leads_export_job",
        fields=["id", "email", "title"],
        filters={"createdAt": {"startAt": start.isoformat(), "endAt": end.isoformat()}},
        columnHeaderNames={"email": "Email Address"},
    )
    assert job["status"] == "Created"
    assert marketo.execute(method="enqueue_leads_export_job", job_id=job["exportId"])[0]["status"] == "Queued"
    [status] = marketo.execute(method="get_leads_export_job_status", job_id=job["exportId"])
    assert status["status"] == "Completed"
    content = marketo.execute(method="get_leads_export_job_file", job_id=job["exportId"])

    assert status["fileSize"] == len(content)
    assert status["fileChecksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert status["numberOfRecords"] == len(rows) > 0
    assert list(rows[0]) == ["id", "Email Address", "title"]
    expected = [fake.lead(i) for i in range(1, 2001)]
    in_window = [lead for lead in expected if lead and "2024-01-01" <= lead["createdAt"] < "2024-01-31"]
    assert [int(row["id"]) for row in rows] == [lead["id"] for lead in in_window]
    titles = [row["title"] for row in rows]
    assert titles == [lead["title"] or "null" for lead in in_window] and "null" in titles  # empty is `null`


def test_the_python_client_pages_through_activities_from_a_paging_token(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo(leads=300, companies=10)
    marketo = client(fake)
    since = (fake.clock() - timedelta(days=30)).isoformat()
    visits = marketo.execute(method="get_lead_activities", activityTypeIds=["1", "11"], sinceDatetime=since)
    assert visits and {a["activityTypeId"] for a in visits} == {1, 11}
    assert all(a["activityDate"] >= since[:19] for a in visits)
    assert len({a["marketoGUID"] for a in visits}) == len(visits)
    fake.change_lead(7, fake.clock(), title="Founder")
    changes = marketo.execute(method="get_lead_changes", fields=["title"], sinceDatetime=since)
    assert [(c["leadId"], c["fields"][0]["name"], c["fields"][0]["newValue"]) for c in changes] == [
        (7, "title", "Founder")
    ]


def test_the_python_client_creates_approves_and_writes_a_custom_activity(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo()
    lead = fake.add_lead(email="kat@example.com")
    marketo = client(fake)
    [draft] = marketo.execute(
        method="create_custom_activity_type",
        apiName="engagedWithDialogue",
        name="Engaged with a Dialogue",
        triggerName="Engages with a Dialogue",
        filterName="Engaged with a Dialogue",
        primaryAttributeApiName="dialogue",
        primaryAttributeName="Dialogue",
    )
    assert draft["status"] == "draft"
    marketo.execute(
        method="create_custom_activity_type_attribute",
        apiName="engagedWithDialogue",
        attributes=[{"apiName": "pageUrl", "name": "Page URL", "dataType": "link"}],
    )
    early = {
        "leadId": lead,
        "activityDate": "2025-03-14T15:00:00Z",
        "activityTypeId": draft["id"],
        "primaryAttributeValue": "Pricing",
        "attributes": [{"apiName": "pageUrl", "value": "https://x.test/"}],
    }
    [refused] = marketo.execute(method="add_custom_activities", input=[early])
    assert refused["status"] == "skipped" and refused["errors"][0]["code"] == "1013"
    assert marketo.execute(method="approve_custom_activity_type", apiName="engagedWithDialogue")[0]["status"] == (
        "approved"
    )
    [added] = marketo.execute(method="add_custom_activities", input=[early])
    assert added["status"] == "added"
    assert fake.custom_activities == [
        {
            "id": added["id"],
            "leadId": lead,
            "activityDate": "2025-03-14T15:00:00Z",
            "activityTypeId": draft["id"],
            "apiName": "engagedWithDialogue",
            "primaryAttributeValue": "Pricing",
            "attributes": {"pageUrl": "https://x.test/"},
        }
    ]
    assert any(t["id"] == draft["id"] for t in marketo.execute(method="get_activity_types"))


def test_the_python_client_sets_a_program_status_and_adds_to_a_static_list(
    start_marketo: Callable[..., FakeMarketo], client: Callable[[FakeMarketo], MarketoClient]
) -> None:
    fake = start_marketo(programs=WEBINAR)
    kat, bo = fake.add_lead(email="kat@example.com"), fake.add_lead(email="bo@example.com")
    marketo = client(fake)
    marketo.authenticate()  # the library has no method for this newer call: its own transport makes it
    upsert = marketo._api_call(
        "post",
        f"{fake.url}/rest/v1/programs/1001/members/status.json",
        {"access_token": marketo.token},
        {"statusName": "Registered", "input": [{"leadId": kat}, {"leadId": 999}]},
    )
    assert upsert["result"] == [
        {"seq": 0, "status": "created", "leadId": kat},
        {"seq": 1, "status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]},
    ]
    moved = marketo.execute(method="change_lead_program_status", id=1001, leadIds=[kat, bo], status="Attended")
    assert [item["status"] for item in moved] == ["updated", "skipped"]
    assert fake.program_members(1001) == {kat: "Attended"}
    added = marketo.execute(method="add_leads_to_list", listId=2001, id=[kat, 999])
    assert added == [
        {"id": kat, "status": "added"},
        {"id": 999, "status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]},
    ]
    assert fake.list_members(2001) == {kat}


# --- faults and limits through plain HTTP ---------------------------------------------------------------------------


def test_bad_credentials_get_401_with_an_oauth_body(marketo_fake: FakeMarketo) -> None:
    answer = httpx2.post(
        f"{marketo_fake.url}/identity/oauth/token?grant_type=client_credentials&client_id=overture&client_secret=wrong"
    )
    assert (answer.status_code, answer.json()) == (
        401,
        {"error": "invalid_client", "error_description": "Bad client credentials"},
    )


def test_the_same_token_comes_back_until_it_expires(marketo_fake: FakeMarketo, marketo_clock: FakeClock) -> None:
    first = _http[0].get(f"{marketo_fake.url}/identity/oauth/token?{CREDENTIALS}").json()
    marketo_clock.advance(seconds=600)
    again = _http[0].post(f"{marketo_fake.url}/identity/oauth/token?{CREDENTIALS}").json()
    assert (again["access_token"], again["expires_in"]) == (first["access_token"], 2999)
    marketo_clock.advance(seconds=3000)
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=first["access_token"])) == "602"
    assert token(marketo_fake) != first["access_token"]


def test_expired_tokens_answer_602_and_a_new_token_works(marketo_fake: FakeMarketo) -> None:
    old = token(marketo_fake)
    marketo_fake.expire_tokens()
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=old)) == "602"
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer="forged:int")) == "601"
    assert call(marketo_fake, "GET", "/rest/v1/leads/describe.json").json()["success"] is True


def test_a_full_rate_window_answers_606_until_the_clock_moves_20_seconds(
    marketo_fake: FakeMarketo, marketo_clock: FakeClock
) -> None:
    marketo_fake.rate_limit = 5
    bearer = token(marketo_fake)
    answers = [call(marketo_fake, "GET", "/rest/v1/activities/types.json", bearer=bearer) for _ in range(6)]
    assert [a.json()["success"] for a in answers] == [True] * 5 + [False]
    assert answers[-1].json()["errors"] == [{"code": "606", "message": "Max rate limit '5' exceeded with in '20' secs"}]
    marketo_clock.advance(seconds=19)
    assert error_code(call(marketo_fake, "GET", "/rest/v1/activities/types.json", bearer=bearer)) == "606"
    marketo_clock.advance(seconds=1)
    assert call(marketo_fake, "GET", "/rest/v1/activities/types.json", bearer=bearer).json()["success"] is True


def test_an_eleventh_call_in_flight_answers_615(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    marketo_fake.slow_next(60, times=10)
    answers: list[httpx2.Response] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer))
        )
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    try:
        assert marketo_fake.wait_for_in_flight(10)
        assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer)) == "615"
    finally:
        marketo_fake.release_slow()
        for thread in threads:
            thread.join()
    assert [a.json()["success"] for a in answers] == [True] * 10


def test_the_daily_quota_answers_607_until_midnight_in_chicago(
    marketo_fake: FakeMarketo, marketo_clock: FakeClock
) -> None:
    marketo_fake.daily_quota = 3
    bearer = token(marketo_fake)
    for _ in range(3):
        assert call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer).json()["success"]
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer)) == "607"
    # 15:00 UTC is 10:00 in Chicago (CDT): midnight there is 14 hours on, not 9 (UTC's midnight).
    marketo_clock.advance(hours=9, minutes=30)
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json")) == "607"
    marketo_clock.advance(hours=4, minutes=30)
    assert call(marketo_fake, "GET", "/rest/v1/leads/describe.json").json()["success"] is True


def test_injected_faults_answer_once_each_then_the_call_succeeds(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    marketo_fake.fail_next("713", path="/leads/describe")
    marketo_fake.fail_http_next(502)
    assert call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer).status_code == 502
    assert error_code(call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer)) == "713"
    marketo_fake.drop_next_connection()
    with pytest.raises(httpx2.RemoteProtocolError):
        call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer)
    assert call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer).json()["success"] is True


def test_a_slow_answer_outlasts_a_short_client_timeout(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    marketo_fake.slow_next(30)
    try:
        with pytest.raises(httpx2.ReadTimeout):
            call(marketo_fake, "GET", "/rest/v1/leads/describe.json", bearer=bearer, timeout=0.2)
    finally:
        marketo_fake.release_slow()


def export(fake: FakeMarketo, bearer: str, **body: Any) -> httpx2.Response:
    payload = {
        "fields": ["id", "email"],
        "format": "CSV",
        "filter": {"createdAt": {"startAt": "2025-03-01T00:00:00Z", "endAt": "2025-03-14T00:00:00Z"}},
        **body,
    }
    return call(fake, "POST", "/bulk/v1/leads/export/create.json", bearer=bearer, json=payload)


def test_an_eleventh_queued_export_answers_1029(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    jobs = [export(marketo_fake, bearer).json()["result"][0]["exportId"] for _ in range(11)]
    for job in jobs[:10]:
        assert call(marketo_fake, "POST", f"/bulk/v1/leads/export/{job}/enqueue.json", bearer=bearer).json()["success"]
    refused = call(marketo_fake, "POST", f"/bulk/v1/leads/export/{jobs[10]}/enqueue.json", bearer=bearer)
    assert refused.json()["errors"] == [{"code": "1029", "message": "Too many jobs (10) in queue"}]


def test_an_export_window_over_31_days_is_refused(marketo_fake: FakeMarketo) -> None:
    window = {"createdAt": {"startAt": "2025-01-01T00:00:00Z", "endAt": "2025-02-02T00:00:00Z"}}
    refused = export(marketo_fake, token(marketo_fake), filter=window).json()
    assert refused["errors"] == [{"code": "1003", "message": "Date range of 'createdAt' must not exceed 31 days"}]


def test_a_range_of_the_export_file_answers_206_with_its_content_range(
    start_marketo: Callable[..., FakeMarketo],
) -> None:
    fake = start_marketo(leads=20000)
    bearer = token(fake)
    job = export(fake, bearer).json()["result"][0]["exportId"]
    call(fake, "POST", f"/bulk/v1/leads/export/{job}/enqueue.json", bearer=bearer)
    size = call(fake, "GET", f"/bulk/v1/leads/export/{job}/status.json", bearer=bearer).json()["result"][0]["fileSize"]
    whole = call(fake, "GET", f"/bulk/v1/leads/export/{job}/file.json", bearer=bearer).content
    part = call(fake, "GET", f"/bulk/v1/leads/export/{job}/file.json", bearer=bearer, headers={"Range": "bytes=10-99"})
    assert (part.status_code, part.headers["Content-Range"], part.content) == (
        206,
        f"bytes 10-99/{size}",
        whole[10:100],
    )


def test_an_unknown_or_unfinished_export_file_answers_404_in_plain_text(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    job = export(marketo_fake, bearer).json()["result"][0]["exportId"]
    for export_id in ("no-such-export", job):
        answer = call(marketo_fake, "GET", f"/bulk/v1/leads/export/{export_id}/file.json", bearer=bearer)
        assert (answer.status_code, answer.headers["Content-Type"]) == (404, "text/plain")


def test_a_failed_bulk_job_reports_its_error(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    marketo_fake.fail_next_bulk_job("Export failed: disk full")
    job = export(marketo_fake, bearer).json()["result"][0]["exportId"]
    call(marketo_fake, "POST", f"/bulk/v1/leads/export/{job}/enqueue.json", bearer=bearer)
    status = call(marketo_fake, "GET", f"/bulk/v1/leads/export/{job}/status.json", bearer=bearer).json()["result"][0]
    assert (status["status"], status["errorMsg"]) == ("Failed", "Export failed: disk full")


def test_a_bulk_job_moves_on_by_the_clock_when_it_has_a_delay(
    start_marketo: Callable[..., FakeMarketo], marketo_clock: FakeClock
) -> None:
    fake = start_marketo(bulk_delay=60)
    bearer = token(fake)
    job = export(fake, bearer).json()["result"][0]["exportId"]
    call(fake, "POST", f"/bulk/v1/leads/export/{job}/enqueue.json", bearer=bearer)
    seen = []
    for _ in range(3):
        seen.append(call(fake, "GET", f"/bulk/v1/leads/export/{job}/status.json", bearer=bearer).json()["result"][0])
        marketo_clock.advance(seconds=60)
    assert [s["status"] for s in seen] == ["Queued", "Processing", "Completed"]


def pages(fake: FakeMarketo, bearer: str, since: str, types_: str) -> Iterator[dict[str, Any]]:
    page_token = call(
        fake, "GET", "/rest/v1/activities/pagingtoken.json", bearer=bearer, params={"sinceDatetime": since}
    ).json()["nextPageToken"]
    while True:
        page = call(
            fake,
            "GET",
            "/rest/v1/activities.json",
            bearer=bearer,
            params={"nextPageToken": page_token, "activityTypeIds": types_},
        ).json()
        yield page
        if not page["moreResult"]:
            return
        page_token = page["nextPageToken"]


def test_activity_pages_may_be_empty_while_more_results_remain(marketo_fake: FakeMarketo) -> None:
    lead = marketo_fake.add_lead(email="kat@example.com")
    moment = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    for minute in range(5):
        marketo_fake.add_activity(lead, 1, moment + timedelta(minutes=minute), "www.example.com/pricing")
    form = marketo_fake.add_activity(lead, 2, moment + timedelta(minutes=6), "Demo Request")
    marketo_fake.activity_window = 2
    seen = list(pages(marketo_fake, token(marketo_fake), "2025-03-14T00:00:00-06:00", "2"))
    assert [len(page.get("result", [])) for page in seen] == [0, 0, 1]
    assert "result" not in seen[0] and all(page["nextPageToken"] for page in seen)
    assert seen[2]["result"][0]["id"] == form


def test_more_than_1000_matching_leads_answer_1003_and_a_standard_field_answers_1011(
    start_marketo: Callable[..., FakeMarketo],
) -> None:
    fake = start_marketo(leads=1500)
    bearer = token(fake)
    many = call(
        fake, "GET", "/rest/v1/leads.json", bearer=bearer, params={"filterType": "leadPartitionId", "filterValues": "1"}
    )
    assert many.json()["errors"] == [{"code": "1003", "message": "Too many results match the filter"}]
    by_title = call(
        fake, "GET", "/rest/v1/leads.json", bearer=bearer, params={"filterType": "title", "filterValues": "CTO"}
    )
    assert error_code(by_title) == "1011"


def test_a_url_over_8_kb_answers_414_and_the_post_form_fallback_answers_the_query(marketo_fake: FakeMarketo) -> None:
    bearer = token(marketo_fake)
    emails = ",".join(f"someone.with.a.long.name{i}@example.com" for i in range(290))
    marketo_fake.add_lead(email="someone.with.a.long.name7@example.com", firstName="Seven")
    query = {"filterType": "email", "filterValues": emails, "fields": "firstName"}
    assert call(marketo_fake, "GET", "/rest/v1/leads.json", bearer=bearer, params=query).status_code == 414
    fallback = call(marketo_fake, "POST", "/rest/v1/leads.json?_method=GET", bearer=bearer, data=query)
    assert fallback.json()["result"] == [{"id": 1, "firstName": "Seven"}]


def test_a_post_without_json_content_type_answers_612(marketo_fake: FakeMarketo) -> None:
    body = json.dumps({"input": [{"email": "kat@example.com"}]})
    answer = call(marketo_fake, "POST", "/rest/v1/leads.json", content=body, headers={"Content-Type": "text/plain"})
    assert error_code(answer) == "612"


def test_an_unknown_path_answers_610_inside_http_200(marketo_fake: FakeMarketo) -> None:
    assert error_code(call(marketo_fake, "GET", "/rest/v1/no/such/thing.json")) == "610"


def test_a_body_over_1_mb_answers_413(marketo_fake: FakeMarketo) -> None:
    big = {"input": [{"email": f"p{i}@example.com", "title": "x" * 4000} for i in range(300)]}
    assert call(marketo_fake, "POST", "/rest/v1/leads.json", json=big).status_code == 413


def test_program_status_refuses_an_unknown_status_and_a_step_back(marketo_fake: FakeMarketo) -> None:
    kat = marketo_fake.add_lead(email="kat@example.com")
    bearer = token(marketo_fake)

    def set_status(status: str) -> dict[str, Any]:
        path = "/rest/v1/programs/1001/members/status.json"
        body = {"statusName": status, "input": [{"leadId": kat}]}
        return dict(call(marketo_fake, "POST", path, bearer=bearer, json=body).json()["result"][0])

    assert set_status("Influenced")["reasons"][0]["code"] == "1025"
    assert set_status("Registered")["status"] == "created"
    assert set_status("Invited")["reasons"] == [{"code": "1037", "message": "Lead already in or past this status"}]
    assert marketo_fake.program_members(1001) == {kat: "Registered"}


def test_custom_activity_types_stop_at_their_limits(marketo_fake: FakeMarketo) -> None:
    marketo_fake.max_custom_types, marketo_fake.max_custom_attributes = 1, 1
    bearer = token(marketo_fake)

    def create(api_name: str) -> httpx2.Response:
        body = {
            "apiName": api_name,
            "name": api_name,
            "triggerName": api_name,
            "filterName": api_name,
            "primaryAttribute": {"apiName": "dialogue", "name": "Dialogue", "dataType": "string"},
        }
        return call(marketo_fake, "POST", "/rest/v1/activities/external/type.json", bearer=bearer, json=body)

    assert create("chatOne").json()["success"] and error_code(create("chatTwo")) == "1027"
    attributes = {"attributes": [{"apiName": f"a{i}", "name": f"A{i}", "dataType": "string"} for i in range(2)]}
    path = "/rest/v1/activities/external/type/chatOne/attributes/create.json"
    assert error_code(call(marketo_fake, "POST", path, bearer=bearer, json=attributes)) == "1028"


def test_a_static_list_takes_ids_in_the_query_and_removes_them(marketo_fake: FakeMarketo) -> None:
    kat = marketo_fake.add_lead(email="kat@example.com")
    bearer = token(marketo_fake)
    added = call(marketo_fake, "POST", f"/rest/v1/lists/7/leads.json?id={kat}", bearer=bearer).json()
    assert added["result"] == [{"id": kat, "status": "added"}]
    removed = call(
        marketo_fake, "DELETE", "/rest/v1/lists/7/leads.json", bearer=bearer, json={"input": [{"id": kat}]}
    ).json()
    assert removed["result"] == [{"id": kat, "status": "removed"}] and marketo_fake.list_members(7) == set()


def test_the_generated_data_set_is_the_same_for_a_seed_and_a_million_leads_cost_nothing_to_build(
    marketo_clock: FakeClock,
) -> None:
    big = FakeMarketo(leads=1_000_000, companies=50_000, seed=7, clock=marketo_clock)
    again = FakeMarketo(leads=1_000_000, companies=50_000, seed=7, clock=marketo_clock)
    other = FakeMarketo(leads=1_000_000, companies=50_000, seed=8, clock=marketo_clock)
    last = big.lead(1_000_000)
    assert last is not None and last == again.lead(1_000_000) and last != other.lead(1_000_000)
    assert big.lead(1_000_001) is None and big.lead_by_email(last["email"]) == last
    company = big.store.company_by_external(last["externalCompanyId"])
    assert company is not None and last["email"].endswith("@" + company["website"].removeprefix("www."))
    assert "2023-03-14" <= big.lead(1)["createdAt"] < last["createdAt"] <= "2025-03-14T15:00:00Z"  # type: ignore[index]
