"""The built-in calendar with an ICS feed served by a real local HTTP server: recurring events expanded across a
daylight-saving change, free and cancelled events left out, and feeds that fail said in plain words."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from overture.calendars import connections
from overture.calendars.builtin import BuiltinCalendar, builtin_account, feed_url
from overture.calendars.provider import Attendee, BusyTime, CalendarError, CalendarProvider, Event, EventRef
from overture.calendars.world import CalendarWorld
from overture.db import Database
from overture.errors import InvalidInput
from overture.http import HttpClient
from overture.scheduling import agents
from overture.settings import Settings
from overture.users import service as users

from support import Personas

PARIS = ZoneInfo("Europe/Paris")
KEY = "builtin-test-secret-key-" + "k" * 24

# A weekly Monday standup at 09:00 Paris time, written the way Google Calendar exports it (VTIMEZONE included), with
# one Monday cancelled (EXDATE) and one moved to 14:00 (RECURRENCE-ID override).
FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-TIMEZONE:Europe/Paris
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
UID:standup@example.com
DTSTAMP:20260301T000000Z
DTSTART;TZID=Europe/Paris:20260316T090000
DTEND;TZID=Europe/Paris:20260316T093000
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=Europe/Paris:20260413T090000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup@example.com
DTSTAMP:20260301T000000Z
RECURRENCE-ID;TZID=Europe/Paris:20260406T090000
DTSTART;TZID=Europe/Paris:20260406T140000
DTEND;TZID=Europe/Paris:20260406T143000
SUMMARY:Standup (moved)
END:VEVENT
BEGIN:VEVENT
UID:lunch@example.com
DTSTAMP:20260301T000000Z
DTSTART:20260324T110000Z
DTEND:20260324T120000Z
TRANSP:TRANSPARENT
SUMMARY:Lunch (shown as free)
END:VEVENT
BEGIN:VEVENT
UID:called-off@example.com
DTSTAMP:20260301T000000Z
DTSTART:20260325T130000Z
DTEND:20260325T140000Z
STATUS:CANCELLED
SUMMARY:Called off
END:VEVENT
BEGIN:VEVENT
UID:maybe@example.com
DTSTAMP:20260301T000000Z
DTSTART:20260326T150000Z
DURATION:PT45M
STATUS:TENTATIVE
SUMMARY:Maybe
END:VEVENT
BEGIN:VEVENT
UID:holiday@example.com
DTSTAMP:20260301T000000Z
DTSTART;VALUE=DATE:20260327
DTEND;VALUE=DATE:20260328
SUMMARY:Day off
END:VEVENT
END:VCALENDAR
"""


@dataclass
class FeedServer:
    """A local web server; tests put what each path answers in `pages`: (status, content type, body)."""

    url: str = ""
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, path: str, body: str, status: int = 200, kind: str = "text/calendar; charset=utf-8") -> str:
        self.pages[path] = (status, kind, body.encode())
        return self.url + path


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    served = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            served.requests.append(self.path)
            status, kind, body = served.pages.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def http() -> Iterator[HttpClient]:
    # The feed server listens on 127.0.0.1: lift the private-address guard, as for a server on the LAN.
    with HttpClient(allow_private=True, retries=0) as client:
        yield client


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_busy_time_follows_a_weekly_meeting_across_the_dst_change(feeds: FeedServer, http: HttpClient) -> None:
    calendar: CalendarProvider = BuiltinCalendar(feeds.publish("/agent.ics", FEED), http=http)

    busy = calendar.busy(utc(2026, 3, 22), utc(2026, 4, 21))

    assert busy == [
        BusyTime(utc(2026, 3, 23, 8), utc(2026, 3, 23, 8, 30)),  # 09:00 Paris before the change is 08:00 UTC
        BusyTime(utc(2026, 3, 26, 15), utc(2026, 3, 26, 15, 45), tentative=True),
        BusyTime(utc(2026, 3, 27), utc(2026, 3, 28)),  # the day off, on a UTC clock by default
        BusyTime(utc(2026, 3, 30, 7), utc(2026, 3, 30, 7, 30)),  # and 07:00 UTC after it, on 29 March
        BusyTime(utc(2026, 4, 6, 12), utc(2026, 4, 6, 12, 30)),  # the Monday moved to 14:00 Paris
        BusyTime(utc(2026, 4, 20, 7), utc(2026, 4, 20, 7, 30)),  # 13 April was cancelled (EXDATE)
    ]


def test_free_and_cancelled_events_do_not_count_and_tentative_ones_are_tentative(
    feeds: FeedServer, http: HttpClient
) -> None:
    calendar = BuiltinCalendar(feeds.publish("/agent.ics", FEED), http=http)

    busy = calendar.busy(utc(2026, 3, 24), utc(2026, 3, 27))

    assert busy == [BusyTime(utc(2026, 3, 26, 15), utc(2026, 3, 26, 15, 45), tentative=True)]


def test_an_all_day_event_blocks_the_agents_own_day(feeds: FeedServer, http: HttpClient) -> None:
    calendar = BuiltinCalendar(feeds.publish("/agent.ics", FEED), http=http, floating_zone=PARIS)

    busy = calendar.busy(utc(2026, 3, 26, 18), utc(2026, 3, 28, 12))

    # 27 March on a Paris clock is 26 March 23:00 to 27 March 23:00 in UTC.
    assert busy == [BusyTime(utc(2026, 3, 26, 23), utc(2026, 3, 27, 23))]


def test_busy_times_are_clipped_to_the_range_asked(feeds: FeedServer, http: HttpClient) -> None:
    calendar = BuiltinCalendar(feeds.publish("/agent.ics", FEED), http=http)

    assert calendar.busy(utc(2026, 3, 23, 8, 15), utc(2026, 3, 23, 12)) == [
        BusyTime(utc(2026, 3, 23, 8, 15), utc(2026, 3, 23, 8, 30))
    ]


def test_the_feed_is_read_again_at_each_call(feeds: FeedServer, http: HttpClient) -> None:
    url = feeds.publish("/agent.ics", FEED)
    calendar = BuiltinCalendar(url, http=http)
    calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24))
    later = FEED.replace("20260316T090000\n", "20260316T100000\n").replace("20260316T093000", "20260316T103000")
    feeds.publish("/agent.ics", later)  # the standup moved an hour later in the agent's calendar

    assert calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24)) == [BusyTime(utc(2026, 3, 23, 9), utc(2026, 3, 23, 9, 30))]
    assert feeds.requests == ["/agent.ics", "/agent.ics"]


def test_without_a_feed_only_overtures_meetings_count_and_nothing_is_written() -> None:
    calendar = BuiltinCalendar()
    event = Event("uid-1", "Demo", utc(2026, 3, 23, 9), utc(2026, 3, 23, 10), Attendee("rep@example.com", "Rep"))

    assert calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24)) == []
    ref = calendar.create_event(event)
    assert ref == EventRef("uid-1", "", None)
    assert calendar.update_event(ref, event) == ref
    calendar.cancel_event(ref)


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason", "words"),
    [
        (404, "not here", "text/plain", "gone", "There is no calendar feed"),
        (403, "denied", "text/plain", "credentials", "refused to share the calendar feed"),
        (503, "down", "text/plain", "unavailable", "HTTP 503"),
        (200, "<html><body>Sign in</body></html>", "text/html", "rejected", "not an iCalendar"),
    ],
)
def test_a_feed_that_fails_says_why(
    feeds: FeedServer, http: HttpClient, status: int, body: str, kind: str, reason: str, words: str
) -> None:
    calendar = BuiltinCalendar(feeds.publish("/broken.ics", body, status, kind), http=http)

    with pytest.raises(CalendarError) as failed:
        calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24))

    assert failed.value.reason == reason
    assert words in failed.value.message


@dataclass
class StreamingFeeds:
    """Feeds that misbehave: /huge.ics streams 40 MB without a Content-Length, /slow.ics sends the feed one byte at
    a time. `sent` counts the bytes written; `hung_up` is set when Overture closed the connection first."""

    url: str = ""
    sent: int = 0
    hung_up: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def streaming_feeds() -> Iterator[StreamingFeeds]:
    served = StreamingFeeds()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                if self.path == "/huge.ics":
                    self._send(b"BEGIN:VCALENDAR\r\n")
                    for _ in range(640):
                        self._send(b"X-PAD:" + b"x" * 65528 + b"\r\n")
                else:
                    for byte in FEED.encode():
                        self._send(bytes([byte]))
                        if served.stop.wait(timeout=0.05):
                            return
            except OSError:
                served.hung_up.set()

        def _send(self, data: bytes) -> None:
            self.wfile.write(data)
            served.sent += len(data)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    served.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_feed_larger_than_the_limit_is_refused_without_downloading_it_whole(
    streaming_feeds: StreamingFeeds, http: HttpClient
) -> None:
    calendar = BuiltinCalendar(streaming_feeds.url + "/huge.ics", http=http)

    with pytest.raises(CalendarError) as refused:
        calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24))

    assert refused.value.reason == "rejected"
    assert refused.value.message == "The calendar feed at 127.0.0.1 is larger than 10 MB."
    assert streaming_feeds.hung_up.wait(timeout=10)
    assert streaming_feeds.sent < 20 * 1024 * 1024  # of 40 MB: the limit, and what the sockets' buffers held


def test_a_feed_sent_one_byte_at_a_time_is_given_up_at_the_deadline(streaming_feeds: StreamingFeeds) -> None:
    with HttpClient(allow_private=True, retries=0, deadline=1.0) as impatient:
        calendar = BuiltinCalendar(streaming_feeds.url + "/slow.ics", http=impatient)
        with pytest.raises(CalendarError) as failed:
            calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24))

    assert failed.value.reason == "unavailable"
    assert failed.value.message == (
        "127.0.0.1 did not finish sending your calendar feed in time; Overture will try again."
    )


def test_a_feed_on_a_private_address_is_refused_unless_allowed(feeds: FeedServer) -> None:
    with HttpClient(retries=0) as guarded:
        calendar = BuiltinCalendar(feeds.publish("/agent.ics", FEED), http=guarded)
        with pytest.raises(CalendarError) as refused:
            calendar.busy(utc(2026, 3, 22), utc(2026, 3, 24))
    assert refused.value.reason == "rejected"
    assert "private or local address" in refused.value.message
    assert feeds.requests == []


def test_webcal_addresses_are_read_over_https() -> None:
    assert feed_url(" webcal://p01-calendars.icloud.com/published/2/abc ") == (
        "https://p01-calendars.icloud.com/published/2/abc"
    )
    assert feed_url("https://calendar.google.com/x/basic.ics") == "https://calendar.google.com/x/basic.ics"


# --- connecting the built-in calendar ---------------------------------------------------------------------------------


@pytest.fixture
def world(settings: Settings, db: Database, http: HttpClient) -> CalendarWorld:
    return CalendarWorld(settings, db, http, KEY)


def test_connecting_a_feed_reads_it_first_and_keeps_its_address_encrypted(
    world: CalendarWorld, db: Database, personas: Personas, feeds: FeedServer
) -> None:
    url = feeds.publish("/private/4f1c9e/basic.ics", FEED)

    account = builtin_account(world, url, utc(2026, 3, 23))
    with db.write() as session:
        agent = agents.ensure_agent(session, users.get_user(session, personas.bob.id))
        connection = agents.connect(session, agent, account, secret_key=KEY, now=utc(2026, 3, 23))

    assert feeds.requests == ["/private/4f1c9e/basic.ics"]  # read once, to check it
    assert connection.settings == {"feed_host": "127.0.0.1", "zone": "UTC", "online_meeting": True}
    assert connection.secret is not None and "4f1c9e" not in connection.secret
    assert connections.describe(connection) == "Built-in calendar, with the calendar feed from 127.0.0.1"
    busy = connections.open_calendar(world, connection).busy(utc(2026, 3, 23), utc(2026, 3, 24))
    assert busy == [BusyTime(utc(2026, 3, 23, 8), utc(2026, 3, 23, 8, 30))]


@pytest.mark.parametrize(
    ("path", "words"),
    [("/missing.ics", "There is no calendar feed"), ("/page.html", "not an iCalendar (.ics) document")],
)
def test_a_feed_that_cannot_be_read_is_not_connected(
    world: CalendarWorld, feeds: FeedServer, path: str, words: str
) -> None:
    feeds.publish("/page.html", "<html>Sign in</html>", kind="text/html")

    with pytest.raises(InvalidInput) as refused:
        builtin_account(world, feeds.url + path)

    assert [problem.path for problem in refused.value.problems] == ["ics_url"]
    assert words in refused.value.problems[0].message


def test_the_builtin_calendar_needs_no_feed(world: CalendarWorld) -> None:
    assert builtin_account(world, "  ") == connections.Account("builtin", {})
    with pytest.raises(InvalidInput) as refused:
        builtin_account(world, "ftp://example.com/cal.ics")
    assert "Enter the full address, starting with https:// or http:// or webcal://" in refused.value.message
