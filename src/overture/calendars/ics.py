"""Busy times out of iCalendar documents: an agent's ICS feed (builtin.py) and the events a CalDAV server reports
(caldav.py) are read the same way.

An event is busy unless it is transparent or cancelled; a tentative one is busy and says so. Recurrences are
expanded (recurring_ical_events). An event without DTEND ends after its DURATION; a timed start alone is an instant
(RFC 5545: no time taken); an all-day start alone takes that day. Times without a zone ("floating") are read in
the calendar owner's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

from overture.calendars.provider import BusyTime


class UnreadableCalendar(ValueError):
    """The document is not an iCalendar calendar, or an event in it cannot be read; the message says why."""


def busy_between(content: bytes | str, start: datetime, end: datetime, floating_zone: tzinfo = UTC) -> list[BusyTime]:
    """The busy times of the document overlapping [start, end), clipped to it, not merged. Raises
    UnreadableCalendar."""
    lower, upper = start.astimezone(UTC), end.astimezone(UTC)
    try:
        calendar = icalendar.Calendar.from_ical(content)
        if calendar.name != "VCALENDAR":
            raise ValueError("not a VCALENDAR")
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except (ValueError, KeyError, IndexError) as exc:
        raise UnreadableCalendar(str(exc)) from exc
    times: list[BusyTime] = []
    for event in occurrences:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        status = str(event.get("STATUS", "CONFIRMED")).upper()
        if status == "CANCELLED" or "DTSTART" not in event:
            continue
        begins = _instant(event["DTSTART"].dt, floating_zone)
        if "DTEND" in event:
            ends = _instant(event["DTEND"].dt, floating_zone)
        elif "DURATION" in event:
            ends = begins + event["DURATION"].dt
        elif isinstance(event["DTSTART"].dt, datetime):
            ends = begins  # RFC 5545: a start alone is an instant, which takes no time
        else:
            ends = _instant(event["DTSTART"].dt + timedelta(days=1), floating_zone)
        begins, ends = max(begins, lower), min(ends, upper)
        if ends > begins:
            times.append(BusyTime(begins, ends, tentative=status == "TENTATIVE"))
    return times


def _instant(value: date | datetime, floating_zone: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=floating_zone)
    return value.astimezone(UTC)
