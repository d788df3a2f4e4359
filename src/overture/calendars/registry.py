"""The calendar providers, by name: the one table of them (healthchecks' `TRANSPORTS`).

Each provider is one module of calendars/ with the same entry points (`ProviderModule`). Adding a provider is that
module and one line in `MODULES`; nothing else names a provider. Connecting, opening and describing a connection
(`connections.py`), scheduling (does it take the events we write?) and the admin page and API (the connect forms
and sign-in pages, their routes, the API's bodies) all read this table.

A provider's `NAME` is its key here and the value stored in `calendar_connections.provider`: never change it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from overture.calendars import builtin, caldav, google, microsoft
from overture.calendars.accounts import Account, ConnectForm, Consent, Stored
from overture.calendars.provider import CalendarProvider
from overture.calendars.world import CalendarWorld


class ProviderModule(Protocol):
    """What every provider module defines (mypy checks each module of `MODULES` against it)."""

    NAME: str
    LABEL: str  # for people: "Google Calendar"
    WRITES_EVENTS: bool  # False: meetings stay in Overture (nothing to write to the calendar)
    # How an agent connects it: exactly one of the two is set.
    FORM: ConnectForm | None  # the fields they fill in, with the help text around them
    CONSENT: Consent | None  # the provider's sign-in page, and what the operator sets up for it first

    def check_account(self, world: CalendarWorld, given: Mapping[str, str], now: datetime | None = None) -> Account:
        """Checks the account over the network, with no transaction open, and returns what to store: settings that
        may be shown and the secret, stored encrypted. `given` is the form's fields, or {"code": ...} after
        consent. Raises InvalidInput naming the field at fault."""
        ...

    def open_calendar(self, world: CalendarWorld, stored: Stored) -> CalendarProvider:
        """The provider of a stored connection; it hands refreshed secrets to `stored.keep_secret`. Raises
        CalendarError("credentials") when it can no longer be opened; a missing key of the stored settings or
        secret raises KeyError (the caller says the stored details are incomplete)."""
        ...

    def describe(self, settings: Mapping[str, Any]) -> str:
        """The connection in a few words, from its stored settings: "Microsoft Outlook (rep@contoso.com)"."""
        ...


# One line a provider: its module (mypy checks each against ProviderModule).
MODULES: tuple[ProviderModule, ...] = (
    builtin,
    caldav,
    google,
    microsoft,
)
PROVIDERS: dict[str, ProviderModule] = {module.NAME: module for module in MODULES}


def find(name: str) -> ProviderModule | None:
    return PROVIDERS.get(name)


def label(name: str) -> str:
    """The provider's label, or its stored name when Overture no longer knows it."""
    module = PROVIDERS.get(name)
    return module.LABEL if module is not None else name


def writes_events(name: str | None) -> bool:
    """Whether meetings are written to the calendar of a connection to `name` (None: no calendar connected). A
    provider Overture no longer knows counts as one that does, so its meetings wait and fail visibly."""
    module = PROVIDERS.get(name) if name is not None else None
    return name is not None and (module is None or module.WRITES_EVENTS)


def pattern(names: Iterable[str]) -> str:
    """A regular expression that matches exactly one of `names` (a path parameter naming a provider)."""
    return "^(" + "|".join(map(re.escape, names)) + ")$"


def with_form() -> dict[str, ConnectForm]:
    """The providers connected by a form, by name: the fallback (the built-in calendar) last."""
    forms = {name: module.FORM for name, module in PROVIDERS.items() if module.FORM is not None}
    return dict(sorted(forms.items(), key=lambda item: item[1].fallback))


def with_consent() -> dict[str, Consent]:
    """The providers connected through their consent page, by name."""
    return {name: module.CONSENT for name, module in PROVIDERS.items() if module.CONSENT is not None}
