"""What a calendar provider module hands the registry (`registry.py`), and the checks they share.

- How an agent connects it: by a form (`ConnectForm`: the fields they fill in) or by signing in on the provider's
  consent page (`Consent`: OAuth, with what the operator registers first).
- What checking an account returns (`Account`: what to store) and what opening a stored one is given (`Stored`).
- The checks of a connect's input before any network call (`checked_url`, `required`), and the one read of the
  calendar that proves it can be read (`check_readable`). They raise InvalidInput naming the field, nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

import httpx2

from overture.calendars.provider import CalendarError, CalendarProvider
from overture.calendars.world import CalendarWorld
from overture.errors import InvalidInput, Problem
from overture.settings import Settings

# Connecting reads this much of the calendar, to prove it can be read.
CHECK_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class Account:
    """A calendar account checked to work, ready to store. `settings` may be shown (a URL, a user name, a mailbox);
    `secret` never is and is stored encrypted."""

    provider: str
    settings: dict[str, Any]
    secret: dict[str, Any] | None = None


@dataclass(frozen=True)
class Stored:
    """A stored connection as its provider opens it: `settings` as stored (with the agent's `zone` for floating
    times and whether to add an `online` meeting), `secret` decrypted, and `keep_secret`, which stores a refreshed
    secret at once (in a short transaction of its own)."""

    settings: Mapping[str, Any]
    secret: Mapping[str, Any]
    zone: tzinfo
    online: bool
    keep_secret: Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class FormField:
    """One field of a connect form: its name (the key `check_account` reads), its label, the most characters it
    takes, what the API says of it (`about`). A password is never sent back into the page."""

    name: str
    label: str
    limit: int
    kind: Literal["text", "url", "password"] = "text"
    required: bool = True
    placeholder: str = ""
    about: str = ""


@dataclass(frozen=True)
class ConnectForm:
    """The form an agent fills in to connect the calendar (the admin page and the API take the same fields).
    `intro` shows before the fields, `hint` after them; `done` is said once connected, with the `{description}`
    of the connection. A `fallback` form shows last, its button less prominent."""

    heading: str
    fields: tuple[FormField, ...]
    button: str
    intro: str = ""
    hint: str = ""
    done: str = "Connected: {description}."
    fallback: bool = False


@dataclass(frozen=True)
class Consent:
    """An agent connects the calendar by signing in on the provider's consent page (OAuth); the module's
    `check_account` then takes the `code` the provider sends back. Before it is offered, the operator registers an
    app with `company` in `registry` and sets `variables` (every step: docs/meetings.md, section `guide`).
    `set_up` says whether they did; `url` is the consent page for a signed `state`, only asked when set up."""

    company: str
    registry: str
    variables: tuple[str, ...]
    guide: str
    set_up: Callable[[Settings], bool]
    url: Callable[[CalendarWorld, str], str]


def refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"The calendar is not connected. {message}", [Problem(field, message)])


def checked_url(value: str, field: str, schemes: tuple[str, ...]) -> str:
    """The address trimmed, if it is a complete URL with one of `schemes` that can be sent as it is."""
    url = value.strip()
    shown = " or ".join(f"{scheme}://" for scheme in schemes)
    if len(url) > 2000 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise refused(field, f"Enter the full address, starting with {shown}, without spaces.")
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        parsed = None
    scheme = parsed.scheme.lower() if parsed is not None else ""
    host = parsed.host if parsed is not None else ""
    # Each part of a host name is 1 to 63 characters (RFC 1035); anything else cannot be looked up.
    labels = host.rstrip(".").split(".") if host and not host.startswith("[") and ":" not in host else []
    if scheme not in schemes or not host or len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        raise refused(field, f"Enter the full address, starting with {shown}.")
    return url


def required(value: str, field: str, what: str, limit: int) -> str:
    if not value or not value.strip():
        raise refused(field, f"Enter the {what}.")
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise refused(field, f"The {what} must be one line of at most {limit} characters.")
    return value.strip() if field != "password" else value


def check_readable(provider: CalendarProvider, field: str, now: datetime | None) -> None:
    """Reads the next day's busy times: the proof the calendar can be read. Raises InvalidInput on `field`."""
    start = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        provider.busy(start, start + CHECK_SPAN)
    except CalendarError as exc:
        raise refused(field, exc.message) from exc


def app_removed(label: str) -> CalendarError:
    """A stored connection whose provider app the operator removed since."""
    return CalendarError(
        "credentials",
        f"{label} is no longer set up on this Overture (its app's client id was removed). "
        "Connect another calendar on the Calendar page.",
    )


def expiry(secret: Mapping[str, Any]) -> datetime | None:
    """The `expires_at` of stored OAuth tokens."""
    value = secret.get("expires_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None
