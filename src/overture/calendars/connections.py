"""Agents' calendar connections: check an account before storing it, keep its secret encrypted, open the provider of
a stored connection.

Connecting is two steps, so that no network call ever happens inside a database transaction:

1. `builtin_account`, `caldav_account` and `oauth_account` (after `consent_url` and the provider's callback) check
   the account over the network and return an `Account`, what to store. They read the busy times of the next day,
   so a connected calendar is one Overture has read. A wrong URL, password or code raises InvalidInput naming the
   field; nothing is stored. Call them with no transaction open.
2. `save` stores the account as the agent's one connection, its secret (app password, OAuth tokens, the private
   feed address) encrypted with `secrets.py`.

scheduling/agents.py runs both and puts the agent in the routing queue; this module knows nothing of agents but
their id (calendars/ is a lower layer than scheduling/).

Tokens refreshed while a provider is in use are stored at once, in a short transaction of their own: call a provider
outside any writing transaction (reading busy times and writing events are network calls anyway).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from overture.calendars.builtin import BuiltinCalendar, feed_url
from overture.calendars.caldav import CalDAVCalendar
from overture.calendars.google import GoogleCalendar, google_consent_url
from overture.calendars.microsoft import MicrosoftApp, MicrosoftCalendar, MicrosoftTokens
from overture.calendars.models import BusyCache, CalendarConnection
from overture.calendars.oauth import OAuthApp, OAuthClient, Tokens
from overture.calendars.provider import CalendarError, CalendarProvider
from overture.calendars.secrets import decrypt, encrypt
from overture.calendars.world import CalendarWorld
from overture.errors import InvalidInput, Problem
from overture.http import BlockedAddress, Unreachable
from overture.settings import Settings

PROVIDER_LABELS = {
    "builtin": "Built-in calendar",
    "caldav": "CalDAV calendar",
    "google": "Google Calendar",
    "microsoft": "Microsoft Outlook",
}
OAUTH_PROVIDERS = ("google", "microsoft")
# Where Google and Microsoft send the agent back; register this URL (under the base URL) with each provider.
CALLBACK_PATH = "/admin/calendar/oauth/{provider}/callback"
# Connecting reads this much of the calendar, to prove it can be read.
CHECK_SPAN = timedelta(days=1)
STATE_SALT = "overture.calendar-oauth"
STATE_MAX_AGE = 15 * 60  # seconds an agent has to give their consent


@dataclass(frozen=True)
class Account:
    """A calendar account checked to work, ready to store. `settings` may be shown (a URL, a user name, a mailbox);
    `secret` never is and is stored encrypted."""

    provider: str
    settings: dict[str, Any]
    secret: dict[str, Any] | None = None


@dataclass(frozen=True)
class OAuthState:
    """What the signed `state` of a consent link names: who started connecting which agent's calendar."""

    provider: str
    agent_id: int
    user_id: int


def offered(settings: Settings) -> tuple[str, ...]:
    """The providers an agent may pick: Google and Microsoft only when the operator registered an app with them."""
    found = ["builtin", "caldav"]
    if settings.google_client_id:
        found.append("google")
    if settings.microsoft_client_id:
        found.append("microsoft")
    return tuple(found)


@dataclass(frozen=True)
class OAuthSetup:
    """What an administrator does to offer an OAuth provider: register Overture with the provider, giving it
    `callback` as the redirect URL, then set `variables` and restart."""

    provider: str
    registry: str  # where the app is registered
    callback: str
    variables: tuple[str, ...]
    guide: str  # the section of docs/meetings.md with every step


def oauth_setup(settings: Settings, provider: str) -> OAuthSetup:
    callback = callback_url(settings, provider)
    if provider == "google":
        google = ("OVERTURE_GOOGLE_CLIENT_ID", "OVERTURE_GOOGLE_CLIENT_SECRET")
        return OAuthSetup(provider, "the Google Cloud console (an OAuth client of type Web application)", callback,
                          google, "Google Calendar")  # fmt: skip
    return OAuthSetup(provider, "Microsoft Entra (App registrations, platform Web)", callback,
                      ("OVERTURE_MICROSOFT_CLIENT_ID", "OVERTURE_MICROSOFT_CLIENT_SECRET", "OVERTURE_MICROSOFT_TENANT"),
                      "Microsoft Outlook (Microsoft 365)")  # fmt: skip


def callback_url(settings: Settings, provider: str) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH.format(provider=provider)


# --- checking input before any network call ------------------------------------------------------------------


def _refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"The calendar is not connected. {message}", [Problem(field, message)])


def _checked_url(value: str, field: str, schemes: tuple[str, ...]) -> str:
    """The address trimmed, if it is a complete URL with one of `schemes` that can be sent as it is."""
    url = value.strip()
    shown = " or ".join(f"{scheme}://" for scheme in schemes)
    if len(url) > 2000 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _refused(field, f"Enter the full address, starting with {shown}, without spaces.")
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        parsed = None
    scheme = parsed.scheme.lower() if parsed is not None else ""
    host = parsed.host if parsed is not None else ""
    # Each part of a host name is 1 to 63 characters (RFC 1035); anything else cannot be looked up.
    labels = host.rstrip(".").split(".") if host and not host.startswith("[") and ":" not in host else []
    if scheme not in schemes or not host or len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        raise _refused(field, f"Enter the full address, starting with {shown}.")
    return url


def _required(value: str, field: str, what: str, limit: int) -> str:
    if not value or not value.strip():
        raise _refused(field, f"Enter the {what}.")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise _refused(field, f"The {what} must be one line of at most {limit} characters.")
    return value.strip() if field != "password" else value


def _check(provider: CalendarProvider, field: str, now: datetime | None) -> None:
    """Reads the next day's busy times: the proof the calendar can be read. Raises InvalidInput on `field`."""
    start = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        provider.busy(start, start + CHECK_SPAN)
    except CalendarError as exc:
        raise _refused(field, exc.message) from exc


# --- builtin and CalDAV ----------------------------------------------------------------------------------------


def builtin_account(world: CalendarWorld, ics_url: str | None, now: datetime | None = None) -> Account:
    """The built-in calendar, with the ICS feed at `ics_url` (checked by reading it) or without a feed."""
    if not ics_url or not ics_url.strip():
        return Account("builtin", {})
    url = feed_url(_checked_url(ics_url, "ics_url", ("https", "http", "webcal")))
    _check(BuiltinCalendar(url, http=world.http), "ics_url", now)
    # A feed's address is often a "secret address" that opens the calendar to anyone: it is kept encrypted.
    return Account("builtin", {"feed_host": urlsplit(url).hostname or ""}, {"ics_url": url})


def caldav_account(
    world: CalendarWorld, url: str, username: str, password: str, now: datetime | None = None
) -> Account:
    """A CalDAV account, checked by discovering its calendars and reading the one `url` names when it is a calendar's
    own address, else the first one that holds events."""
    url = _checked_url(url, "url", ("https", "http"))
    username = _required(username, "username", "user name", 200)
    password = _required(password, "password", "app password", 500)
    client = CalDAVCalendar(url, username, password, http=world.http)
    try:
        usable = [found for found in client.calendars() if found.holds_events]
    except CalendarError as exc:
        raise _refused("password" if exc.reason == "credentials" else "url", exc.message) from exc
    if not usable:
        raise _refused(
            "url", f"The account at {url} has no calendar for events. Create one in your calendar app, then connect."
        )
    # The calendar whose own address was given, else the first one that holds events.
    chosen = next((found for found in usable if found.url.rstrip("/") == url.rstrip("/")), usable[0])
    calendar = CalDAVCalendar(url, username, password, http=world.http, calendar_url=chosen.url)
    _check(calendar, "url", now)
    settings = {"url": url, "username": username, "calendar_url": chosen.url, "calendar_name": chosen.name}
    return Account("caldav", settings, {"password": password})


# --- Google and Microsoft (OAuth) --------------------------------------------------------------------------------


def _google_app(settings: Settings) -> OAuthApp | None:
    if not settings.google_client_id:
        return None
    return OAuthApp(
        settings.google_client_id,
        settings.google_client_secret.get_secret_value(),
        settings.google_oauth_url,
        settings.google_token_url,
        name="Google",
    )


def _microsoft_app(settings: Settings) -> MicrosoftApp | None:
    if not settings.microsoft_client_id:
        return None
    return MicrosoftApp(
        settings.microsoft_client_id,
        settings.microsoft_client_secret.get_secret_value(),
        callback_url(settings, "microsoft"),
        tenant=settings.microsoft_tenant,
        login_url=settings.microsoft_login_url,
    )


def _not_offered(provider: str) -> InvalidInput:
    label = PROVIDER_LABELS.get(provider, provider)
    return _refused(
        "provider",
        f"{label} is not set up on this Overture: an administrator must register an app with "
        f"{'Google' if provider == 'google' else 'Microsoft'} first (see docs/meetings.md).",
    )


def oauth_state(secret_key: str, provider: str, agent_id: int, user_id: int) -> str:
    """The signed `state` of a consent link: it names the agent and the user who started, and expires."""
    payload = {"p": provider, "a": agent_id, "u": user_id, "n": secrets.token_urlsafe(8)}
    return str(URLSafeTimedSerializer(secret_key, salt=STATE_SALT).dumps(payload))


def read_oauth_state(secret_key: str, provider: str, state: str) -> OAuthState:
    """What a callback's `state` names. Raises InvalidInput when it was changed, is too old or is another
    provider's."""
    try:
        payload = URLSafeTimedSerializer(secret_key, salt=STATE_SALT).loads(state, max_age=STATE_MAX_AGE)
    except BadSignature:
        payload = None
    if (
        not isinstance(payload, dict)
        or payload.get("p") != provider
        or not isinstance(payload.get("a"), int)
        or not isinstance(payload.get("u"), int)
    ):
        raise _refused(
            "state",
            "The sign-in link was changed, is older than 15 minutes, or was not made for this provider. "
            "Start again from the Calendar page.",
        )
    return OAuthState(provider, payload["a"], payload["u"])


def consent_url(world: CalendarWorld, provider: str, state: str) -> str:
    """The provider's consent page; it sends the agent back to `callback_url` with a code and `state`."""
    if provider == "google" and (google := _google_app(world.settings)) is not None:
        return google_consent_url(google, callback_url(world.settings, "google"), state)
    if provider == "microsoft" and (microsoft := _microsoft_app(world.settings)) is not None:
        return microsoft.authorize_url(state)
    raise _not_offered(provider)


def oauth_account(world: CalendarWorld, provider: str, code: str, now: datetime | None = None) -> Account:
    """The account an agent consented to: the callback's `code` traded for tokens, then the calendar read once."""
    code = _required(code, "code", "authorization code", 4000)
    if provider == "google" and (google := _google_app(world.settings)) is not None:
        return _google_account(world, google, code, now)
    if provider == "microsoft" and (microsoft := _microsoft_app(world.settings)) is not None:
        return _microsoft_account(world, microsoft, code, now)
    raise _not_offered(provider)


def _google_account(world: CalendarWorld, app: OAuthApp, code: str, now: datetime | None) -> Account:
    oauth = OAuthClient(app, http=world.http)
    try:
        tokens = oauth.exchange_code(code, callback_url(world.settings, "google"))
    except CalendarError as exc:
        raise _refused("code", exc.message) from exc
    calendar = GoogleCalendar(tokens, oauth, http=world.http, api_base=world.settings.google_api_url)
    _check(calendar, "calendar", now)
    # The check may have refreshed the tokens: keep the newest.
    return Account("google", {"calendar_id": calendar.calendar_id}, _google_secret(calendar.tokens))


def _microsoft_account(world: CalendarWorld, app: MicrosoftApp, code: str, now: datetime | None) -> Account:
    try:
        tokens = app.exchange_code(world.http, code)
        mailbox = _microsoft_mailbox(world, tokens)
    except CalendarError as exc:
        raise _refused("code", exc.message) from exc
    calendar = MicrosoftCalendar(
        mailbox, tokens, app=app, http=world.http, graph_url=world.settings.microsoft_graph_url
    )
    _check(calendar, "calendar", now)
    return Account("microsoft", {"email": mailbox}, _microsoft_secret(calendar.tokens))


def _microsoft_mailbox(world: CalendarWorld, tokens: MicrosoftTokens) -> str:
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


def _google_secret(tokens: Tokens) -> dict[str, Any]:
    expires = tokens.expires_at.isoformat() if tokens.expires_at else None
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_at": expires,
            "scope": tokens.scope}  # fmt: skip


def _microsoft_secret(tokens: MicrosoftTokens) -> dict[str, Any]:
    expires = tokens.expires_at.isoformat() if tokens.expires_at else None
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_at": expires}


def _expiry(secret: Mapping[str, Any]) -> datetime | None:
    value = secret.get("expires_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


# --- storing -----------------------------------------------------------------------------------------------------


def connection_of(session: Session, agent_id: int) -> CalendarConnection | None:
    return session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))


def save(
    session: Session,
    agent_id: int,
    account: Account,
    secret_key: str,
    now: datetime,
    options: Mapping[str, Any] | None = None,
) -> CalendarConnection:
    """Makes `account` the agent's calendar (replacing any other), its secret encrypted. `options` are settings
    kept with it (see `set_options`). Busy times cached from a previous calendar are dropped."""
    connection = connection_of(session, agent_id)
    if connection is None:
        connection = CalendarConnection(agent_id=agent_id)
        session.add(connection)
    connection.provider = account.provider
    connection.settings = {**account.settings, **(options or {})}
    connection.secret = encrypt(secret_key, account.secret) if account.secret else None
    connection.connected_at = now
    connection.checked_at = now
    connection.problem = None
    session.execute(delete(BusyCache).where(BusyCache.agent_id == agent_id))
    session.flush()
    return connection


def set_options(connection: CalendarConnection, *, zone: str, online_meeting: bool) -> None:
    """Keeps what the provider needs from the agent's settings with the connection: their time zone (for events
    written without one) and whether Google or Microsoft should add a video call to the meetings they write."""
    connection.settings = {**(connection.settings or {}), "zone": zone, "online_meeting": online_meeting}


def remove(session: Session, agent_id: int) -> CalendarConnection | None:
    """Deletes the agent's connection and its secret; returns what was removed (None: there was none)."""
    connection = connection_of(session, agent_id)
    if connection is not None:
        session.delete(connection)
        session.execute(delete(BusyCache).where(BusyCache.agent_id == agent_id))
        session.flush()
    return connection


def describe(connection: CalendarConnection) -> str:
    """The connection in a few words for people, e.g. "Microsoft Outlook (rep@contoso.com)"."""
    settings = connection.settings or {}
    label = PROVIDER_LABELS.get(connection.provider, connection.provider)
    match connection.provider:
        case "builtin" if settings.get("feed_host"):
            return f"{label}, with the calendar feed from {settings['feed_host']}"
        case "caldav":
            name = settings.get("calendar_name") or "calendar"
            host = urlsplit(str(settings.get("url", ""))).hostname or ""
            return f"{label} “{name}” of {settings.get('username', '')} on {host}"
        case "microsoft" if settings.get("email"):
            return f"{label} ({settings['email']})"
    return label


def details(connection: CalendarConnection) -> dict[str, str]:
    """What may be shown about the account (never a secret): URL, user name, mailbox, feed host."""
    shown = ("url", "username", "calendar_name", "calendar_id", "email", "feed_host")
    settings = connection.settings or {}
    return {key: str(settings[key]) for key in shown if settings.get(key)}


# --- opening -----------------------------------------------------------------------------------------------------


def _zone(name: object) -> tzinfo:
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _store_secret(world: CalendarWorld, connection_id: int, provider: str, secret: Mapping[str, Any]) -> None:
    """Stores refreshed tokens at once (Microsoft's old refresh token stops working as soon as a new one is
    issued). Nothing happens if the agent disconnected or changed provider meanwhile."""
    with world.db.write() as session:
        session.execute(
            update(CalendarConnection)
            .where(CalendarConnection.id == connection_id, CalendarConnection.provider == provider)
            .values(secret=encrypt(world.secret_key, secret))
        )


def open_calendar(world: CalendarWorld, connection: CalendarConnection) -> CalendarProvider:
    """The provider of `connection`, ready to read and write. Raises CalendarError("credentials") when its secret
    cannot be read (the key changed) or its provider's app is no longer set up, and CalendarError("gone") for an
    unknown provider."""
    secret = decrypt(world.secret_key, connection.secret) if connection.secret else {}
    settings = connection.settings or {}
    zone = _zone(settings.get("zone"))
    online = bool(settings.get("online_meeting"))
    connection_id, provider = connection.id, connection.provider
    try:
        match provider:
            case "builtin":
                return BuiltinCalendar(secret.get("ics_url") or None, http=world.http, floating_zone=zone)
            case "caldav":
                return CalDAVCalendar(
                    settings["url"],
                    settings["username"],
                    secret["password"],
                    http=world.http,
                    calendar_url=settings.get("calendar_url"),
                    floating_zone=zone,
                )
            case "google":
                google = _google_app(world.settings)
                if google is None:
                    raise _app_removed(provider)
                tokens = Tokens(secret["access_token"], secret["refresh_token"], _expiry(secret),
                                str(secret.get("scope", "")))  # fmt: skip
                return GoogleCalendar(
                    tokens,
                    OAuthClient(google, http=world.http),
                    http=world.http,
                    calendar_id=str(settings.get("calendar_id") or "primary"),
                    api_base=world.settings.google_api_url,
                    # Overture sends its own invitation; Google's is only needed to carry a Meet link it made.
                    send_updates="all" if online else "none",
                    meet=online,
                    on_tokens=lambda fresh: _store_secret(world, connection_id, provider, _google_secret(fresh)),
                )
            case "microsoft":
                microsoft = _microsoft_app(world.settings)
                if microsoft is None:
                    raise _app_removed(provider)
                return MicrosoftCalendar(
                    str(settings["email"]),
                    MicrosoftTokens(secret["access_token"], secret["refresh_token"], _expiry(secret)),
                    app=microsoft,
                    http=world.http,
                    on_tokens=lambda fresh: _store_secret(world, connection_id, provider, _microsoft_secret(fresh)),
                    teams=online,
                    graph_url=world.settings.microsoft_graph_url,
                )
            case _:
                raise CalendarError(
                    "gone", f"Overture does not know the calendar provider {provider!r}. Connect the calendar again."
                )
    except KeyError as exc:
        raise CalendarError(
            "credentials", "The stored details of this calendar are incomplete. Connect the calendar again."
        ) from exc


def _app_removed(provider: str) -> CalendarError:
    return CalendarError(
        "credentials",
        f"{PROVIDER_LABELS[provider]} is no longer set up on this Overture (its app's client id was removed). "
        "Connect another calendar on the Calendar page.",
    )
