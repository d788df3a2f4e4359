"""iCalendar invitations for a meeting (RFC 5545 objects, iTIP methods of RFC 5546): request, reschedule, cancel.

Pure: a meeting in, the bytes of a VCALENDAR out; time comes in as an argument (`now` is DTSTAMP). The `icalendar`
package writes the format (CRLF lines, folding at 75 octets, TEXT escaping); this module decides what goes in it.

The UID is the meeting's for life: the request, every reschedule and the cancel carry the same one, and each change
of time or status increments SEQUENCE, so the visitor's calendar updates the event it already has.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vCalAddress

from overture.errors import InvalidInput, Problem

PRODID = "-//Overture//Meetings//EN"
Method = Literal["REQUEST", "CANCEL"]
# The VTIMEZONE describes the zone's rules this long around the meeting: enough for any client to place it.
_ZONE_MARGIN = timedelta(days=366)


@dataclass(frozen=True)
class MeetingInvite:
    """What an invitation says about one meeting. `start` and `end` are aware datetimes (any zone)."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    agent_zone: str
    agent_name: str
    agent_email: str
    visitor_name: str
    visitor_email: str
    title: str
    description: str = ""
    meeting_link: str = ""


@dataclass(frozen=True)
class Invite:
    """An iCalendar object to send, with the meeting as it now stands (store its `sequence` for the next change)."""

    meeting: MeetingInvite
    method: Method
    ics: bytes


def new_uid(domain: str) -> str:
    """A globally unique UID for a new meeting, `<uuid>@domain`; keep it for the meeting's whole life."""
    return f"{uuid.uuid4()}@{domain}"


def request(meeting: MeetingInvite, now: datetime) -> Invite:
    """METHOD:REQUEST for the meeting as it is (SEQUENCE unchanged: the first invitation is sequence 0)."""
    _check(meeting)
    return Invite(meeting, "REQUEST", _calendar(meeting, "REQUEST", now))


def reschedule(meeting: MeetingInvite, start: datetime, end: datetime, now: datetime) -> Invite:
    """METHOD:REQUEST with the new times, the same UID and SEQUENCE incremented."""
    moved = dataclasses.replace(meeting, start=start, end=end, sequence=meeting.sequence + 1)
    _check(moved)
    return Invite(moved, "REQUEST", _calendar(moved, "REQUEST", now))


def cancel(meeting: MeetingInvite, now: datetime) -> Invite:
    """METHOD:CANCEL with the same UID, SEQUENCE incremented and STATUS:CANCELLED."""
    cancelled = dataclasses.replace(meeting, sequence=meeting.sequence + 1)
    _check(cancelled)
    return Invite(cancelled, "CANCEL", _calendar(cancelled, "CANCEL", now))


def _check(meeting: MeetingInvite) -> None:
    problems: list[Problem] = []
    if not meeting.uid.strip():
        problems.append(Problem("uid", "The meeting has no UID."))
    if meeting.sequence < 0:
        problems.append(Problem("sequence", "The sequence cannot be negative."))
    for name in ("start", "end"):
        moment: datetime = getattr(meeting, name)
        if moment.tzinfo is None or moment.utcoffset() is None:
            problems.append(Problem(name, f"The meeting's {name} time has no time zone."))
    # In UTC: Python compares two times of one zone by the wall clock, which lies on the night clocks change.
    if not problems and meeting.end.astimezone(UTC) <= meeting.start.astimezone(UTC):
        problems.append(Problem("end", "The meeting must end after it starts."))
    try:
        ZoneInfo(meeting.agent_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("agent_zone", f"“{meeting.agent_zone}” is not a known time zone."))
    if problems:
        raise InvalidInput("The meeting cannot be put in an invitation.", problems)


def _calendar(meeting: MeetingInvite, method: Method, now: datetime) -> bytes:
    zone = ZoneInfo(meeting.agent_zone)
    start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    if _is_utc(zone):
        start, end = start.astimezone(UTC), end.astimezone(UTC)  # written as ...Z, no VTIMEZONE needed
    else:
        calendar.add_component(
            Timezone.from_tzid(
                meeting.agent_zone,
                first_date=(start - _ZONE_MARGIN).date(),
                last_date=(end + _ZONE_MARGIN).date(),
            )
        )

    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", meeting.title)
    description = "\n\n".join(part for part in (meeting.description.strip(), _join_line(meeting.meeting_link)) if part)
    if description:
        event.add("description", description)
    if meeting.meeting_link:
        event.add("location", meeting.meeting_link)
        event.add("url", meeting.meeting_link)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(meeting.agent_email, meeting.agent_name))
    event.add(
        "attendee",
        _address(
            meeting.visitor_email,
            meeting.visitor_name,
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="NEEDS-ACTION",
            RSVP="TRUE",
            CUTYPE="INDIVIDUAL",
        ),
    )
    calendar.add_component(event)
    ics: bytes = calendar.to_ical()
    return ics


def _join_line(link: str) -> str:
    return f"Join the meeting: {link}" if link else ""


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    common_name = _parameter_value(name)
    if common_name:
        address.params["CN"] = common_name
    for key, value in params.items():
        address.params[key] = value
    return address


def _parameter_value(text: str) -> str:
    """A parameter value cannot hold a double quote or a control character (RFC 5545 3.1): they are dropped."""
    return "".join(ch for ch in text if ch != '"' and (ch == " " or ch.isprintable())).strip()


def _is_utc(zone: ZoneInfo) -> bool:
    return zone.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Etc/GMT", "GMT")
