"""CalDAV calendars (Apple iCloud, Fastmail, Nextcloud, Radicale...): a small client of our own over `http.py`.

- Discovery (RFC 4791, 5397): PROPFIND the URL the agent gave for `current-user-principal`, the principal for
  `calendar-home-set`, and the home (Depth 1) for the calendars in it (collections of resource type calendar).
- Busy time: a `free-busy-query` REPORT where the server answers one (200 text/calendar); otherwise a
  `calendar-query` REPORT with a time range, whose events are expanded here (recurrences, overrides, exceptions)
  with `recurring-ical-events`. Transparent and cancelled events do not count.
- Writes: `PUT <calendar>/<uid>.ics` with `If-None-Match: *` to create and `If-Match: <etag>` to update,
  `DELETE` with `If-Match` to cancel, so an event changed in the calendar meanwhile is never overwritten (412).
  Attendees carry `SCHEDULE-AGENT=CLIENT`: Overture emails its own invitations, the server must not send more.

Server XML is parsed with ElementTree, which resolves no external entities and, with the expat Python 3.11 ships,
refuses entity-expansion bombs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit

import httpx2
import icalendar

from overture.calendars import accounts, ics
from overture.calendars.provider import BusyTime, CalendarError, Event, EventRef, merge_busy
from overture.calendars.world import CalendarWorld
from overture.http import BlockedAddress, HttpClient, Unreachable

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
ICS_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//Overture//Meetings//EN"

FreeBusyMode = Literal["auto", "free-busy-query", "calendar-query"]


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """One calendar found by discovery: its absolute URL, its display name, the components it stores."""

    url: str
    name: str
    components: tuple[str, ...]

    @property
    def holds_events(self) -> bool:
        return not self.components or "VEVENT" in self.components


class CalDAVCalendar:
    """One agent's CalDAV account: `url` is what they entered (server root, principal or calendar home), with their
    username and app password. `calendar_url` picks the calendar; without it the first calendar that holds events
    is used. `floating_zone` is the agent's zone, for events with no zone (all-day events, floating times)."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        http: HttpClient,
        calendar_url: str | None = None,
        free_busy: FreeBusyMode = "auto",
        floating_zone: tzinfo = UTC,
    ) -> None:
        self.url = url
        self._auth = (username, password)
        self._http = http
        self._calendar_url = calendar_url
        self._free_busy = free_busy
        self._floating_zone = floating_zone

    # -- HTTP with errors a person understands ------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        what: str,
        ok: tuple[int, ...],
        missing_is_gone: bool = True,
    ) -> httpx2.Response:
        host = urlsplit(url).hostname or url
        try:
            response = self._http.request(method, url, headers=headers, content=body, auth=self._auth)
        except Unreachable as exc:
            raise CalendarError(
                "unavailable", f"Overture could not reach the calendar server at {host} to {what}; it will try again."
            ) from exc
        except BlockedAddress as exc:
            raise CalendarError("rejected", exc.message) from exc
        status = response.status_code
        if status in ok:
            return response
        if status == 401:
            raise CalendarError(
                "credentials",
                f"The calendar server at {host} did not accept the username and app password, so Overture could not "
                f"{what}. Enter them again on the Calendar page (iCloud and Fastmail need an app-specific password).",
            )
        if status == 403:
            raise CalendarError(
                "credentials",
                f"The calendar server at {host} does not let this account {what}. "
                "Check the account's sharing rights, or connect a calendar it owns on the Calendar page.",
            )
        # A PUT into a collection that does not exist is a 409 (RFC 4918, 9.7.1): the calendar was deleted.
        if (status in (404, 410) or (status == 409 and method == "PUT")) and missing_is_gone:
            raise CalendarError(
                "gone",
                f"The calendar at {url} no longer exists on the server, so Overture could not {what}. "
                "Connect the calendar again on the Calendar page.",
            )
        if status == 412:
            raise CalendarError(
                "changed",
                f"The event was changed in the calendar since Overture last wrote it, so Overture did not {what}. "
                "Reload the meeting and try again.",
            )
        if status >= 500 or status == 429:
            raise CalendarError(
                "unavailable",
                f"The calendar server at {host} is not answering properly (HTTP {status}) when Overture tried to "
                f"{what}; it will try again.",
            )
        raise CalendarError(
            "rejected", f"The calendar server at {host} refused to {what} (HTTP {status}: {response.reason_phrase})."
        )

    def _propfind(self, url: str, depth: str, props: str, what: str) -> ET.Element:
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="{CALDAV}">'
            f"<D:prop>{props}</D:prop></D:propfind>"
        ).encode()
        response = self._send("PROPFIND", url, headers={**XML_HEADERS, "Depth": depth}, body=body, what=what, ok=(207,))
        return _parse_xml(response, what)

    # -- Discovery -----------------------------------------------------------------------------------------------

    def _href_prop(self, url: str, prop: str, namespace: str, what: str) -> str | None:
        prefix = "C" if namespace == CALDAV else "D"
        root = self._propfind(url, "0", f"<{prefix}:{prop}/>", what)
        for response in root.iter(_tag(DAV, "response")):
            for value in _ok_props(response):
                if value.tag == _tag(namespace, prop):
                    href = value.find(_tag(DAV, "href"))
                    if href is not None and href.text:
                        return urljoin(url, href.text.strip())
        return None

    def calendars(self) -> list[CalendarInfo]:
        """Discover the account's calendars: principal, then calendar home, then the calendars in it."""
        what = "find your calendars"
        principal = self._href_prop(self.url, "current-user-principal", DAV, what) or self.url
        home = self._href_prop(principal, "calendar-home-set", CALDAV, what) or principal
        root = self._propfind(
            home,
            "1",
            "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>",
            what,
        )
        found: list[CalendarInfo] = []
        for response in root.iter(_tag(DAV, "response")):
            href = response.findtext(_tag(DAV, "href"))
            if not href:
                continue
            props = {value.tag: value for value in _ok_props(response)}
            kind = props.get(_tag(DAV, "resourcetype"))
            if kind is None or kind.find(_tag(CALDAV, "calendar")) is None:
                continue
            components = props.get(_tag(CALDAV, "supported-calendar-component-set"))
            names = tuple(c.get("name", "") for c in components) if components is not None else ()
            display = props.get(_tag(DAV, "displayname"))
            url = urljoin(home, href.strip())
            found.append(CalendarInfo(url, (display.text or "").strip() if display is not None else "", names))
        return found

    def calendar_url(self) -> str:
        """The URL of the calendar used for busy time and writes (discovered once, then remembered)."""
        if self._calendar_url is None:
            usable = [c for c in self.calendars() if c.holds_events]
            if not usable:
                raise CalendarError(
                    "gone",
                    f"No calendar for events was found in the account at {self.url}. "
                    "Create one in your calendar app, then connect again on the Calendar page.",
                )
            self._calendar_url = usable[0].url
        url = self._calendar_url
        return url if url.endswith("/") else url + "/"

    # -- Busy time -----------------------------------------------------------------------------------------------

    def busy(self, start: datetime, end: datetime) -> list[BusyTime]:
        calendar = self.calendar_url()
        if self._free_busy != "calendar-query":
            found = self._free_busy_query(calendar, start, end)
            if found is not None:
                return found
        return self._busy_from_events(calendar, start, end)

    def _free_busy_query(self, calendar: str, start: datetime, end: datetime) -> list[BusyTime] | None:
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><C:free-busy-query xmlns:C="{CALDAV}">'
            f'<C:time-range start="{_utc_stamp(start)}" end="{_utc_stamp(end)}"/></C:free-busy-query>'
        ).encode()
        # Servers without free-busy-query answer 403, 404, 405, 415, 501 or a 207; then events are read instead.
        response = self._send(
            "REPORT",
            calendar,
            headers={**XML_HEADERS, "Depth": "1"},
            body=body,
            what="read your busy times",
            ok=(200, 207, 400, 403, 404, 405, 415, 501),
            missing_is_gone=False,
        )
        if response.status_code != 200 or "calendar" not in response.headers.get("Content-Type", ""):
            if self._free_busy == "free-busy-query":
                raise CalendarError("rejected", f"The calendar server at {calendar} does not answer free-busy queries.")
            return None
        return _busy_from_freebusy(response.content, start, end)

    def _busy_from_events(self, calendar: str, start: datetime, end: datetime) -> list[BusyTime]:
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="{CALDAV}">'
            "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
            f'<C:time-range start="{_utc_stamp(start)}" end="{_utc_stamp(end)}"/>'
            "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
        ).encode()
        what = "read your busy times"
        response = self._send(
            "REPORT", calendar, headers={**XML_HEADERS, "Depth": "1"}, body=body, what=what, ok=(207,)
        )
        times: list[BusyTime] = []
        for item in _parse_xml(response, what).iter(_tag(CALDAV, "calendar-data")):
            if item.text and item.text.strip():
                times.extend(self._busy_in_ics(item.text, start, end))
        return merge_busy(times)

    def _busy_in_ics(self, text: str, start: datetime, end: datetime) -> list[BusyTime]:
        try:
            return ics.busy_between(text, start, end, self._floating_zone)
        except ics.UnreadableCalendar as exc:
            raise CalendarError(
                "rejected", f"An event in the calendar at {self.url} could not be read ({exc}); it was not counted."
            ) from exc

    # -- Writes --------------------------------------------------------------------------------------------------

    def _event_url(self, uid: str) -> str:
        return self.calendar_url() + quote(uid, safe="") + ".ics"

    def _etag_after_write(self, response: httpx2.Response, url: str, what: str) -> str | None:
        etag = response.headers.get("ETag")
        if etag and not etag.startswith("W/"):
            return etag
        # No strong ETag: the server changed what we sent (RFC 4791 5.3.4), so ask for the stored version's.
        fetched = self._send("GET", url, what=what, ok=(200,))
        return fetched.headers.get("ETag")

    def create_event(self, event: Event) -> EventRef:
        url = self._event_url(event.uid)
        what = f'add the meeting "{event.summary}" to your calendar'
        response = self._send(
            "PUT",
            url,
            headers={"Content-Type": ICS_TYPE, "If-None-Match": "*"},
            body=event_ics(event),
            what=what,
            ok=(200, 201, 204),
        )
        return EventRef(event.uid, url, self._etag_after_write(response, url, what))

    def update_event(self, ref: EventRef, event: Event) -> EventRef:
        what = f'change the meeting "{event.summary}" in your calendar'
        headers = {"Content-Type": ICS_TYPE}
        if ref.etag:
            headers["If-Match"] = ref.etag
        response = self._send("PUT", ref.href, headers=headers, body=event_ics(event), what=what, ok=(200, 201, 204))
        return EventRef(event.uid, ref.href, self._etag_after_write(response, ref.href, what))

    def cancel_event(self, ref: EventRef) -> None:
        headers = {"If-Match": ref.etag} if ref.etag else {}
        self._send(
            "DELETE",
            ref.href,
            headers=headers,
            what="remove the cancelled meeting from your calendar",
            ok=(200, 204, 404, 410),
        )


def event_ics(event: Event) -> bytes:
    """The VCALENDAR Overture stores for a meeting: one VEVENT, times in UTC, no METHOD (RFC 4791 4.1)."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    vevent = icalendar.Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", datetime.now(UTC))
    if event.created is not None:
        vevent.add("CREATED", event.created.astimezone(UTC))
    vevent.add("DTSTART", event.start.astimezone(UTC))
    vevent.add("DTEND", event.end.astimezone(UTC))
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("SUMMARY", event.summary)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    if event.location:
        vevent.add("LOCATION", event.location)
    organizer = icalendar.vCalAddress(f"mailto:{event.organizer.email}")
    if event.organizer.name:
        organizer.params["CN"] = event.organizer.name
    vevent.add("ORGANIZER", organizer)
    for person in event.attendees:
        attendee = icalendar.vCalAddress(f"mailto:{person.email}")
        if person.name:
            attendee.params["CN"] = person.name
        attendee.params.update(
            {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE", "SCHEDULE-AGENT": "CLIENT"}
        )
        vevent.add("ATTENDEE", attendee)
    calendar.add_component(vevent)
    return bytes(calendar.to_ical())


def _busy_from_freebusy(content: bytes, start: datetime, end: datetime) -> list[BusyTime]:
    times: list[BusyTime] = []
    try:
        calendar = icalendar.Calendar.from_ical(content)
    except ValueError as exc:
        raise CalendarError("rejected", f"The calendar server sent busy times Overture cannot read ({exc}).") from exc
    for component in calendar.walk("VFREEBUSY"):
        lines: Any = component.get("FREEBUSY", [])
        for line in lines if isinstance(lines, list) else [lines]:
            kind = str(line.params.get("FBTYPE", "BUSY")).upper()
            if kind == "FREE":
                continue
            for period in line.dts if hasattr(line, "dts") else [line]:
                begins, finish = period.dt
                begins = begins.astimezone(UTC)
                finish = (begins + finish if isinstance(finish, timedelta) else finish).astimezone(UTC)
                begins, finish = max(begins, start.astimezone(UTC)), min(finish, end.astimezone(UTC))
                if finish > begins:
                    times.append(BusyTime(begins, finish, tentative=kind == "BUSY-TENTATIVE"))
    return merge_busy(times)


def _parse_xml(response: httpx2.Response, what: str) -> ET.Element:
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as exc:
        host = response.request.url.host
        raise CalendarError(
            "rejected", f"The calendar server at {host} sent an answer Overture cannot read when asked to {what}."
        ) from exc


def _ok_props(response: ET.Element) -> list[ET.Element]:
    """The properties of a multistatus response that came with a 200 status (the others are missing or refused)."""
    found: list[ET.Element] = []
    for propstat in response.iter(_tag(DAV, "propstat")):
        status = propstat.findtext(_tag(DAV, "status")) or ""
        prop = propstat.find(_tag(DAV, "prop"))
        if " 200 " in f"{status} " and prop is not None:
            found.extend(prop)
    return found


# --- the entry points of a provider module (calendars/registry.py) --------------------------------------------

NAME = "caldav"
LABEL = "CalDAV calendar"
WRITES_EVENTS = True
CONSENT: accounts.Consent | None = None
FORM: accounts.ConnectForm | None = accounts.ConnectForm(
    heading="CalDAV (iCloud, Fastmail, Nextcloud…)",
    fields=(
        accounts.FormField(
            "url",
            "Server address",
            2000,
            kind="url",
            placeholder="https://caldav.icloud.com/",
            about="The server's CalDAV address, e.g. https://caldav.icloud.com/.",
        ),
        accounts.FormField("username", "User name", 200),
        accounts.FormField(
            "password",
            "App password",
            500,
            kind="password",
            about="An app password; stored encrypted, never shown again.",
        ),
    ),  # fmt: skip
    hint="iCloud and Fastmail need an app-specific password, made in the account's security settings. "
    "It is stored encrypted.",
    button="Connect CalDAV",
)


def caldav_account(
    world: CalendarWorld, url: str, username: str, password: str, now: datetime | None = None
) -> accounts.Account:
    """A CalDAV account, checked by discovering its calendars and reading the one `url` names when it is a calendar's
    own address, else the first one that holds events."""
    url = accounts.checked_url(url, "url", ("https", "http"))
    username = accounts.required(username, "username", "user name", 200)
    password = accounts.required(password, "password", "app password", 500)
    client = CalDAVCalendar(url, username, password, http=world.http)
    try:
        usable = [found for found in client.calendars() if found.holds_events]
    except CalendarError as exc:
        raise accounts.refused("password" if exc.reason == "credentials" else "url", exc.message) from exc
    if not usable:
        raise accounts.refused(
            "url", f"The account at {url} has no calendar for events. Create one in your calendar app, then connect."
        )
    # The calendar whose own address was given, else the first one that holds events.
    chosen = next((found for found in usable if found.url.rstrip("/") == url.rstrip("/")), usable[0])
    calendar = CalDAVCalendar(url, username, password, http=world.http, calendar_url=chosen.url)
    accounts.check_readable(calendar, "url", now)
    settings = {"url": url, "username": username, "calendar_url": chosen.url, "calendar_name": chosen.name}
    return accounts.Account(NAME, settings, {"password": password})


def check_account(world: CalendarWorld, given: Mapping[str, str], now: datetime | None = None) -> accounts.Account:
    return caldav_account(world, given.get("url", ""), given.get("username", ""), given.get("password", ""), now)


def open_calendar(world: CalendarWorld, stored: accounts.Stored) -> CalDAVCalendar:
    settings = stored.settings
    return CalDAVCalendar(
        settings["url"],
        settings["username"],
        stored.secret["password"],
        http=world.http,
        calendar_url=settings.get("calendar_url"),
        floating_zone=stored.zone,
    )


def describe(settings: Mapping[str, Any]) -> str:
    name = settings.get("calendar_name") or "calendar"
    host = urlsplit(str(settings.get("url", ""))).hostname or ""
    return f"{LABEL} “{name}” of {settings.get('username', '')} on {host}"
