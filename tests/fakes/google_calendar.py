"""A local fake of Google Calendar API v3 and Google's OAuth token endpoint, faithful to
`/work/shared/reference/google-calendar.md`: same paths, status codes and nested error bodies.

- `POST /token`: authorization_code and refresh_token grants (form); a refresh answers without a new refresh token;
  a revoked or unknown refresh token answers 400 `invalid_grant`.
- `POST /calendar/v3/freeBusy`: busy times of stored events (and `busy_blocks` added by tests), keyed by requested
  id; an unknown calendar gets `errors: [{domain: global, reason: notFound}]`; `timeMax <= timeMin` is 400
  `timeRangeEmpty`.
- `POST /calendar/v3/calendars/{cal}/events`: insert answers 200 (not 201) with the full Event; a repeated id is
  409 `duplicate`; ids must be 5-1024 base32hex characters; `conferenceDataVersion=1` with a createRequest adds a
  `hangoutLink`.
- `PATCH .../events/{id}`: merges the partial Event, 412 `conditionNotMet` on a stale `If-Match`.
- `DELETE .../events/{id}`: 204 with no body, then 410 `deleted`; unknown ids 404 `notFound`.
- Every API call needs `Authorization: Bearer <live access token>`, else 401 `authError`. `expire_tokens()` kills
  the live ones; `fail_next(...)` injects a 403/429/5xx answer (with `Retry-After`) for the next API call.

It runs on a free port in a thread (`http.server`), one instance per test.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
ERROR_DOMAINS = {
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "quotaExceeded": "usageLimits",
}
STATUS_MESSAGES = {
    401: "Invalid Credentials",
    403: "Rate Limit Exceeded",
    404: "Not Found",
    409: "The requested identifier already exists.",
    410: "Resource has been deleted",
    412: "Precondition Failed",
    429: "Rate Limit Exceeded",
    500: "Backend Error",
    503: "Backend Error",
}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _instant(when: dict[str, Any]) -> datetime:
    if "dateTime" in when:
        return datetime.fromisoformat(when["dateTime"]).astimezone(UTC)
    return datetime.fromisoformat(when["date"]).replace(tzinfo=UTC)


@dataclass
class Failure:
    status: int
    reason: str
    retry_after: str | None = None


@dataclass
class FakeGoogle:
    """The fake's state; tests read and change it directly."""

    owner: str = "rep@example.com"
    client_id: str = "overture-client"
    client_secret: str = "overture-secret"
    url: str = ""
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> refresh token it grants
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # calendar -> id -> Event
    deleted: set[tuple[str, str]] = field(default_factory=set)
    busy_blocks: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, path+query, headers
    token_grants: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.events.setdefault(self.owner, {})

    # -- what tests call -------------------------------------------------------------------------------------------

    def grant(self) -> tuple[str, str]:
        """A consent already given: a live access token and its refresh token."""
        refresh, access = "1//" + secrets.token_hex(8), "ya29." + secrets.token_hex(8)
        self.refresh_tokens.add(refresh)
        self.access_tokens.add(access)
        return access, refresh

    def authorization_code(self) -> str:
        code = "4/" + secrets.token_hex(8)
        self.codes[code] = "1//" + secrets.token_hex(8)
        return code

    def expire_tokens(self) -> None:
        self.access_tokens.clear()

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.discard(refresh_token)
        self.access_tokens.clear()

    def fail_next(self, status: int, reason: str, retry_after: str | None = None) -> None:
        self.failures.append(Failure(status, reason, retry_after))

    def calendar(self, calendar_id: str = "") -> dict[str, dict[str, Any]]:
        return self.events[calendar_id or self.owner]

    # -- request handling ----------------------------------------------------------------------------------------

    def resolve(self, calendar_id: str) -> str:
        return self.owner if calendar_id == "primary" else calendar_id

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.requests.append((method, target, headers))
            parts = urlsplit(target)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            path = parts.path
            if path == "/token" and method == "POST":
                return self._token(body)
            if not path.startswith("/calendar/v3/"):
                return _error(404, "notFound", "Not Found")
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
                return _error(401, "authError", "Invalid Credentials", location="Authorization")
            if self.failures:
                failure = self.failures.pop(0)
                extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                status, out, content = _error(failure.status, failure.reason, STATUS_MESSAGES.get(failure.status, ""))
                return status, {**out, **extra}, content
            payload = json.loads(body) if body else {}
            route = path.removeprefix("/calendar/v3")
            if route == "/freeBusy" and method == "POST":
                return self._free_busy(payload)
            match = re.fullmatch(r"/calendars/([^/]+)/events(?:/([^/]+))?", route)
            if match is None:
                return _error(404, "notFound", "Not Found")
            calendar_id, event = self.resolve(unquote(match[1])), unquote(match[2]) if match[2] else None
            if calendar_id not in self.events:
                return _error(404, "notFound", "Not Found")
            if event is None and method == "POST":
                return self._insert(calendar_id, payload, query)
            if event is not None and method == "PATCH":
                return self._patch(calendar_id, event, payload, headers)
            if event is not None and method == "DELETE":
                return self._delete(calendar_id, event, headers)
            if event is not None and method == "GET":
                found = self.events[calendar_id].get(event)
                return (200, {}, json.dumps(found).encode()) if found else _error(404, "notFound", "Not Found")
            return _error(405, "badRequest", "Method not allowed")

    def _token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = {key: values[-1] for key, values in parse_qs(body.decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type", "")
        self.token_grants.append(grant)
        access = "ya29." + secrets.token_hex(8)
        answer: dict[str, Any] = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                                  "scope": "https://www.googleapis.com/auth/calendar.events"}  # fmt: skip
        if grant == "authorization_code":
            refresh = self.codes.pop(form.get("code", ""), None)
            if refresh is None:
                return _oauth_error(400, "invalid_grant", "Malformed auth code.")
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        else:
            return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + grant)
        self.access_tokens.add(access)
        return 200, {}, json.dumps(answer).encode()

    def _free_busy(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        try:
            lower, upper = datetime.fromisoformat(payload["timeMin"]), datetime.fromisoformat(payload["timeMax"])
        except (KeyError, ValueError):
            return _error(400, "badRequest", "Bad Request")
        if upper <= lower:
            return _error(400, "timeRangeEmpty", "The specified time range is empty.", location="timeMax")
        calendars: dict[str, Any] = {}
        for item in payload.get("items", []):
            requested = item["id"]
            calendar_id = self.resolve(requested)
            if calendar_id not in self.events:
                calendars[requested] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            spans = list(self.busy_blocks.get(calendar_id, []))
            for event in self.events[calendar_id].values():
                if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                    continue
                spans.append((_instant(event["start"]), _instant(event["end"])))
            spans = sorted((max(s, lower), min(e, upper)) for s, e in spans if s < upper and e > lower)
            merged: list[tuple[datetime, datetime]] = []
            for start, end in spans:
                if merged and start <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            calendars[requested] = {
                "busy": [
                    {"start": s.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": e.strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for s, e in merged
                ]  # fmt: skip
            }
        answer = {
            "kind": "calendar#freeBusy",
            "timeMin": _stamp(lower),
            "timeMax": _stamp(upper),
            "calendars": calendars,
        }
        return 200, {}, json.dumps(answer).encode()

    def _insert(
        self, calendar_id: str, payload: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if "start" not in payload or "end" not in payload:
            return _error(400, "required", "Missing end time.")
        event_id = payload.get("id") or secrets.token_hex(13)
        if not EVENT_ID.match(event_id):
            return _error(400, "invalid", "Invalid resource id value.")
        if event_id in self.events[calendar_id] or (calendar_id, event_id) in self.deleted:
            return _error(409, "duplicate", STATUS_MESSAGES[409])
        now = _stamp(datetime.now(UTC))
        event: dict[str, Any] = {
            **payload,
            "kind": "calendar#event",
            "id": event_id,
            "status": payload.get("status", "confirmed"),
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "created": now,
            "updated": now,
            "organizer": {"email": calendar_id, "self": True},
            "creator": {"email": calendar_id, "self": True},
            "attendees": [{**a, "responseStatus": "needsAction"} for a in payload.get("attendees", [])],
            "_sendUpdates": query.get("sendUpdates", ""),
        }
        create = payload.get("conferenceData", {}).get("createRequest")
        if create and query.get("conferenceDataVersion") == "1":
            link = f"https://meet.google.com/{event_id[:3]}-{event_id[3:7]}-{event_id[7:10]}"
            event["hangoutLink"] = link
            event["conferenceData"] = {
                "createRequest": {**create, "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": link}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": link.rsplit("/", 1)[1],
            }
        else:
            event.pop("conferenceData", None)
        event["etag"] = _etag()
        self.events[calendar_id][event_id] = event
        return 200, {}, _public(event)

    def _patch(
        self, calendar_id: str, event_id: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        event = self.events[calendar_id].get(event_id)
        if event is None:
            gone = (calendar_id, event_id) in self.deleted
            return _error(410, "deleted", STATUS_MESSAGES[410]) if gone else _error(404, "notFound", "Not Found")
        if "if-match" in headers and headers["if-match"] != event["etag"]:
            return _error(412, "conditionNotMet", STATUS_MESSAGES[412], location="If-Match")
        if any(key in payload for key in ("start", "end", "location")):
            event["sequence"] += 1
        event.update(payload)
        if "attendees" in payload:
            event["attendees"] = [{**a, "responseStatus": a.get("responseStatus", "needsAction")}
                                  for a in payload["attendees"]]  # fmt: skip
        event["updated"] = _stamp(datetime.now(UTC))
        event["etag"] = _etag()
        return 200, {}, _public(event)

    def _delete(self, calendar_id: str, event_id: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        event = self.events[calendar_id].get(event_id)
        if event is None:
            gone = (calendar_id, event_id) in self.deleted
            return _error(410, "deleted", STATUS_MESSAGES[410]) if gone else _error(404, "notFound", "Not Found")
        if "if-match" in headers and headers["if-match"] != event["etag"]:
            return _error(412, "conditionNotMet", STATUS_MESSAGES[412], location="If-Match")
        del self.events[calendar_id][event_id]
        self.deleted.add((calendar_id, event_id))
        return 204, {}, b""


_etag_counter = iter(range(1, 1 << 62))


def _etag() -> str:
    return f'"3{next(_etag_counter):015d}"'


def _public(event: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in event.items() if not k.startswith("_")}).encode()


def _error(status: int, reason: str, message: str, location: str | None = None) -> tuple[int, dict[str, str], bytes]:
    item: dict[str, str] = {"domain": ERROR_DOMAINS.get(reason, "global"), "reason": reason, "message": message}
    if location:
        item.update({"locationType": "header" if location[0].isupper() else "parameter", "location": location})
    body = {"error": {"errors": [item], "code": status, "message": message}}
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if status == 401 else {}
    return status, headers, json.dumps(body).encode()


def _oauth_error(status: int, error: str, description: str) -> tuple[int, dict[str, str], bytes]:
    return status, {}, json.dumps({"error": error, "error_description": description}).encode()


def serve(fake: FakeGoogle) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Run the fake on a free local port; `fake.url` is set to its root."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, content = fake.handle(self.command, self.path, headers, body)
            self.send_response(status)
            if content:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(content)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            if content:
                self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread
