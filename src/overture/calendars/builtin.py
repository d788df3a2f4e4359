"""The built-in calendar: no external calendar account. Busy time is Overture's own meetings (scheduling adds them
for every provider) plus, when the agent gives one, an ICS feed: a calendar's published or "secret address" in
iCalendar format (Google, Outlook, iCloud and Fastmail all offer one). Events are not written anywhere.

The feed is read over `http.py` on every `busy` call (the busy-time cache keeps the answer briefly), its recurring
events expanded with `recurring-ical-events` (rules, overrides and exceptions, each occurrence placed with its own
zone's rules, so a weekly 09:00 Paris meeting stays at 09:00 Paris across a daylight-saving change). Transparent
("free") and cancelled events do not count; tentative ones are tentative.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from overture.calendars import accounts, ics
from overture.calendars.provider import BusyTime, CalendarError, Event, EventRef, merge_busy
from overture.calendars.world import CalendarWorld
from overture.http import BlockedAddress, HttpClient, TooLarge, TooSlow, Unreachable

MAX_FEED_BYTES = 10 * 1024 * 1024  # a year of a busy calendar is well under 1 MB
FEED_HEADERS = {"Accept": "text/calendar, */*;q=0.5"}


def feed_url(url: str) -> str:
    """The URL to fetch for what the agent pasted: `webcal://` is the calendar apps' name for https."""
    url = url.strip()
    return "https://" + url[len("webcal://") :] if url.lower().startswith("webcal://") else url


class BuiltinCalendar:
    """An agent's built-in calendar, with the ICS feed at `ics_url` when they gave one (`http` fetches it).
    `floating_zone` places times written without a zone, and all-day events, on the agent's clock."""

    def __init__(
        self, ics_url: str | None = None, *, http: HttpClient | None = None, floating_zone: tzinfo = UTC
    ) -> None:
        if ics_url and http is None:
            raise ValueError("A built-in calendar with a feed needs an HTTP client to read it.")
        self.ics_url = ics_url
        self._http = http
        self._floating_zone = floating_zone

    def busy(self, start: datetime, end: datetime) -> list[BusyTime]:
        if not self.ics_url or self._http is None:
            return []
        return merge_busy(busy_in_feed(fetch_feed(self._http, self.ics_url), start, end, self._floating_zone))

    # Events on the built-in calendar live in Overture only: writing them is nothing to do.

    def create_event(self, event: Event) -> EventRef:
        return EventRef(event.uid, "", None)

    def update_event(self, ref: EventRef, event: Event) -> EventRef:
        return ref

    def cancel_event(self, ref: EventRef) -> None:
        return None


def fetch_feed(http: HttpClient, address: str) -> bytes:
    """The feed's content. Raises CalendarError saying why it could not be read; `OutboundBusy` (HTTP 503) goes
    through unchanged, as it says nothing about the feed."""
    url = feed_url(address)
    host = urlsplit(url).hostname or url
    what = "read your calendar feed"
    try:
        # Streamed under the cap: a larger feed is refused after MAX_FEED_BYTES, never downloaded whole.
        response = http.request("GET", url, headers=FEED_HEADERS, follow_redirects=True, max_bytes=MAX_FEED_BYTES)
    except TooLarge as exc:
        raise CalendarError(
            "rejected", f"The calendar feed at {host} is larger than {MAX_FEED_BYTES // 1024 // 1024} MB."
        ) from exc
    except TooSlow as exc:
        raise CalendarError(
            "unavailable", f"{host} did not finish sending your calendar feed in time; Overture will try again."
        ) from exc
    except Unreachable as exc:
        raise CalendarError("unavailable", f"Overture could not reach {host} to {what}; it will try again.") from exc
    except BlockedAddress as exc:
        raise CalendarError("rejected", exc.message) from exc
    status = response.status_code
    if status in (401, 403):
        raise CalendarError(
            "credentials",
            f"{host} refused to share the calendar feed (HTTP {status}): its address may have been reset. "
            "Copy the feed's current address into the Calendar page.",
        )
    if status in (404, 410):
        raise CalendarError(
            "gone",
            f"There is no calendar feed at the address given on {host} (HTTP {status}). "
            "Copy the feed's current address into the Calendar page.",
        )
    if status == 429 or status >= 500:
        raise CalendarError(
            "unavailable", f"{host} is not answering properly (HTTP {status}) when asked for your calendar feed."
        )
    if status != 200:
        raise CalendarError("rejected", f"{host} refused to {what} (HTTP {status}).")
    return bytes(response.content)


def busy_in_feed(content: bytes | str, start: datetime, end: datetime, floating_zone: tzinfo = UTC) -> list[BusyTime]:
    """The busy times of an ICS feed overlapping [start, end) (`ics.busy_between`). Raises CalendarError("rejected")
    for a document that is not a calendar."""
    try:
        return ics.busy_between(content, start, end, floating_zone)
    except ics.UnreadableCalendar as exc:
        raise CalendarError(
            "rejected", "The calendar feed is not an iCalendar (.ics) document Overture can read."
        ) from exc


# --- the entry points of a provider module (calendars/registry.py) --------------------------------------------

NAME = "builtin"
LABEL = "Built-in calendar"
WRITES_EVENTS = False  # meetings live in Overture only
CONSENT: accounts.Consent | None = None
FORM: accounts.ConnectForm | None = accounts.ConnectForm(
    heading=LABEL,
    intro="No external calendar: busy time is the meetings Overture books, plus the events of an ICS feed if you "
    "give one (a calendar's “secret address in iCal format”). Nothing is written to the feed.",
    fields=(
        accounts.FormField(
            "ics_url",
            "ICS feed address (optional)",
            2000,
            required=False,
            placeholder="https://… or webcal://…",
            about="An optional ICS feed (https:// or webcal://).",
        ),
    ),  # fmt: skip
    button="Use the built-in calendar",
    done="Your calendar is now the {description}.",
    fallback=True,
)


def builtin_account(world: CalendarWorld, ics_url: str | None, now: datetime | None = None) -> accounts.Account:
    """The built-in calendar, with the ICS feed at `ics_url` (checked by reading it) or without a feed."""
    if not ics_url or not ics_url.strip():
        return accounts.Account(NAME, {})
    url = feed_url(accounts.checked_url(ics_url, "ics_url", ("https", "http", "webcal")))
    accounts.check_readable(BuiltinCalendar(url, http=world.http), "ics_url", now)
    # A feed's address is often a "secret address" that opens the calendar to anyone: it is kept encrypted.
    return accounts.Account(NAME, {"feed_host": urlsplit(url).hostname or ""}, {"ics_url": url})


def check_account(world: CalendarWorld, given: Mapping[str, str], now: datetime | None = None) -> accounts.Account:
    return builtin_account(world, given.get("ics_url"), now)


def open_calendar(world: CalendarWorld, stored: accounts.Stored) -> BuiltinCalendar:
    return BuiltinCalendar(stored.secret.get("ics_url") or None, http=world.http, floating_zone=stored.zone)


def describe(settings: Mapping[str, Any]) -> str:
    if settings.get("feed_host"):
        return f"{LABEL}, with the calendar feed from {settings['feed_host']}"
    return LABEL
