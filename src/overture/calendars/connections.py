"""Agents' calendar connections: check an account before storing it, keep its secret encrypted, open the provider of
a stored connection.

Connecting is two steps, so that no network call ever happens inside a database transaction:

1. `check_account` (a provider connected by a form) and `oauth_account` (after `consent_url` and the provider's
   callback) check the account over the network with the provider module's `check_account` (calendars/registry.py)
   and return an `Account`, what to store. They read the busy times of the next day,
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

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from overture.calendars import registry
from overture.calendars.accounts import Account, Stored, refused, required
from overture.calendars.models import BusyCache, CalendarConnection
from overture.calendars.oauth import callback_url
from overture.calendars.provider import CalendarError, CalendarProvider
from overture.calendars.secrets import decrypt, encrypt
from overture.calendars.world import CalendarWorld
from overture.errors import InvalidInput
from overture.settings import Settings

STATE_SALT = "overture.calendar-oauth"
STATE_MAX_AGE = 15 * 60  # seconds an agent has to give their consent


@dataclass(frozen=True)
class OAuthState:
    """What the signed `state` of a consent link names: who started connecting which agent's calendar."""

    provider: str
    agent_id: int
    user_id: int


def offered(settings: Settings) -> tuple[str, ...]:
    """The providers an agent may pick: those signed in through a consent page only when the operator registered an
    app with them."""
    return tuple(
        name for name, module in registry.PROVIDERS.items() if module.CONSENT is None or module.CONSENT.set_up(settings)
    )


@dataclass(frozen=True)
class OAuthSetup:
    """What an administrator does to offer an OAuth provider: register Overture with the provider, giving it
    `callback` as the redirect URL, then set `variables` and restart."""

    provider: str
    registry: str  # where the app is registered
    callback: str
    variables: tuple[str, ...]
    guide: str  # the section of docs/meetings.md with every step


def oauth_setups(settings: Settings) -> list[OAuthSetup]:
    """The setup of every provider connected through a consent page, in the registry's order."""
    return [
        OAuthSetup(name, consent.registry, callback_url(settings, name), consent.variables, consent.guide)
        for name, consent in registry.with_consent().items()
    ]


def check_account(
    world: CalendarWorld, provider: str, given: Mapping[str, str], now: datetime | None = None
) -> Account:
    """The account of a provider connected by a form, checked with the form's fields (see `registry.py`)."""
    module = registry.find(provider)
    if module is None or module.FORM is None:
        raise refused("provider", f"There is no calendar provider {provider!r} to connect with a form.")
    return module.check_account(world, given, now)


# --- Google, Microsoft and other providers connected through a consent page (OAuth) ------------------------------


def _not_offered(provider: str) -> InvalidInput:
    module = registry.find(provider)
    if module is None or module.CONSENT is None:
        return refused("provider", f"There is no calendar provider {provider!r} to connect through a sign-in page.")
    return refused(
        "provider",
        f"{module.LABEL} is not set up on this Overture: an administrator must register an app with "
        f"{module.CONSENT.company} first (see docs/meetings.md).",
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
        raise refused(
            "state",
            "The sign-in link was changed, is older than 15 minutes, or was not made for this provider. "
            "Start again from the Calendar page.",
        )
    return OAuthState(provider, payload["a"], payload["u"])


def _consenting(world: CalendarWorld, provider: str) -> registry.ProviderModule:
    module = registry.find(provider)
    if module is None or module.CONSENT is None or not module.CONSENT.set_up(world.settings):
        raise _not_offered(provider)
    return module


def consent_url(world: CalendarWorld, provider: str, state: str) -> str:
    """The provider's consent page; it sends the agent back to its callback URL with a code and `state`."""
    consent = _consenting(world, provider).CONSENT
    assert consent is not None  # _consenting checked it
    return consent.url(world, state)


def oauth_account(world: CalendarWorld, provider: str, code: str, now: datetime | None = None) -> Account:
    """The account an agent consented to: the callback's `code` traded for tokens, then the calendar read once."""
    code = required(code, "code", "authorization code", 4000)
    return _consenting(world, provider).check_account(world, {"code": code}, now)


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
    module = registry.find(connection.provider)
    return module.describe(connection.settings or {}) if module is not None else connection.provider


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
    connection_id, provider = connection.id, connection.provider
    module = registry.find(provider)
    if module is None:
        raise CalendarError(
            "gone", f"Overture does not know the calendar provider {provider!r}. Connect the calendar again."
        )
    stored = Stored(
        settings,
        secret,
        _zone(settings.get("zone")),
        bool(settings.get("online_meeting")),
        lambda fresh: _store_secret(world, connection_id, provider, fresh),
    )
    try:
        return module.open_calendar(world, stored)
    except KeyError as exc:
        raise CalendarError(
            "credentials", "The stored details of this calendar are incomplete. Connect the calendar again."
        ) from exc
