"""A local fake of the Marketo REST and Bulk APIs that Overture uses, faithful to Marketo's documented behaviour
(envelopes, string error codes inside HTTP 200, paging tokens, bulk job states and files, limits). It ships in the
package because `overture integrations marketo fake` starts it for the demo, benchmarks and evaluators; the tests
start it in a thread. Standard library only.

Start one::

    fake = FakeMarketo(leads=0, companies=0, seed=1, clock=None, client_id="overture", client_secret="secret",
                       programs={1001: ["Not in Program", "Invited", "Registered", "Attended"]}, bulk_delay=0,
                       lists=None, activities_per_lead=2.0)
    with fake.running() as base_url:   # "http://127.0.0.1:PORT": the REST base (paths /rest/v1, /bulk/v1, /identity)
        ...

`leads`/`companies` generated records come from `seed` (fake_data.py), derived on read: a million leads start at
once. `clock` is a callable returning an aware datetime (default: the real one; `FakeClock` is one tests move);
every limit, token expiry and bulk job reads it. `programs` maps a program id to its channel's statuses in order;
`lists` maps static list ids to names (None: every positive id is a list). `start(host, port) -> url` and `stop()`
do what `running()` does, in two steps.

State, for tests to set up and check (each is safe to call while the server runs):
    add_lead(email=..., **fields) -> id      a lead that was always there (no activity recorded)
    lead(id) -> dict | None; lead_by_email(email) -> dict | None
    add_company(**fields) -> id; company(id) -> dict | None
    add_activity(lead_id, type_id, at, primary_value=None, attributes=None) -> activity id
    change_lead(id, at, **fields)            changes fields, recording Change Data Value (13) activities
    custom_activities -> list[dict]          added through the API: id, leadId, activityDate, activityTypeId,
                                             apiName, primaryAttributeValue, attributes {apiName: value}
    custom_activity_types -> list[dict]; export_jobs -> list[dict] (as the status endpoint shows them)
    program_members(program_id) -> {lead_id: status}; list_members(list_id) -> set of lead ids
    calls -> [(method, path)] of every request answered (dropped ones excluded)

Faults, each for the next `times` calls (optionally only calls whose path contains `path`):
    fail_next(code, times=1, path=None)      envelope error in HTTP 200: "601", "602", "604", "606", "615", ...
    fail_http_next(status, times=1, path=None)   e.g. 500, 502, 503 with a plain-text body
    slow_next(seconds, times=1)              answers after a real delay (release_slow() ends the waits early)
    drop_next_connection(times=1)            closes the socket without answering
    expire_tokens()                          every live token answers 602 next time
    fail_next_bulk_job(message)              the next enqueued export ends Failed with that errorMsg

Limits, settable: rate_limit (100) calls per rate_window_seconds (20) sliding (606); concurrency_limit (10) in
flight (615; `in_flight`, `wait_for_in_flight(n)`); daily_quota (50,000) calls, reset at 00:00 America/Chicago
(607); activity_window (1,000 ids scanned per activity page); max_queued_exports (10) and export_daily_bytes
(500 MB) (1029); max_custom_types (10, 1027) and max_custom_attributes (20, 1028). Batches are 300.

Calls that are refused for auth (601/602) or by a limit do not count toward the rate or the quota. A POST with a
body needs `Content-Type: application/json` (612), except the `_method=GET` form fallback (its query in a
form-encoded body). URLs over 8 KB answer 414, bodies over 1 MB 413, an unknown path 610 (HTTP 200), a known
path with the wrong method 605.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from overture.integrations.marketo.fake_bulk import Exports, byte_range
from overture.integrations.marketo.fake_data import COMPANY_FIELD_NAMES, LEAD_FIELD_NAMES, Generated
from overture.integrations.marketo.fake_endpoints import Call, Endpoints
from overture.integrations.marketo.fake_outbound import Outbound, public_type
from overture.integrations.marketo.fake_server import Answer, Server, handler_for
from overture.integrations.marketo.fake_store import Refusal, Store

Clock = Callable[[], datetime]
TOKEN_SECONDS = 3600
MAX_URL = 8 * 1024
CENTRAL = ZoneInfo("America/Chicago")
DEFAULT_PROGRAMS = {1001: ["Not in Program", "Invited", "Registered", "Attended"]}
MESSAGES = {
    "601": "Access token invalid", "602": "Access token expired", "603": "Access denied",
    "604": "Request timed out", "605": "HTTP Method not supported",
    "606": "Max rate limit '100' exceeded with in '20' secs",
    "607": "Daily quota reached", "608": "API Temporarily Unavailable", "609": "Invalid JSON",
    "610": "Requested resource not found", "611": "System error", "612": "Invalid Content Type",
    "615": "Concurrent access limit reached", "713": "Transient Error", "1029": "Too many jobs in queue",
}  # fmt: skip
HTTP_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
BULK = "/bulk/v1/leads/export"
# (method, path pattern, handler name): handlers live on Endpoints ("e."), Outbound ("o.") or the fake ("f.").
ROUTES = [
    ("GET", r"/rest/v1/leads/describe\.json", "e.describe_leads"),
    ("GET", r"/rest/v1/leads/describe2\.json", "e.describe_leads2"),
    ("GET", r"/rest/v1/leads\.json", "e.get_leads"),
    ("POST", r"/rest/v1/leads\.json", "e.sync_leads"),
    ("GET", r"/rest/v1/lead/(\d+)\.json", "e.get_lead"),
    ("GET", r"/rest/v1/companies/describe\.json", "e.describe_companies"),
    ("GET", r"/rest/v1/companies\.json", "e.get_companies"),
    ("POST", r"/rest/v1/companies\.json", "e.sync_companies"),
    ("GET", r"/rest/v1/activities/types\.json", "e.activity_types"),
    ("GET", r"/rest/v1/activities/pagingtoken\.json", "e.paging_token"),
    ("GET", r"/rest/v1/activities\.json", "e.activities"),
    ("GET", r"/rest/v1/activities/leadchanges\.json", "e.lead_changes"),
    ("GET", r"/rest/v1/activities/external/types\.json", "o.custom_types"),
    ("GET", r"/rest/v1/activities/external/type/([^/]+)/describe\.json", "o.describe_type"),
    ("POST", r"/rest/v1/activities/external/type\.json", "o.create_type"),
    ("POST", r"/rest/v1/activities/external/type/([^/]+)/attributes/create\.json", "o.add_attributes"),
    ("POST", r"/rest/v1/activities/external/type/([^/]+)/approve\.json", "o.approve_type"),
    ("POST", r"/rest/v1/activities/external\.json", "o.add_custom_activities"),
    ("POST", r"/rest/v1/programs/(\d+)/members/status\.json", "o.member_status"),
    ("GET", r"/rest/v1/programs/(\d+)/members\.json", "o.program_members"),
    ("POST", r"/rest/v1/leads/programs/(\d+)/status\.json", "o.legacy_status"),
    ("POST", r"/rest/v1/lists/(\d+)/leads\.json", "o.add_to_list"),
    ("DELETE", r"/rest/v1/lists/(\d+)/leads\.json", "o.remove_from_list"),
    ("GET", r"/rest/v1/lists?/(\d+)/leads\.json", "o.list_leads"),
    ("GET", BULK + r"\.json", "f.list_exports"),
    ("POST", BULK + r"/create\.json", "f.create_export"),
    ("POST", BULK + r"/([^/]+)/enqueue\.json", "f.enqueue_export"),
    ("GET", BULK + r"/([^/]+)/status\.json", "f.export_status"),
    ("POST", BULK + r"/([^/]+)/cancel\.json", "f.cancel_export"),
]
COMPILED = [(method, re.compile(pattern), name) for method, pattern, name in ROUTES]
FILE_PATH = re.compile(BULK + r"/([^/]+)/file\.json")


class FakeClock:
    """A clock tests move by hand: `clock()` is the time, `advance(seconds=20)` moves it on."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (with a time zone)")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.now += timedelta(seconds=seconds, **delta)


@dataclass
class _Fault:
    kind: str  # envelope, http, slow, drop
    value: Any
    times: int
    path: str | None
    release: threading.Event = field(default_factory=threading.Event)


def _real_clock() -> datetime:
    return datetime.now(UTC)


class FakeMarketo:
    """One fake Marketo instance; see the module docstring for what tests call."""

    def __init__(
        self,
        leads: int = 0,
        companies: int = 0,
        seed: int = 1,
        clock: Clock | None = None,
        client_id: str = "overture",
        client_secret: str = "secret",
        programs: dict[int, list[str]] | None = None,
        bulk_delay: float = 0,
        lists: dict[int, str] | None = None,
        activities_per_lead: float = 2.0,
    ) -> None:
        if leads < 0 or companies < 0:
            raise ValueError(f"leads and companies cannot be negative (got {leads} and {companies})")
        self.clock: Clock = clock or _real_clock
        self.client_id, self.client_secret = client_id, client_secret
        programs = dict(DEFAULT_PROGRAMS if programs is None else programs)
        generated = Generated(leads, companies, seed, self.clock().replace(microsecond=0), activities_per_lead,
                              tuple(sorted(programs)))  # fmt: skip
        self.store = Store(generated, programs, lists)
        self.endpoints = Endpoints(self.store)
        self.outbound = Outbound(self.endpoints)
        self.exports = Exports(self._export_rows, bulk_delay)
        self.rate_limit, self.rate_window_seconds = 100, 20.0
        self.concurrency_limit, self.daily_quota = 10, 50_000
        self.url = ""
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._flight = threading.Condition()
        self._in_flight = 0
        self._faults: list[_Fault] = []
        self._tokens: dict[str, tuple[str, datetime]] = {}  # token -> client id, expiry
        self._expired: set[str] = set()
        self._window: deque[datetime] = deque()
        self._day: date | None = None
        self._day_calls = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- settable limits kept by the parts ------------------------------------------------------------------------

    @property
    def activity_window(self) -> int:
        return self.endpoints.activity_window

    @activity_window.setter
    def activity_window(self, value: int) -> None:
        self.endpoints.activity_window = value

    @property
    def max_queued_exports(self) -> int:
        return self.exports.max_queued

    @max_queued_exports.setter
    def max_queued_exports(self, value: int) -> None:
        self.exports.max_queued = value

    @property
    def export_daily_bytes(self) -> int:
        return self.exports.daily_bytes

    @export_daily_bytes.setter
    def export_daily_bytes(self, value: int) -> None:
        self.exports.daily_bytes = value

    @property
    def max_custom_types(self) -> int:
        return self.endpoints.max_custom_types

    @max_custom_types.setter
    def max_custom_types(self, value: int) -> None:
        self.endpoints.max_custom_types = value

    @property
    def max_custom_attributes(self) -> int:
        return self.endpoints.max_custom_attributes

    @max_custom_attributes.setter
    def max_custom_attributes(self, value: int) -> None:
        self.endpoints.max_custom_attributes = value

    # -- state for tests -----------------------------------------------------------------------------------------

    def add_lead(self, email: str | None = None, **fields: Any) -> int:
        """Raises ValueError naming a field Marketo does not have."""
        _known(fields, LEAD_FIELD_NAMES, "lead")
        with self._lock:
            return self.store.create_lead({"email": email, **fields}, self.clock(), record_activity=False)

    def lead(self, lead_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self.store.lead(lead_id)

    def lead_by_email(self, email: str) -> dict[str, Any] | None:
        with self._lock:
            ids = self.store.lead_ids_by_email(email)
            return self.store.lead(ids[0]) if ids else None

    def add_company(self, **fields: Any) -> int:
        """Raises ValueError naming a field Marketo does not have."""
        _known(fields, COMPANY_FIELD_NAMES, "company")
        with self._lock:
            return self.store.save_company(fields, self.clock(), None)

    def company(self, company_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self.store.company(company_id)

    def add_activity(
        self,
        lead_id: int,
        type_id: int,
        at: datetime,
        primary_value: Any = None,
        attributes: dict[str, Any] | None = None,
    ) -> int:
        with self._lock:
            if not self.store.lead_exists(lead_id):
                raise ValueError(f"lead {lead_id} does not exist in the fake")
            pairs = list((attributes or {}).items())
            return int(self.store.add_activity(lead_id, type_id, at, None, primary_value, pairs)["id"])

    def change_lead(self, lead_id: int, at: datetime, **fields: Any) -> None:
        """Raises ValueError for an unknown lead or field."""
        _known(fields, LEAD_FIELD_NAMES, "lead")
        with self._lock:
            if not self.store.lead_exists(lead_id):
                raise ValueError(f"lead {lead_id} does not exist in the fake")
            self.store.update_lead(lead_id, fields, at, source="Changed in Marketo")

    @property
    def custom_activities(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": a["id"], "leadId": a["leadId"], "activityDate": a["activityDate"],
                     "activityTypeId": a["activityTypeId"], "apiName": a["_apiName"],
                     "primaryAttributeValue": a["primaryAttributeValue"], "attributes": dict(a["_attributes"])}
                    for a in self.store.activities if a.get("_custom")]  # fmt: skip

    @property
    def custom_activity_types(self) -> list[dict[str, Any]]:
        with self._lock:
            return [public_type(t) for t in self.store.custom_types.values()]

    @property
    def export_jobs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [job.public() for job in self.exports.jobs.values()]

    def program_members(self, program_id: int) -> dict[int, str]:
        with self._lock:
            return dict(self.store.members.get(program_id, {}))

    def list_members(self, list_id: int) -> set[int]:
        with self._lock:
            return set(self.store.list_members.get(list_id, set()))

    # -- faults --------------------------------------------------------------------------------------------------

    def fail_next(self, code: str, times: int = 1, path: str | None = None) -> None:
        self._faults.append(_Fault("envelope", str(code), times, path))

    def fail_http_next(self, status: int, times: int = 1, path: str | None = None) -> None:
        self._faults.append(_Fault("http", status, times, path))

    def slow_next(self, seconds: float, times: int = 1) -> None:
        self._faults.append(_Fault("slow", seconds, times, None))

    def drop_next_connection(self, times: int = 1) -> None:
        self._faults.append(_Fault("drop", None, times, None))

    def release_slow(self) -> None:
        """Ends every slow answer's wait now."""
        for fault in list(self._faults):
            if fault.kind == "slow":
                fault.release.set()

    def expire_tokens(self) -> None:
        with self._lock:
            self._expired.update(self._tokens)

    def fail_next_bulk_job(self, message: str = "Export failed: internal error") -> None:
        with self._lock:
            self.exports.fail_next.append(message)

    @property
    def in_flight(self) -> int:
        with self._flight:
            return self._in_flight

    def wait_for_in_flight(self, count: int, timeout: float = 10) -> bool:
        """Blocks until `count` calls are in flight (True) or `timeout` seconds pass (False)."""
        with self._flight:
            return self._flight.wait_for(lambda: self._in_flight >= count, timeout)

    def _take_fault(self, kind: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.times > 0 and (fault.path is None or fault.path in path):
                    fault.times -= 1
                    if fault.times == 0 and kind != "slow":
                        self._faults.remove(fault)
                    return fault
        return None

    # -- serving -------------------------------------------------------------------------------------------------

    @contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serves in a thread; yields the base URL; stops and deletes its export files on leaving."""
        url = self.start(host, port)
        try:
            yield url
        finally:
            self.stop()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves in a daemon thread and returns the base URL. Raises OSError when the port is taken."""
        self._server = Server((host, port), handler_for(self.handle))
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.url = f"http://{shown}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="marketo-fake")  # fmt: skip
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.release_slow()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.exports.close()
        self.url = ""

    # -- one request ---------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one HTTP request (headers with lower-case names)."""
        path = urlsplit(target).path
        if len(target) > MAX_URL:
            return self._record(method, path, Answer(414, b"URI Too Long", "text/plain"))
        if self._take_fault("drop", path):
            return Answer(0, drop=True)
        identity = path == "/identity/oauth/token"
        with self._flight:
            if not identity and self._in_flight >= self.concurrency_limit:
                return self._record(method, path, _envelope_error("615", MESSAGES["615"]))
            self._in_flight += int(not identity)
            self._flight.notify_all()
        try:
            slow = self._take_fault("slow", path)
            if slow is not None:
                slow.release.wait(float(slow.value))
            return self._record(method, path, self._answer(method, target, path, headers, body, identity))
        finally:
            if not identity:
                with self._flight:
                    self._in_flight -= 1

    def _record(self, method: str, path: str, answer: Answer) -> Answer:
        with self._lock:
            self.calls.append((method, path))
        return answer

    def _answer(
        self, method: str, target: str, path: str, headers: dict[str, str], body: bytes, identity: bool
    ) -> Answer:
        failure = self._take_fault("http", path)
        if failure is not None:
            status = int(failure.value)
            return Answer(status, f"{status} {HTTP_REASONS.get(status, 'Error')}".encode(), "text/plain")
        params = parse_qs(urlsplit(target).query, keep_blank_values=True)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        form = content_type == "application/x-www-form-urlencoded"
        if method == "POST" and form:
            posted = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            if identity or (params.get("_method") or posted.get("_method")) == ["GET"]:
                for key, values in posted.items():
                    params.setdefault(key, []).extend(values)
                method, body = ("GET", b"") if not identity else (method, body)
        params.pop("_method", None)
        if identity:
            return self._token({key: values[-1] for key, values in params.items()})
        with self._lock:
            try:
                self._authorised(headers, params)
                fault = self._take_fault("envelope", path)
                if fault is not None:
                    return _envelope_error(fault.value, MESSAGES.get(fault.value, "Error"))
                self._count()
                if method == "GET" and FILE_PATH.fullmatch(path):
                    return self._file(FILE_PATH.fullmatch(path)[1], headers)  # type: ignore[index]
                if method in ("POST", "DELETE") and body.strip() and content_type != "application/json":
                    raise Refusal("612", MESSAGES["612"])
                try:
                    payload = json.loads(body) if body.strip() else None
                except ValueError:
                    raise Refusal("609", MESSAGES["609"]) from None
                return self._route(method, path, params, payload)
            except Refusal as refusal:
                return _envelope_error(refusal.code, refusal.message)

    def _authorised(self, headers: dict[str, str], params: dict[str, list[str]]) -> None:
        """Checks the caller's token; raises Refusal 601 (missing or unknown) or 602 (expired)."""
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else (params.pop("access_token", [""])[-1])
        params.pop("access_token", None)
        if token not in self._tokens:
            raise Refusal("601", MESSAGES["601"])
        if token in self._expired or self.clock() >= self._tokens[token][1]:
            raise Refusal("602", MESSAGES["602"])

    def _count(self) -> None:
        """Counts the call toward the daily quota and the rate window; raises Refusal 607 or 606 when full."""
        now = self.clock()
        today = now.astimezone(CENTRAL).date()
        if today != self._day:
            self._day, self._day_calls = today, 0
        if self._day_calls >= self.daily_quota:
            raise Refusal("607", MESSAGES["607"])
        window = timedelta(seconds=self.rate_window_seconds)
        while self._window and self._window[0] <= now - window:
            self._window.popleft()
        if len(self._window) >= self.rate_limit:
            limit, seconds = self.rate_limit, self.rate_window_seconds
            raise Refusal("606", f"Max rate limit '{limit}' exceeded with in '{seconds:g}' secs")
        self._window.append(now)
        self._day_calls += 1

    def _route(self, method: str, path: str, params: dict[str, list[str]], payload: Any) -> Answer:
        known_path = False
        for allowed, pattern, name in COMPILED:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            known_path = True
            if allowed != method:
                continue
            owner, _, attribute = name.partition(".")
            target = {"e": self.endpoints, "o": self.outbound, "f": self}[owner]
            handler: Callable[[Call], dict[str, Any]] = getattr(target, attribute)
            return _envelope(handler(Call(params, payload, found.groups(), self.clock())))
        code = "605" if known_path else "610"
        return _envelope_error(code, MESSAGES[code])

    def _token(self, params: dict[str, str]) -> Answer:
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            return _json(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        if params.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type",
                               "error_description": f"Unsupported grant type: {params.get('grant_type')}"})  # fmt: skip
        now = self.clock()
        with self._lock:
            live = [t for t, (client, expiry) in self._tokens.items()
                    if client == self.client_id and t not in self._expired and now < expiry]  # fmt: skip
            token = live[0] if live else f"{uuid.uuid4()}:int"
            if not live:
                self._tokens[token] = (self.client_id, now + timedelta(seconds=TOKEN_SECONDS))
            remaining = int((self._tokens[token][1] - now).total_seconds()) - 1
        return _json(200, {"access_token": token, "token_type": "bearer", "expires_in": max(remaining, 0),
                           "scope": "apis@overture.example"})  # fmt: skip

    # -- bulk lead extract ---------------------------------------------------------------------------------------

    def _central_day(self) -> date:
        return self.clock().astimezone(CENTRAL).date()

    def list_exports(self, call: Call) -> dict[str, Any]:
        wanted = set(call.listed("status"))
        return {"result": [j.public() for j in self.exports.jobs.values() if not wanted or j.status in wanted]}

    def create_export(self, call: Call) -> dict[str, Any]:
        return {"result": [self.exports.create(call.body, call.now).public()]}

    def enqueue_export(self, call: Call) -> dict[str, Any]:
        return {"result": [self.exports.enqueue(call.groups[0], call.now, self._central_day()).public()]}

    def export_status(self, call: Call) -> dict[str, Any]:
        return {"result": [self.exports.status(call.groups[0], call.now, self._central_day()).public()]}

    def cancel_export(self, call: Call) -> dict[str, Any]:
        return {"result": [self.exports.cancel(call.groups[0]).public()]}

    def _file(self, export_id: str, headers: dict[str, str]) -> Answer:
        job = self.exports.file(export_id, self.clock())
        if job is None or job.path is None:
            return Answer(404, b"Export file not found or not ready", "text/plain")
        content_type = "text/csv;charset=UTF-8"
        if "range" not in headers:
            return Answer(200, content_type=content_type, file=(job.path, 0, job.size - 1))
        wanted = byte_range(headers["range"], job.size)
        if wanted is None:
            return Answer(416, b"Requested Range Not Satisfiable", "text/plain",
                          {"Content-Range": f"bytes */{job.size}"})  # fmt: skip
        first, last = wanted
        return Answer(206, content_type=content_type, file=(job.path, first, last),
                      headers={"Content-Range": f"bytes {first}-{last}/{job.size}"})  # fmt: skip

    def _export_rows(self, filter_name: str, value: Any) -> Iterator[dict[str, Any]]:
        if filter_name == "createdAt":
            yield from self.store.leads_created_between(*value)
        elif filter_name == "updatedAt":
            yield from self.store.leads_updated_between(*value)
        else:
            list_id = int(value) if filter_name == "staticListId" else _list_named(self.store.lists, str(value))
            for lead_id in sorted(self.store.list_members.get(list_id or 0, set())):
                lead = self.store.lead(lead_id)
                if lead is not None:
                    yield lead


def _known(fields: dict[str, Any], known: tuple[str, ...], kind: str) -> None:
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise ValueError(f"Marketo has no {kind} field '{unknown[0]}' (fields: {', '.join(known)})")


def _list_named(lists: dict[int, str] | None, name: str) -> int | None:
    return next((i for i, n in (lists or {}).items() if n == name), None)


def _request_id() -> str:
    return f"{secrets.token_hex(2)}#{secrets.token_hex(6)}"


def _json(status: int, payload: dict[str, Any]) -> Answer:
    return Answer(status, json.dumps(payload).encode())


def _envelope(contents: dict[str, Any]) -> Answer:
    return _json(200, {"requestId": _request_id(), "success": True, **contents})


def _envelope_error(code: str, message: str) -> Answer:
    return _json(200, {"requestId": _request_id(), "success": False, "errors": [{"code": code, "message": message}]})
