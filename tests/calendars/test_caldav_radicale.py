"""The CalDAV provider against a real Radicale server: discovery, busy time, writes with ETags, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx2
import icalendar
import pytest

from overture.calendars.caldav import CalDAVCalendar
from overture.calendars.provider import Attendee, BusyTime, CalendarError, CalendarProvider, Event
from overture.http import HttpClient

from .conftest import USERS, Radicale

PARIS = ZoneInfo("Europe/Paris")


def alice(radicale: Radicale, http: HttpClient, **options: object) -> CalDAVCalendar:
    return CalDAVCalendar(radicale.url, "alice", USERS["alice"], http=http, **options)  # type: ignore[arg-type]


def meeting(uid: str = "meeting-1", start: datetime | None = None, summary: str = "Demo with Vera") -> Event:
    start = start or datetime(2026, 5, 4, 14, 0, tzinfo=PARIS)
    return Event(
        uid=uid,
        summary=summary,
        start=start,
        end=start + timedelta(minutes=30),
        organizer=Attendee("alice@example.com", "Alice Agent"),
        attendees=(Attendee("vera@visitor.example", "Vera Visitor"),),
        description="Booked in the chat.",
        location="https://meet.example.com/alice",
    )


WEEKLY_STANDUP = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Calendar app//EN
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:standup@test
DTSTAMP:20260301T000000Z
DTSTART;TZID=Europe/Paris:20260316T090000
DTEND;TZID=Europe/Paris:20260316T100000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:Team standup
END:VEVENT
END:VCALENDAR
"""

ONE_OFF = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Calendar app//EN
BEGIN:VEVENT
UID:{uid}@test
DTSTAMP:20260301T000000Z
DTSTART:{start}
DTEND:{end}
{extra}SUMMARY:{uid}
END:VEVENT
END:VCALENDAR
"""


def test_discovery_finds_the_event_calendars_of_the_account(radicale: Radicale, http: HttpClient) -> None:
    work = radicale.make_calendar("alice", "discovery-work")
    tasks = radicale.make_calendar("alice", "discovery-tasks", components="VTODO")
    theirs = radicale.make_calendar("bruno", "bruno-only")
    found = {c.url: c for c in alice(radicale, http).calendars()}

    assert found[work].name == "Discovery-Work"
    assert found[work].holds_events
    assert found[tasks].components == ("VTODO",)
    assert not found[tasks].holds_events
    assert theirs not in found  # another user's calendars are not listed


def test_calendar_is_picked_from_discovery_when_not_given(radicale: Radicale, http: HttpClient) -> None:
    radicale.make_calendar("carol", "only-tasks", components="VTODO")
    events = radicale.make_calendar("carol", "only-events")
    calendar = CalDAVCalendar(radicale.url, "carol", USERS["carol"], http=http)
    assert calendar.calendar_url() == events


@pytest.mark.parametrize("mode", ["free-busy-query", "calendar-query"])
def test_busy_time_expands_a_weekly_meeting_across_the_dst_change(
    radicale: Radicale, http: HttpClient, calendar_url: str, mode: str
) -> None:
    assert radicale.put(calendar_url + "standup.ics", WEEKLY_STANDUP).status_code == 201
    calendar = alice(radicale, http, calendar_url=calendar_url, free_busy=mode)
    check: CalendarProvider = calendar

    busy = check.busy(datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))

    # 09:00 Paris is 08:00 UTC before the change on 29 March and 07:00 UTC after it.
    assert busy == [
        BusyTime(datetime(2026, 3, 23, 8, tzinfo=UTC), datetime(2026, 3, 23, 9, tzinfo=UTC)),
        BusyTime(datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)),
        BusyTime(datetime(2026, 4, 6, 7, tzinfo=UTC), datetime(2026, 4, 6, 8, tzinfo=UTC)),
    ]


@pytest.mark.parametrize("mode", ["free-busy-query", "calendar-query"])
def test_busy_time_skips_free_and_cancelled_events_and_clips_to_the_range(
    radicale: Radicale, http: HttpClient, calendar_url: str, mode: str
) -> None:
    events = {
        "busy": ("20260504T080000Z", "20260504T093000Z", ""),
        "overlapping": ("20260504T090000Z", "20260504T100000Z", ""),
        "transparent": ("20260504T120000Z", "20260504T130000Z", "TRANSP:TRANSPARENT\n"),
        "cancelled": ("20260504T140000Z", "20260504T150000Z", "STATUS:CANCELLED\n"),
        "late": ("20260504T170000Z", "20260504T190000Z", ""),
        "outside": ("20260506T080000Z", "20260506T090000Z", ""),
    }
    for uid, (start, end, extra) in events.items():
        ics = ONE_OFF.format(uid=uid, start=start, end=end, extra=extra)
        assert radicale.put(f"{calendar_url}{uid}.ics", ics).status_code == 201
    calendar = alice(radicale, http, calendar_url=calendar_url, free_busy=mode)

    busy = calendar.busy(datetime(2026, 5, 4, 7, tzinfo=UTC), datetime(2026, 5, 4, 18, tzinfo=UTC))

    assert [(b.start.hour, b.start.minute, b.end.hour, b.end.minute) for b in busy] == [(8, 0, 10, 0), (17, 0, 18, 0)]


def test_meetings_are_created_updated_and_cancelled_with_etags(
    radicale: Radicale, http: HttpClient, calendar_url: str
) -> None:
    calendar = alice(radicale, http, calendar_url=calendar_url)
    day = (datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC))

    ref = calendar.create_event(meeting())
    assert ref.href == calendar_url + "meeting-1.ics"
    assert ref.etag
    assert calendar.busy(*day) == [
        BusyTime(datetime(2026, 5, 4, 12, tzinfo=UTC), datetime(2026, 5, 4, 12, 30, tzinfo=UTC))
    ]
    stored = icalendar.Calendar.from_ical(httpx2.get(ref.href, auth=("alice", USERS["alice"])).text)
    event = stored.walk("VEVENT")[0]
    assert "METHOD" not in stored
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
    assert str(event["ATTENDEE"]) == "mailto:vera@visitor.example"
    assert event["ATTENDEE"].params["CN"] == "Vera Visitor"
    assert event["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"

    moved = meeting(start=datetime(2026, 5, 4, 16, 0, tzinfo=PARIS))
    newer = calendar.update_event(ref, moved)
    assert newer.etag and newer.etag != ref.etag
    assert calendar.busy(*day) == [
        BusyTime(datetime(2026, 5, 4, 14, tzinfo=UTC), datetime(2026, 5, 4, 14, 30, tzinfo=UTC))
    ]

    calendar.cancel_event(newer)
    assert calendar.busy(*day) == []
    assert httpx2.get(ref.href, auth=("alice", USERS["alice"])).status_code == 404
    calendar.cancel_event(newer)  # already gone: nothing to do


def test_creating_a_meeting_twice_does_not_overwrite_the_first(
    radicale: Radicale, http: HttpClient, calendar_url: str
) -> None:
    calendar = alice(radicale, http, calendar_url=calendar_url)
    calendar.create_event(meeting(summary="First"))
    with pytest.raises(CalendarError) as raised:
        calendar.create_event(meeting(summary="Second"))
    assert raised.value.reason == "changed"
    stored = httpx2.get(calendar_url + "meeting-1.ics", auth=("alice", USERS["alice"])).text
    assert "SUMMARY:First" in stored


def test_an_event_changed_elsewhere_is_not_overwritten_or_deleted(
    radicale: Radicale, http: HttpClient, calendar_url: str
) -> None:
    calendar = alice(radicale, http, calendar_url=calendar_url)
    ref = calendar.create_event(meeting())
    # The agent moves the meeting in their calendar app.
    edited = ONE_OFF.format(uid="meeting-1", start="20260504T150000Z", end="20260504T160000Z", extra="")
    edited = edited.replace("UID:meeting-1@test", "UID:meeting-1")
    assert radicale.put(ref.href, edited).status_code == 204  # the event changed, not a new one

    with pytest.raises(CalendarError) as raised:
        calendar.update_event(ref, meeting(summary="Overture's version"))
    assert raised.value.reason == "changed"
    assert raised.value.status == 409
    assert "changed in the calendar since Overture last wrote it" in raised.value.message
    with pytest.raises(CalendarError) as cancelled:
        calendar.cancel_event(ref)
    assert cancelled.value.reason == "changed"

    stored = httpx2.get(ref.href, auth=("alice", USERS["alice"])).text
    assert "DTSTART:20260504T150000Z" in stored


def test_wrong_app_password_is_reported_in_plain_words(radicale: Radicale, http: HttpClient, calendar_url: str) -> None:
    calendar = CalDAVCalendar(radicale.url, "alice", "not-the-password", http=http, calendar_url=calendar_url)
    for attempt in (
        calendar.calendars,
        lambda: calendar.busy(datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC)),
        lambda: calendar.create_event(meeting()),
    ):
        with pytest.raises(CalendarError) as raised:
            attempt()
        assert raised.value.reason == "credentials"
        assert "did not accept the username and app password" in raised.value.message


def test_a_deleted_calendar_is_reported_as_gone(radicale: Radicale, http: HttpClient, calendar_url: str) -> None:
    calendar = alice(radicale, http, calendar_url=calendar_url)
    assert httpx2.request("DELETE", calendar_url, auth=("alice", USERS["alice"])).status_code == 200
    with pytest.raises(CalendarError) as raised:
        calendar.busy(datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC))
    assert raised.value.reason == "gone"
    assert "no longer exists" in raised.value.message
    with pytest.raises(CalendarError) as writing:
        calendar.create_event(meeting())
    assert writing.value.reason == "gone"


def test_an_unreachable_server_is_reported_as_unavailable(http: HttpClient) -> None:
    calendar = CalDAVCalendar("http://127.0.0.1:9/", "alice", "pw", http=http, calendar_url="http://127.0.0.1:9/cal/")
    with pytest.raises(CalendarError) as raised:
        calendar.busy(datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC))
    assert raised.value.reason == "unavailable"
    assert "could not reach the calendar server at 127.0.0.1" in raised.value.message


def test_a_private_server_is_refused_unless_allowed(radicale: Radicale, calendar_url: str) -> None:
    with HttpClient() as guarded:
        calendar = CalDAVCalendar(radicale.url, "alice", USERS["alice"], http=guarded, calendar_url=calendar_url)
        with pytest.raises(CalendarError) as raised:
            calendar.busy(datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC))
    assert raised.value.reason == "rejected"
    assert "private or local address" in raised.value.message
