"""The one interface every calendar provider implements, and the one error they raise.

A provider answers when an agent is busy in a range, and writes the meetings Overture books: create, update and
cancel an event with attendees. Callers keep the `EventRef` a write returns and pass it back to change or cancel
the event, so a provider can refuse to overwrite an event someone changed in the calendar meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from overture.errors import OvertureError

CalendarFailure = Literal["credentials", "gone", "changed", "unavailable", "rejected"]

_STATUS: dict[CalendarFailure, int] = {
    "credentials": 502,
    "gone": 502,
    "changed": 409,
    "unavailable": 502,
    "rejected": 502,
}


class CalendarError(OvertureError):
    """A calendar could not be read or written. `reason` says why, for code (mark the agent "needs attention" on
    credentials or gone; retry later on unavailable); the message says it in a sentence for people."""

    def __init__(self, reason: CalendarFailure, message: str) -> None:
        super().__init__(message, [], _STATUS[reason])
        self.reason: CalendarFailure = reason


class RetryLater(CalendarError):
    """The provider is throttling or briefly failing: try again, after `retry_after` seconds when it said how long
    (None: back off, never retry at once)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__("unavailable", message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class BusyTime:
    """A time the calendar's owner is not free, from `start` (included) to `end` (excluded), both aware, in UTC."""

    start: datetime
    end: datetime
    tentative: bool = False


@dataclass(frozen=True, slots=True)
class Attendee:
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """A meeting to write on a calendar. `uid` is Overture's, stable across updates; `sequence` goes up with each
    change the attendees should see (RFC 5545)."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    organizer: Attendee
    attendees: tuple[Attendee, ...] = ()
    description: str = ""
    location: str = ""
    sequence: int = 0
    created: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EventRef:
    """Where a written event lives on the provider (`href`: its URL or id), the version written (`etag`), and the
    video link the provider made for it (Google Meet, Microsoft Teams), if any."""

    uid: str
    href: str
    etag: str | None
    join_url: str | None = None


class CalendarProvider(Protocol):
    """What Overture needs from any calendar. Every method raises `CalendarError` when the calendar fails."""

    def busy(self, start: datetime, end: datetime) -> list[BusyTime]:
        """The busy times overlapping [start, end), merged and sorted, recurring events expanded."""
        ...

    def create_event(self, event: Event) -> EventRef:
        """Write a new event; fails with reason "changed" if an event with its uid is already there."""
        ...

    def update_event(self, ref: EventRef, event: Event) -> EventRef:
        """Replace the event `ref` points to; fails with reason "changed" if it changed since `ref` was taken."""
        ...

    def cancel_event(self, ref: EventRef) -> None:
        """Remove the event; an event already gone is fine, one changed since `ref` was taken fails ("changed")."""
        ...


def merge_busy(times: list[BusyTime]) -> list[BusyTime]:
    """Sort and join overlapping or touching busy times (a busy time wins over a tentative one)."""
    merged: list[BusyTime] = []
    for item in sorted(times, key=lambda t: (t.start, t.end)):
        if item.end <= item.start:
            continue
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = BusyTime(last.start, max(last.end, item.end), last.tentative and item.tentative)
        else:
            merged.append(item)
    return merged
