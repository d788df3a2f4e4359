"""Google Calendar (API v3) over `http.py`, with the agent's OAuth tokens (see `oauth.py`).

- Busy time: `POST /freeBusy` for the one calendar; Google already merges and expands recurring events.
- Writes: `events.insert` with an event id derived from Overture's uid (base32hex, so a repeat answers 409
  `duplicate` instead of writing a second event), `events.patch` and `events.delete` with `If-Match: <etag>`, so an
  event changed in the calendar meanwhile is never overwritten (412). The visitor is an attendee; `sendUpdates`
  says whether Google emails them (default "all": Google's own invitation carries the Meet link).
- Tokens: an expired access token is refreshed before the call; a 401 refreshes once and retries once. Refreshed
  tokens are handed to `on_tokens` so the caller can store them.
- Throttling (403 `rateLimitExceeded`/`userRateLimitExceeded`/`quotaExceeded`, 429) and 5xx raise
  `RetryLater`, a `CalendarError("unavailable")` carrying the `Retry-After` wait when Google sent one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx2

from overture.calendars import accounts
from overture.calendars.oauth import OAuthApp, OAuthClient, Tokens, authorization_url, callback_url
from overture.calendars.provider import BusyTime, CalendarError, Event, EventRef, RetryLater, merge_busy
from overture.calendars.world import CalendarWorld
from overture.http import BlockedAddress, HttpClient, Unreachable, retry_after_seconds
from overture.settings import Settings

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_BASE = "https://www.googleapis.com/calendar/v3"
SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
)
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})

SendUpdates = Literal["all", "externalOnly", "none"]


def google_app(client_id: str, client_secret: str, *, token_url: str = TOKEN_URL) -> OAuthApp:
    return OAuthApp(client_id, client_secret, AUTHORIZE_URL, token_url, name="Google")


def google_consent_url(app: OAuthApp, redirect_uri: str, state: str) -> str:
    """The consent link; `access_type=offline` and `prompt=consent` make Google send a refresh token every time."""
    extra = {"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}
    return authorization_url(app, redirect_uri, SCOPES, state, extra)


def event_id(uid: str) -> str:
    """Google's event id for an Overture uid: lowercase base32hex (a-v, 0-9), 5 to 1024 characters."""
    encoded = base64.b32hexencode(uid.encode()).decode().rstrip("=").lower()
    return encoded.ljust(5, "0")


def _when(moment: datetime) -> dict[str, str]:
    when = {"dateTime": moment.isoformat()}
    if isinstance(moment.tzinfo, ZoneInfo):
        when["timeZone"] = moment.tzinfo.key
    return when


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleCalendar:
    """One agent's Google calendar (`calendar_id`, "primary" by default) with the tokens from their consent.
    `meet` asks Google to add a Meet link to new events."""

    def __init__(
        self,
        tokens: Tokens,
        oauth: OAuthClient,
        *,
        http: HttpClient,
        calendar_id: str = "primary",
        api_base: str = API_BASE,
        send_updates: SendUpdates = "all",
        meet: bool = False,
        on_tokens: Callable[[Tokens], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.tokens = tokens
        self._oauth = oauth
        self._http = http
        self.calendar_id = calendar_id
        self._base = api_base.rstrip("/")
        self._send_updates = send_updates
        self._meet = meet
        self._on_tokens = on_tokens
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- HTTP with tokens and errors a person understands --------------------------------------------------------

    def _refresh(self) -> None:
        self.tokens = self._oauth.refresh(self.tokens)
        if self._on_tokens is not None:
            self._on_tokens(self.tokens)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        what: str,
        ok: tuple[int, ...] = (200,),
    ) -> httpx2.Response:
        url = self._base + path + (f"?{urlencode(query)}" if query else "")
        content = json.dumps(body).encode() if body is not None else None
        if self.tokens.expired(self._clock()):
            self._refresh()
        response = self._send(method, url, content, headers, what)
        if response.status_code == 401:
            # The access token expired early or was revoked: one refresh, one more try.
            self._refresh()
            response = self._send(method, url, content, headers, what)
        if response.status_code in ok:
            return response
        raise self._failure(response, what)

    def _send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str] | None, what: str
    ) -> httpx2.Response:
        sent = {"Authorization": f"Bearer {self.tokens.access_token}", "Accept": "application/json", **(headers or {})}
        if content is not None:
            sent["Content-Type"] = "application/json"
        try:
            return self._http.request(method, url, headers=sent, content=content)
        except Unreachable as exc:
            raise CalendarError(
                "unavailable", f"Overture could not reach Google Calendar to {what}; it will try again."
            ) from exc
        except BlockedAddress as exc:
            raise CalendarError("rejected", exc.message) from exc

    def _failure(self, response: httpx2.Response, what: str) -> CalendarError:
        status = response.status_code
        reason, message = _google_error(response)
        if status == 401:
            return CalendarError(
                "credentials",
                f"Google did not accept Overture's access to your calendar, so Overture could not {what}. "
                "Connect the calendar again on the Calendar page.",
            )
        if status == 429 or status >= 500 or (status == 403 and reason in THROTTLE_REASONS):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            detail = f"HTTP {status} {reason}".strip()
            later = f" in {round(wait)} seconds" if wait is not None else ""
            return RetryLater(
                f"Google Calendar is busy or failing ({detail}), so Overture could not {what}; "
                f"it will try again{later}.",
                wait,
            )
        if status == 403:
            return CalendarError(
                "credentials",
                f"Google does not let this account {what} ({message or reason}). "
                "Check the calendar's sharing rights, or connect a calendar the agent owns on the Calendar page.",
            )
        if status in (404, 410):
            return CalendarError(
                "gone",
                f"The Google calendar {self.calendar_id} or the event no longer exists, so Overture could not {what}. "
                "Connect the calendar again on the Calendar page.",
            )
        if status in (409, 412):
            return CalendarError(
                "changed",
                f"The event was changed in Google Calendar since Overture last wrote it, so Overture did not {what}. "
                "Reload the meeting and try again.",
            )
        return CalendarError("rejected", f"Google Calendar refused to {what} (HTTP {status}: {message or reason}).")

    # -- Busy time -----------------------------------------------------------------------------------------------

    def busy(self, start: datetime, end: datetime) -> list[BusyTime]:
        what = "read your busy times"
        body = {
            "timeMin": _rfc3339(start),
            "timeMax": _rfc3339(end),
            "timeZone": "UTC",
            "items": [{"id": self.calendar_id}],
        }
        answer = _json(self._call("POST", "/freeBusy", body=body, what=what), what)
        calendar = answer.get("calendars", {}).get(self.calendar_id, {})
        errors = calendar.get("errors") or []
        if errors:
            reason = str(errors[0].get("reason", ""))
            if reason == "notFound":
                raise CalendarError(
                    "gone",
                    f"Google has no calendar {self.calendar_id} this account can read, so Overture could not {what}. "
                    "Connect the calendar again on the Calendar page.",
                )
            raise RetryLater(f"Google Calendar could not {what} ({reason}); Overture will try again.", None)
        times: list[BusyTime] = []
        lower, upper = start.astimezone(UTC), end.astimezone(UTC)
        for item in calendar.get("busy", []):
            begins = max(datetime.fromisoformat(item["start"]).astimezone(UTC), lower)
            ends = min(datetime.fromisoformat(item["end"]).astimezone(UTC), upper)
            if ends > begins:
                times.append(BusyTime(begins, ends))
        return merge_busy(times)

    # -- Writes --------------------------------------------------------------------------------------------------

    def _events_path(self, event: str | None = None) -> str:
        path = f"/calendars/{quote(self.calendar_id, safe='')}/events"
        return path + (f"/{quote(event, safe='')}" if event else "")

    def _body(self, event: Event) -> dict[str, Any]:
        body: dict[str, Any] = {
            "summary": event.summary,
            "description": event.description,
            "location": event.location,
            "start": _when(event.start),
            "end": _when(event.end),
            "attendees": [
                {"email": person.email, **({"displayName": person.name} if person.name else {})}
                for person in event.attendees
            ],
        }
        return body

    def create_event(self, event: Event) -> EventRef:
        what = f'add the meeting "{event.summary}" to your calendar'
        body = {**self._body(event), "id": event_id(event.uid)}
        query: dict[str, str] = {"sendUpdates": self._send_updates}
        if self._meet:
            body["conferenceData"] = {
                "createRequest": {"requestId": event_id(event.uid), "conferenceSolutionKey": {"type": "hangoutsMeet"}}
            }
            query["conferenceDataVersion"] = "1"
        answer = _json(self._call("POST", self._events_path(), query=query, body=body, what=what), what)
        link = answer.get("hangoutLink")
        return EventRef(event.uid, str(answer["id"]), answer.get("etag"), str(link) if link else None)

    def update_event(self, ref: EventRef, event: Event) -> EventRef:
        what = f'change the meeting "{event.summary}" in your calendar'
        headers = {"If-Match": ref.etag} if ref.etag else None
        response = self._call(
            "PATCH",
            self._events_path(ref.href),
            query={"sendUpdates": self._send_updates},
            body=self._body(event),
            headers=headers,
            what=what,
        )
        answer = _json(response, what)
        return EventRef(event.uid, str(answer["id"]), answer.get("etag"))

    def cancel_event(self, ref: EventRef) -> None:
        self._call(
            "DELETE",
            self._events_path(ref.href),
            query={"sendUpdates": self._send_updates},
            headers={"If-Match": ref.etag} if ref.etag else None,
            what="remove the cancelled meeting from your calendar",
            ok=(200, 204, 404, 410),
        )


def _google_error(response: httpx2.Response) -> tuple[str, str]:
    """The first error reason and the message of Google's nested error body (empty when there is none)."""
    try:
        error = json.loads(response.content).get("error", {})
        errors = error.get("errors") or [{}]
        return str(errors[0].get("reason", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""


def _json(response: httpx2.Response, what: str) -> dict[str, Any]:
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise CalendarError("rejected", f"Google Calendar sent an answer Overture cannot read when asked to {what}.")
    return answer


# --- the entry points of a provider module (calendars/registry.py) --------------------------------------------

NAME = "google"
LABEL = "Google Calendar"
WRITES_EVENTS = True
FORM: accounts.ConnectForm | None = None


def _app(settings: Settings) -> OAuthApp:
    """The operator's app (the consent page and token endpoint may be a fake's, in tests)."""
    if not settings.google_client_id:
        raise accounts.app_removed(LABEL)
    return OAuthApp(
        settings.google_client_id,
        settings.google_client_secret.get_secret_value(),
        settings.google_oauth_url,
        settings.google_token_url,
        name="Google",
    )


def _consent_url(world: CalendarWorld, state: str) -> str:
    return google_consent_url(_app(world.settings), callback_url(world.settings, NAME), state)


CONSENT: accounts.Consent | None = accounts.Consent(
    company="Google",
    registry="the Google Cloud console (an OAuth client of type Web application)",
    variables=("OVERTURE_GOOGLE_CLIENT_ID", "OVERTURE_GOOGLE_CLIENT_SECRET"),
    guide=LABEL,
    set_up=lambda settings: bool(settings.google_client_id),
    url=_consent_url,
)


def _secret(tokens: Tokens) -> dict[str, Any]:
    expires = tokens.expires_at.isoformat() if tokens.expires_at else None
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_at": expires,
            "scope": tokens.scope}  # fmt: skip


def check_account(world: CalendarWorld, given: Mapping[str, str], now: datetime | None = None) -> accounts.Account:
    """The account an agent consented to: the callback's `code` traded for tokens, then the calendar read once."""
    oauth = OAuthClient(_app(world.settings), http=world.http)
    try:
        tokens = oauth.exchange_code(given.get("code", ""), callback_url(world.settings, NAME))
    except CalendarError as exc:
        raise accounts.refused("code", exc.message) from exc
    calendar = GoogleCalendar(tokens, oauth, http=world.http, api_base=world.settings.google_api_url)
    accounts.check_readable(calendar, "calendar", now)
    # The check may have refreshed the tokens: keep the newest.
    return accounts.Account(NAME, {"calendar_id": calendar.calendar_id}, _secret(calendar.tokens))


def open_calendar(world: CalendarWorld, stored: accounts.Stored) -> GoogleCalendar:
    app, secret = _app(world.settings), stored.secret
    expires, scope = accounts.expiry(secret), str(secret.get("scope", ""))
    tokens = Tokens(secret["access_token"], secret["refresh_token"], expires, scope)
    return GoogleCalendar(
        tokens,
        OAuthClient(app, http=world.http),
        http=world.http,
        calendar_id=str(stored.settings.get("calendar_id") or "primary"),
        api_base=world.settings.google_api_url,
        # Overture sends its own invitation; Google's is only needed to carry a Meet link it made.
        send_updates="all" if stored.online else "none",
        meet=stored.online,
        on_tokens=lambda fresh: stored.keep_secret(_secret(fresh)),
    )


def describe(settings: Mapping[str, Any]) -> str:
    return LABEL
