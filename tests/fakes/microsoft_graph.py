"""A local fake of Microsoft Graph (Outlook calendar) and the Microsoft identity platform, for tests.

It follows /work/shared/reference/microsoft-graph.md: the v2 authorize and token endpoints (authorization code and
refresh token grants, a new refresh token replacing the old one, `invalid_grant` errors), `POST
/v1.0/me/calendar/getSchedule` (items in UTC unless `Prefer: outlook.timezone` names a zone), events created (201,
`transactionId` deduplication, Teams `onlineMeeting.joinUrl`), changed (PATCH 200, `If-Match` 412), deleted (204)
and cancelled (202), 401 `InvalidAuthenticationToken` for an expired token, 429 with `Retry-After` after a number of
calls per window, and 503/504 on demand. One server answers for both hosts, in a thread on a free local port.
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

CHANGE_KEY_MISMATCH = (
    "The send or update operation could not be performed because the change key passed in the request does not "
    "match the current change key for the item."
)
UNKNOWN_MAILBOX = {"message": "The user is not found.", "responseCode": "ErrorMailRecipientNotFound"}
AVAILABILITY_DIGITS = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingelsewhere": "4"}


@dataclass
class FakeGraph:
    """The fake's state, which tests read and change directly."""

    url: str = ""
    client_id: str = "overture-client"
    client_secret: str = "overture-secret"
    mailbox: str = "rep@contoso.example"
    access_tokens: dict[str, bool] = field(default_factory=dict)  # token -> still valid
    refresh_tokens: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    throttle_after: int | None = None  # Graph calls allowed per window before 429
    retry_after: str | None = "7"
    graph_calls: int = 0
    fail_next: list[int] = field(default_factory=list)  # statuses to answer next (503, 504, ...)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def login_url(self) -> str:
        return self.url + "/login"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0"

    def grant(self) -> tuple[str, str]:
        """Tokens as if the agent had just consented: (access token, refresh token)."""
        access, refresh = f"eyJ.{uuid.uuid4().hex}", f"AwAB.{uuid.uuid4().hex}"
        self.access_tokens[access] = True
        self.refresh_tokens.add(refresh)
        return access, refresh

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens:
            self.access_tokens[token] = False

    def revoke_refresh_tokens(self) -> None:
        self.refresh_tokens.clear()

    def new_window(self) -> None:
        """The throttling window passed."""
        self.graph_calls = 0

    def add_event(self, subject: str, start: datetime, end: datetime, show_as: str = "busy") -> dict[str, Any]:
        """An event the owner made in Outlook themselves."""
        return self._store({"subject": subject, "start": _dtz(start), "end": _dtz(end), "showAs": show_as})

    def _store(self, body: dict[str, Any], online: bool = False) -> dict[str, Any]:
        event_id = "AAMk" + uuid.uuid4().hex
        event = {
            **body,
            "id": event_id,
            "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex,
            "isOrganizer": True,
            "showAs": body.get("showAs", "busy"),
            "type": "singleInstance",
            "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}",
            "organizer": {"emailAddress": {"address": self.mailbox, "name": "Rep"}},
            "isCancelled": False,
        }
        event["attendees"] = [
            {**a, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}} for a in body.get("attendees", [])
        ]
        if online:
            event["onlineMeeting"] = {"joinUrl": f"https://teams.microsoft.com/l/meetup-join/{uuid.uuid4().hex}"}
        _new_version(event)
        self.events[event_id] = event
        return event


def _new_version(event: dict[str, Any]) -> None:
    event["changeKey"] = uuid.uuid4().hex[:20]
    event["@odata.etag"] = f'W/"{event["changeKey"]}"'


def _dtz(moment: datetime, zone: str = "UTC") -> dict[str, str]:
    local = moment.astimezone(UTC if zone == "UTC" else ZoneInfo(zone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone}


def _instant(value: dict[str, str]) -> datetime:
    zone = value.get("timeZone", "UTC")
    moment = datetime.fromisoformat(value["dateTime"])
    return moment.replace(tzinfo=UTC if zone == "UTC" else ZoneInfo(zone)).astimezone(UTC)


def _graph_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    inner: dict[str, str] = {"date": now, "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}
    if status == 429:
        inner |= {"code": "429", "status": "429"}
    return status, {"error": {"code": code, "message": message, "innerError": inner}}


def _token_error(error: str, code: int, description: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_: object) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        with fake.lock:
            fake.requests.append((self.command, path, dict(self.headers.items())))
            if path.startswith("/login/"):
                result = self._login(fake, path, raw)
            else:
                result = self._graph(fake, path, raw)
        status, body, *rest = result
        self._answer(status, body, rest[0] if rest else None)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    # -- identity platform ---------------------------------------------------------------------------------------

    def _login(self, fake: FakeGraph, path: str, raw: bytes) -> tuple[Any, ...]:
        if path.endswith("/oauth2/v2.0/authorize") and self.command == "GET":
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if query.get("client_id") != fake.client_id:
                return 400, {"error": "unauthorized_client"}
            code = "M." + uuid.uuid4().hex
            fake.codes[code] = query.get("redirect_uri", "")
            location = f"{query.get('redirect_uri')}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            return 302, None, {"Location": location}
        if not (path.endswith("/oauth2/v2.0/token") and self.command == "POST"):
            return 404, {"error": "not_found"}
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("client_id") != fake.client_id or form.get("client_secret") != fake.client_secret:
            return 401, _token_error("invalid_client", 7000215, "Invalid client secret provided.")[1]
        grant = form.get("grant_type")
        if grant == "authorization_code":
            redirect = fake.codes.pop(form.get("code", ""), None)
            if redirect is None or redirect != form.get("redirect_uri"):
                return _token_error(
                    "invalid_grant", 70008, "The provided authorization code or refresh token has expired."
                )
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            if token not in fake.refresh_tokens:
                return _token_error(
                    "invalid_grant", 70008, "The provided authorization code or refresh token has expired."
                )
            fake.refresh_tokens.discard(token)  # the new refresh token replaces the old one
        else:
            return _token_error("unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        access, refresh = fake.grant()
        body = {"token_type": "Bearer", "scope": form.get("scope", ""), "expires_in": 3599, "access_token": access}
        if "offline_access" in form.get("scope", "").split():
            body["refresh_token"] = refresh
        else:
            fake.refresh_tokens.discard(refresh)
        return 200, body

    # -- Graph -------------------------------------------------------------------------------------------------

    def _graph(self, fake: FakeGraph, path: str, raw: bytes) -> tuple[Any, ...]:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in fake.access_tokens:
            return _graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
        if not fake.access_tokens[token]:
            return _graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        fake.graph_calls += 1
        if fake.fail_next:
            status = fake.fail_next.pop(0)
            headers = {"Retry-After": fake.retry_after} if fake.retry_after else {}
            code = "ServiceNotAvailable" if status == 503 else "GatewayTimeout"
            return *_graph_error(status, code, "The service is temporarily unavailable."), headers
        if fake.throttle_after is not None and fake.graph_calls > fake.throttle_after:
            headers = {"Retry-After": fake.retry_after} if fake.retry_after else {}
            return *_graph_error(429, "TooManyRequests", "Please retry again later."), headers
        body = json.loads(raw) if raw else {}
        if path == "/v1.0/me/calendar/getSchedule" and self.command == "POST":
            return self._schedule(fake, body)
        if path == "/v1.0/me/events" and self.command == "POST":
            return self._create(fake, body)
        match = re.fullmatch(r"/v1\.0/me/events/([^/]+)(/cancel)?", path)
        if match is None:
            return _graph_error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        event = fake.events.get(match.group(1))
        if event is None or event["isCancelled"]:
            return _graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if match.group(2):
            if self.command != "POST":
                return _graph_error(405, "MethodNotAllowed", "Method not allowed.")
            if not event["isOrganizer"]:
                return _graph_error(400, "ErrorAccessDenied", "Your request can't be completed.")
            event["isCancelled"] = True
            return 202, None
        if self.command == "GET":
            return 200, event
        if self.command == "DELETE":
            del fake.events[event["id"]]
            return 204, None
        if self.command == "PATCH":
            wanted = self.headers.get("If-Match")
            if wanted and wanted != event["@odata.etag"]:
                return _graph_error(
                    412,
                    "ErrorIrresolvableConflict",
                    CHANGE_KEY_MISMATCH,
                )
            online = body.pop("isOnlineMeeting", event.get("isOnlineMeeting"))
            event.update(body)
            if online and "onlineMeeting" not in event:
                event["onlineMeeting"] = {"joinUrl": f"https://teams.microsoft.com/l/meetup-join/{uuid.uuid4().hex}"}
            event["isOnlineMeeting"] = bool(online)
            event["attendees"] = [
                {**a, "status": a.get("status") or {"response": "none", "time": "0001-01-01T00:00:00Z"}}
                for a in event.get("attendees", [])
            ]
            _new_version(event)
            return 200, event
        return _graph_error(405, "MethodNotAllowed", "Method not allowed.")

    def _create(self, fake: FakeGraph, body: dict[str, Any]) -> tuple[Any, ...]:
        transaction = body.get("transactionId")
        if transaction:
            for event in fake.events.values():
                if event.get("transactionId") == transaction:
                    return 201, event  # same transactionId on retry: no duplicate
        online = bool(body.get("isOnlineMeeting")) and body.get("onlineMeetingProvider") == "teamsForBusiness"
        return 201, fake._store(body, online=online)

    def _schedule(self, fake: FakeGraph, body: dict[str, Any]) -> tuple[Any, ...]:
        match = re.search(r'outlook\.timezone="([^"]+)"', self.headers.get("Prefer", ""))
        zone = match.group(1) if match else "UTC"
        start, end = _instant(body["startTime"]), _instant(body["endTime"])
        if end - start >= timedelta(days=62):
            return _graph_error(400, "ErrorInvalidTimeInterval", "The time interval must be less than 62 days.")
        interval = int(body.get("availabilityViewInterval", 30))
        values = []
        for address in body["schedules"]:
            if address != fake.mailbox:
                values.append({"scheduleId": address, "availabilityView": "",
                               "error": UNKNOWN_MAILBOX})  # fmt: skip
                continue
            items = []
            for event in fake.events.values():
                begins, ends = _instant(event["start"]), _instant(event["end"])
                if event["isCancelled"] or ends <= start or begins >= end:
                    continue
                items.append({"status": event["showAs"], "isPrivate": False, "subject": event.get("subject", ""),
                              "start": _dtz(begins, zone), "end": _dtz(ends, zone)})  # fmt: skip
            slots = math.ceil((end - start) / timedelta(minutes=interval))
            view = ""
            for slot in range(slots):
                slot_start = start + slot * timedelta(minutes=interval)
                slot_end = slot_start + timedelta(minutes=interval)
                digit = "0"
                for item in items:
                    if _instant(item["start"]) < slot_end and _instant(item["end"]) > slot_start:
                        digit = max(digit, AVAILABILITY_DIGITS.get(item["status"].lower(), "0"))
                view += digit
            values.append({"scheduleId": address, "availabilityView": view, "scheduleItems": items,
                           "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                                            "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                                            "timeZone": {"name": "UTC"}}})  # fmt: skip
        return 200, {"value": values}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGraph


@contextmanager
def running_fake_graph() -> Iterator[FakeGraph]:
    """Start the fake on a free local port in a thread; stop it on exit."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeGraph(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
