"""Microsoft Outlook calendars through Microsoft Graph (work and school accounts), over `http.py`.

- OAuth (identity platform v2): `MicrosoftApp` builds the consent URL and trades the callback's code for tokens;
  the provider refreshes the access token with the refresh token when Graph answers 401
  `InvalidAuthenticationToken`, then sends the request once more. Each refresh returns a new refresh token that
  replaces the old one, so it is handed to `on_tokens` for the caller to store.
- Busy time: `POST /me/calendar/getSchedule` for the agent's own address, asked in UTC (`Prefer:
  outlook.timezone="UTC"`), in windows shorter than the 62 days Graph accepts. Schedule items marked `free` do not
  count, `tentative` ones are tentative, every other status (busy, oof, workingElsewhere, unknown) blocks the time:
  a slot offered when the agent may not be there costs more than one not offered.
- Writes: `POST /me/events` (Graph emails the invitations itself) with a `transactionId` derived from Overture's
  uid, so a create sent twice makes one event; `PATCH` with `If-Match: <@odata.etag>` so an event changed in
  Outlook meanwhile is not overwritten (412); `POST /me/events/{id}/cancel`, which also tells the attendees.
  With `teams=True` events carry a Teams link (`isOnlineMeeting`, `onlineMeetingProvider: teamsForBusiness`).
- Throttling (429) and 503/504 become `RetryLater`, a `CalendarError` with reason "unavailable" that
  carries the `Retry-After` seconds: the caller schedules the next attempt, nothing is retried at once here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2

from overture.calendars import accounts
from overture.calendars.oauth import callback_url
from overture.calendars.provider import BusyTime, CalendarError, Event, EventRef, RetryLater, merge_busy
from overture.calendars.world import CalendarWorld
from overture.http import BlockedAddress, HttpClient, Unreachable, retry_after_seconds
from overture.settings import Settings

LOGIN_URL = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
SCOPES = "offline_access Calendars.ReadWrite User.Read"
# getSchedule refuses windows of 62 days or more.
SCHEDULE_WINDOW = timedelta(days=61)
# Token errors that only the agent can fix by connecting the calendar again.
CONSENT_ERRORS = frozenset({"invalid_grant", "invalid_client", "invalid_scope", "interaction_required"})
THROTTLE_STATUSES = frozenset({429, 503, 504})


@dataclass(frozen=True, slots=True)
class MicrosoftTokens:
    """What the token endpoint gave: store both tokens; the refresh token changes with every refresh."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MicrosoftApp:
    """The app registration in Microsoft Entra: its id and secret, the tenant (`common`, `organizations`,
    `consumers` or a tenant id) and the callback URL registered with it."""

    client_id: str
    client_secret: str
    redirect_uri: str
    tenant: str = "common"
    login_url: str = LOGIN_URL

    def _endpoint(self, name: str) -> str:
        return f"{self.login_url}/{quote(self.tenant, safe='')}/oauth2/v2.0/{name}"

    def authorize_url(self, state: str, code_challenge: str | None = None) -> str:
        """The consent page to send the agent to; the callback gets `code` and `state` back."""
        params = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "response_mode": "query",
            "scope": SCOPES,
            "state": state,
        }
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self._endpoint('authorize')}?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, http: HttpClient, code: str, code_verifier: str | None = None) -> MicrosoftTokens:
        """Trade the callback's code for tokens. Raises `CalendarError` ("credentials" for a refused code)."""
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": SCOPES,
            "code": code,
            "redirect_uri": self.redirect_uri,
            "grant_type": "authorization_code",
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        return self._token(http, form, "connect your Outlook calendar")

    def refresh(self, http: HttpClient, refresh_token: str) -> MicrosoftTokens:
        """New tokens from the refresh token. Raises `CalendarError` ("credentials" when consent must be redone)."""
        form = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": SCOPES,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
        }
        return self._token(http, form, "renew its access to your Outlook calendar")

    def _token(self, http: HttpClient, form: dict[str, str], what: str) -> MicrosoftTokens:
        url = self._endpoint("token")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = _send(http, "POST", url, headers=headers, body=urlencode(form).encode(), what=what)
        body = _json(response)
        if response.status_code == 200 and isinstance(body.get("access_token"), str):
            expires_in = body.get("expires_in")
            expires_at = datetime.now(UTC) + timedelta(seconds=int(expires_in)) if isinstance(expires_in, int) else None
            # Without offline_access there is no new refresh token: keep the one we have.
            refresh_token = body.get("refresh_token") or form.get("refresh_token", "")
            return MicrosoftTokens(body["access_token"], str(refresh_token), expires_at)
        error = str(body.get("error", ""))
        if error in CONSENT_ERRORS:
            raise CalendarError(
                "credentials",
                f"Microsoft no longer lets Overture {what} ({error}). "
                "Connect the Outlook calendar again on the Calendar page.",
            )
        if response.status_code in THROTTLE_STATUSES or error == "temporarily_unavailable":
            raise RetryLater(
                f"Microsoft sign-in is busy and Overture could not {what}; it will try again.",
                retry_after_seconds(response.headers.get("Retry-After")),
            )
        raise CalendarError(
            "rejected", f"Microsoft sign-in refused to {what} (HTTP {response.status_code}: {error or 'no reason'})."
        )


class MicrosoftCalendar:
    """One agent's Outlook calendar: `mailbox` is their address (the schedule read for busy time), `tokens` what the
    last sign-in or refresh gave. `on_tokens` receives the new tokens after each refresh, to store them.
    `teams` adds a Microsoft Teams link to the meetings written."""

    def __init__(
        self,
        mailbox: str,
        tokens: MicrosoftTokens,
        *,
        app: MicrosoftApp,
        http: HttpClient,
        on_tokens: Callable[[MicrosoftTokens], None] | None = None,
        teams: bool = False,
        graph_url: str = GRAPH_URL,
    ) -> None:
        self.mailbox = mailbox
        self.tokens = tokens
        self._app = app
        self._http = http
        self._on_tokens = on_tokens
        self.teams = teams
        self._graph_url = graph_url.rstrip("/")

    # -- HTTP with one refresh on an expired token -------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        url = self._graph_url + path
        content = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        for attempt in range(2):
            all_headers["Authorization"] = f"Bearer {self.tokens.access_token}"
            response = _send(self._http, method, url, headers=all_headers, body=content, what=what)
            if response.status_code != 401 or attempt == 1:
                break
            self.tokens = self._app.refresh(self._http, self.tokens.refresh_token)
            if self._on_tokens is not None:
                self._on_tokens(self.tokens)
        return response

    def _fail(self, response: httpx2.Response, what: str) -> CalendarError:
        status = response.status_code
        error = _json(response).get("error")
        code = str(error.get("code", "")) if isinstance(error, dict) else ""
        if status in THROTTLE_STATUSES:
            return RetryLater(
                f"Outlook asked Overture to slow down (HTTP {status}) when it tried to {what}; it will try again.",
                retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            return CalendarError(
                "credentials",
                f"Outlook did not let Overture {what} ({code or status}). "
                "Connect the Outlook calendar again on the Calendar page.",
            )
        if status >= 500:
            return CalendarError(
                "unavailable", f"Outlook is not answering properly (HTTP {status}) when Overture tried to {what}."
            )
        return CalendarError("rejected", f"Outlook refused to {what} (HTTP {status}: {code or 'no reason'}).")

    # -- Busy time ---------------------------------------------------------------------------------------------

    def busy(self, start: datetime, end: datetime) -> list[BusyTime]:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        times: list[BusyTime] = []
        window = start
        while window < end:
            window_end = min(end, window + SCHEDULE_WINDOW)
            times.extend(self._schedule(window, window_end))
            window = window_end
        return merge_busy(times)

    def _schedule(self, start: datetime, end: datetime) -> list[BusyTime]:
        what = "read your busy times"
        body = {
            "schedules": [self.mailbox],
            "startTime": _graph_time(start),
            "endTime": _graph_time(end),
            "availabilityViewInterval": 30,
        }
        response = self._call(
            "POST", "/me/calendar/getSchedule", what=what, body=body, headers={"Prefer": 'outlook.timezone="UTC"'}
        )
        if response.status_code != 200:
            raise self._fail(response, what)
        times: list[BusyTime] = []
        for schedule in _json(response).get("value", []):
            if not isinstance(schedule, dict):
                continue
            if "error" in schedule:
                error = schedule["error"] if isinstance(schedule["error"], dict) else {}
                raise CalendarError(
                    "gone",
                    f"Outlook has no calendar Overture may read for {self.mailbox} "
                    f"({error.get('responseCode') or error.get('message') or 'no reason given'}). "
                    "Connect the Outlook calendar again on the Calendar page.",
                )
            for item in schedule.get("scheduleItems", []):
                status = str(item.get("status", "unknown")).lower()
                if status == "free":
                    continue
                begins = max(_parse_graph_time(item["start"]), start)
                ends = min(_parse_graph_time(item["end"]), end)
                if ends > begins:
                    times.append(BusyTime(begins, ends, tentative=status == "tentative"))
        return times

    # -- Writes ------------------------------------------------------------------------------------------------

    def _event_body(self, event: Event) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": event.summary,
            "body": {"contentType": "text", "content": event.description},
            "start": _graph_time(event.start),
            "end": _graph_time(event.end),
            "attendees": [
                {"emailAddress": {"address": a.email, "name": a.name or a.email}, "type": "required"}
                for a in event.attendees
            ],
        }
        if event.location:
            body["location"] = {"displayName": event.location}
        if self.teams:
            body |= {"isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
        return body

    def create_event(self, event: Event) -> EventRef:
        what = f'add the meeting "{event.summary}" to your Outlook calendar'
        body = self._event_body(event) | {"transactionId": transaction_id(event.uid)}
        response = self._call("POST", "/me/events", what=what, body=body)
        if response.status_code not in (200, 201):
            raise self._fail(response, what)
        return _ref(event.uid, _json(response))

    def update_event(self, ref: EventRef, event: Event) -> EventRef:
        what = f'change the meeting "{event.summary}" in your Outlook calendar'
        headers = {"If-Match": ref.etag} if ref.etag else {}
        response = self._call("PATCH", _event_path(ref), what=what, body=self._event_body(event), headers=headers)
        if response.status_code in (404, 412):
            raise CalendarError(
                "changed",
                f"The meeting was changed or deleted in Outlook since Overture last wrote it, so Overture did not "
                f"{what}. Reload the meeting and try again.",
            )
        if response.status_code != 200:
            raise self._fail(response, what)
        return _ref(event.uid, _json(response))

    def cancel_event(self, ref: EventRef) -> None:
        what = "cancel the meeting in your Outlook calendar"
        response = self._call(
            "POST", _event_path(ref) + "/cancel", what=what, body={"comment": "This meeting was cancelled."}
        )
        if response.status_code in (200, 202, 204, 404):
            return
        raise self._fail(response, what)

    def online_meeting_url(self, ref: EventRef) -> str | None:
        """The Teams link of a written event (None when it has none)."""
        what = "read the meeting's Teams link"
        response = self._call("GET", _event_path(ref), what=what)
        if response.status_code != 200:
            raise self._fail(response, what)
        meeting = _json(response).get("onlineMeeting")
        return str(meeting["joinUrl"]) if isinstance(meeting, dict) and meeting.get("joinUrl") else None


def transaction_id(uid: str) -> str:
    """A stable Graph `transactionId` for Overture's uid, so a create sent again makes no second event."""
    return str(uuid.UUID(bytes=hashlib.sha256(uid.encode()).digest()[:16], version=4))


def _event_path(ref: EventRef) -> str:
    return "/me/events/" + quote(ref.href, safe="")


def _ref(uid: str, body: dict[str, Any]) -> EventRef:
    etag, meeting = body.get("@odata.etag"), body.get("onlineMeeting")
    join = meeting.get("joinUrl") if isinstance(meeting, dict) else None
    return EventRef(uid, str(body["id"]), str(etag) if etag else None, str(join) if join else None)


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _parse_graph_time(value: dict[str, str]) -> datetime:
    """A Graph `dateTimeTimeZone` as an aware UTC datetime (UTC, or an IANA zone name)."""
    moment = datetime.fromisoformat(value["dateTime"])
    zone_name = value.get("timeZone") or "UTC"
    try:
        zone = UTC if zone_name.upper() in ("UTC", "ETC/UTC") else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(
            "rejected", f"Outlook answered with a time zone Overture does not know ({zone_name})."
        ) from exc
    return moment.replace(tzinfo=zone).astimezone(UTC)


def _send(
    http: HttpClient, method: str, url: str, *, headers: dict[str, str], body: bytes | None, what: str
) -> httpx2.Response:
    try:
        return http.request(method, url, headers=headers, content=body)
    except Unreachable as exc:
        raise CalendarError("unavailable", f"Overture could not reach Microsoft to {what}; it will try again.") from exc
    except BlockedAddress as exc:
        raise CalendarError("rejected", exc.message) from exc


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- the entry points of a provider module (calendars/registry.py) --------------------------------------------

NAME = "microsoft"
LABEL = "Microsoft Outlook"
WRITES_EVENTS = True
FORM: accounts.ConnectForm | None = None


def _app(settings: Settings) -> MicrosoftApp:
    if not settings.microsoft_client_id:
        raise accounts.app_removed(LABEL)
    return MicrosoftApp(
        settings.microsoft_client_id,
        settings.microsoft_client_secret.get_secret_value(),
        callback_url(settings, NAME),
        tenant=settings.microsoft_tenant,
        login_url=settings.microsoft_login_url,
    )


def _consent_url(world: CalendarWorld, state: str) -> str:
    return _app(world.settings).authorize_url(state)


CONSENT: accounts.Consent | None = accounts.Consent(
    company="Microsoft",
    registry="Microsoft Entra (App registrations, platform Web)",
    variables=("OVERTURE_MICROSOFT_CLIENT_ID", "OVERTURE_MICROSOFT_CLIENT_SECRET", "OVERTURE_MICROSOFT_TENANT"),
    guide="Microsoft Outlook (Microsoft 365)",
    set_up=lambda settings: bool(settings.microsoft_client_id),
    url=_consent_url,
)


def _secret(tokens: MicrosoftTokens) -> dict[str, Any]:
    expires = tokens.expires_at.isoformat() if tokens.expires_at else None
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_at": expires}


def _mailbox(world: CalendarWorld, tokens: MicrosoftTokens) -> str:
    """The signed-in account's mailbox address (`GET /me`): the schedule busy times are read from."""
    url = world.settings.microsoft_graph_url.rstrip("/") + "/me?$select=mail,userPrincipalName"
    headers = {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}
    try:
        response = world.http.request("GET", url, headers=headers)
    except (Unreachable, BlockedAddress) as exc:
        raise CalendarError("unavailable", f"Overture could not reach Microsoft Graph: {exc.message}") from exc
    try:
        body = json.loads(response.content) if response.status_code == 200 else {}
    except ValueError:
        body = {}
    mailbox = (body.get("mail") or body.get("userPrincipalName")) if isinstance(body, dict) else None
    if not isinstance(mailbox, str) or "@" not in mailbox:
        raise CalendarError(
            "rejected",
            f"Microsoft did not say which mailbox this account uses (HTTP {response.status_code}), so Overture "
            "cannot read its schedule. Sign in with a work or school account that has an Outlook mailbox.",
        )
    return mailbox


def check_account(world: CalendarWorld, given: Mapping[str, str], now: datetime | None = None) -> accounts.Account:
    """The account an agent consented to: the callback's `code` traded for tokens, its mailbox asked, then the
    calendar read once."""
    app = _app(world.settings)
    try:
        tokens = app.exchange_code(world.http, given.get("code", ""))
        mailbox = _mailbox(world, tokens)
    except CalendarError as exc:
        raise accounts.refused("code", exc.message) from exc
    calendar = MicrosoftCalendar(
        mailbox, tokens, app=app, http=world.http, graph_url=world.settings.microsoft_graph_url
    )
    accounts.check_readable(calendar, "calendar", now)
    return accounts.Account(NAME, {"email": mailbox}, _secret(calendar.tokens))


def open_calendar(world: CalendarWorld, stored: accounts.Stored) -> MicrosoftCalendar:
    app, secret = _app(world.settings), stored.secret
    return MicrosoftCalendar(
        str(stored.settings["email"]),
        MicrosoftTokens(secret["access_token"], secret["refresh_token"], accounts.expiry(secret)),
        app=app,
        http=world.http,
        on_tokens=lambda fresh: stored.keep_secret(_secret(fresh)),
        teams=stored.online,
        graph_url=world.settings.microsoft_graph_url,
    )


def describe(settings: Mapping[str, Any]) -> str:
    return f"{LABEL} ({settings['email']})" if settings.get("email") else LABEL
