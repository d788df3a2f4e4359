"""Google Calendar provider against a local fake of the API (tests/fakes/google_calendar.py), and the proof that
the fake answers like Google: Google's own client library runs the same calls against it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from fakes.google_calendar import FakeGoogle, serve
from overture.calendars.google import GoogleCalendar, event_id, google_app, google_consent_url
from overture.calendars.oauth import OAuthClient, Tokens
from overture.calendars.provider import Attendee, BusyTime, CalendarError, Event, EventRef, RetryLater
from overture.http import HttpClient

DAY = datetime(2026, 5, 4, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    state = FakeGoogle()
    server, thread = serve(state)
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def http(waits: list[float]) -> Iterator[HttpClient]:
    # The fake listens on 127.0.0.1, so the private-address guard is lifted; waits are recorded, not slept.
    with HttpClient(allow_private=True, sleep=waits.append) as client:
        yield client


@pytest.fixture
def oauth(fake: FakeGoogle, http: HttpClient) -> OAuthClient:
    return OAuthClient(google_app(fake.client_id, fake.client_secret, token_url=fake.url + "/token"), http=http)


@pytest.fixture
def stored() -> list[Tokens]:
    return []


@pytest.fixture
def calendar(fake: FakeGoogle, oauth: OAuthClient, http: HttpClient, stored: list[Tokens]) -> GoogleCalendar:
    access, refresh = fake.grant()
    tokens = Tokens(access, refresh, datetime.now(UTC) + timedelta(hours=1))
    return GoogleCalendar(
        tokens, oauth, http=http, api_base=fake.url + "/calendar/v3", meet=True, on_tokens=stored.append
    )


def meeting(uid: str = "meeting-1@overture", hour: int = 15, summary: str = "Acme intro") -> Event:
    zone = ZoneInfo("Europe/Paris")
    start = datetime(2026, 5, 4, hour, 0, tzinfo=zone)
    return Event(
        uid=uid,
        summary=summary,
        start=start,
        end=start + timedelta(minutes=30),
        organizer=Attendee("rep@example.com", "Rep"),
        attendees=(Attendee("lead@customer.com", "Lea Lead"),),
        description="Booked from the pricing page chat.",
    )


# -- busy time -----------------------------------------------------------------------------------------------------


def test_busy_times_come_from_freebusy_clipped_and_merged(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.busy_blocks[fake.owner] = [
        (DAY - timedelta(hours=1), DAY + timedelta(hours=1)),  # starts before the range
        (DAY + timedelta(hours=9), DAY + timedelta(hours=10)),
        (DAY + timedelta(hours=10), DAY + timedelta(hours=11)),  # touches the one before
        (DAY + timedelta(days=2), DAY + timedelta(days=2, hours=1)),  # outside the range
    ]
    busy = calendar.busy(DAY, DAY + timedelta(days=1))
    assert busy == [
        BusyTime(DAY, DAY + timedelta(hours=1)),
        BusyTime(DAY + timedelta(hours=9), DAY + timedelta(hours=11)),
    ]


def test_busy_of_a_calendar_google_does_not_know_is_gone(
    fake: FakeGoogle, oauth: OAuthClient, http: HttpClient
) -> None:
    access, refresh = fake.grant()
    missing = GoogleCalendar(
        Tokens(access, refresh), oauth, http=http, api_base=fake.url + "/calendar/v3", calendar_id="x@example.com"
    )
    with pytest.raises(CalendarError) as error:
        missing.busy(DAY, DAY + timedelta(days=1))
    assert error.value.reason == "gone"
    assert "x@example.com" in str(error.value)


# -- writes --------------------------------------------------------------------------------------------------------


def test_create_invites_the_visitor_with_a_meet_link_and_blocks_the_time(
    fake: FakeGoogle, calendar: GoogleCalendar
) -> None:
    ref = calendar.create_event(meeting())
    assert ref.href == event_id("meeting-1@overture") and ref.etag
    stored = fake.calendar()[ref.href]
    assert stored["summary"] == "Acme intro"
    assert stored["attendees"] == [
        {"email": "lead@customer.com", "displayName": "Lea Lead", "responseStatus": "needsAction"}
    ]
    assert stored["_sendUpdates"] == "all"  # Google emails the visitor the invitation
    assert stored["hangoutLink"].startswith("https://meet.google.com/")
    assert stored["start"] == {"dateTime": "2026-05-04T15:00:00+02:00", "timeZone": "Europe/Paris"}
    assert calendar.busy(DAY, DAY + timedelta(days=1)) == [
        BusyTime(datetime(2026, 5, 4, 13, tzinfo=UTC), datetime(2026, 5, 4, 13, 30, tzinfo=UTC))
    ]


def test_creating_the_same_meeting_twice_writes_one_event(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    calendar.create_event(meeting())
    with pytest.raises(CalendarError) as error:
        calendar.create_event(meeting())
    assert error.value.reason == "changed"
    assert len(fake.calendar()) == 1


def test_update_moves_the_meeting_and_notifies_attendees(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    ref = calendar.create_event(meeting())
    moved = calendar.update_event(ref, meeting(hour=16, summary="Acme intro (moved)"))
    assert moved.href == ref.href and moved.etag != ref.etag
    stored = fake.calendar()[ref.href]
    assert stored["summary"] == "Acme intro (moved)"
    assert stored["start"]["dateTime"] == "2026-05-04T16:00:00+02:00"
    assert stored["sequence"] == 1
    patch = [target for method, target, _ in fake.requests if method == "PATCH"]
    assert parse_qs(urlsplit(patch[0]).query)["sendUpdates"] == ["all"]


def test_update_of_an_event_changed_in_google_is_refused(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    ref = calendar.create_event(meeting())
    fake.calendar()[ref.href]["etag"] = '"edited-in-google"'
    with pytest.raises(CalendarError) as error:
        calendar.update_event(ref, meeting(hour=16))
    assert error.value.reason == "changed"
    assert fake.calendar()[ref.href]["start"]["dateTime"] == "2026-05-04T15:00:00+02:00"


def test_cancel_removes_the_event_and_a_second_cancel_is_fine(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    ref = calendar.create_event(meeting())
    calendar.cancel_event(ref)
    assert fake.calendar() == {}
    assert calendar.busy(DAY, DAY + timedelta(days=1)) == []
    calendar.cancel_event(ref)  # Google answers 410 deleted: already done
    statuses = [method for method, _, _ in fake.requests if method == "DELETE"]
    assert len(statuses) == 2


def test_cancel_of_an_event_changed_in_google_is_refused(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    ref = calendar.create_event(meeting())
    fake.calendar()[ref.href]["etag"] = '"edited-in-google"'
    with pytest.raises(CalendarError) as error:
        calendar.cancel_event(ref)
    assert error.value.reason == "changed"
    assert ref.href in fake.calendar()


# -- tokens --------------------------------------------------------------------------------------------------------


def test_a_rejected_access_token_is_refreshed_once_and_the_call_retried(
    fake: FakeGoogle, calendar: GoogleCalendar, stored: list[Tokens]
) -> None:
    old = calendar.tokens
    fake.expire_tokens()  # Google answers 401 authError to the old access token
    ref = calendar.create_event(meeting())
    assert ref.href in fake.calendar()
    assert fake.token_grants == ["refresh_token"]
    assert len(stored) == 1 and stored[0].access_token != old.access_token
    assert stored[0].refresh_token == old.refresh_token  # Google sends no new refresh token on refresh


def test_an_access_token_past_its_expiry_is_refreshed_before_the_call(
    fake: FakeGoogle, oauth: OAuthClient, http: HttpClient, stored: list[Tokens]
) -> None:
    _, refresh = fake.grant()
    expired = Tokens("ya29.expired", refresh, datetime.now(UTC) - timedelta(minutes=5))
    calendar = GoogleCalendar(expired, oauth, http=http, api_base=fake.url + "/calendar/v3", on_tokens=stored.append)
    assert calendar.busy(DAY, DAY + timedelta(days=1)) == []
    assert [method for method, target, _ in fake.requests if "freeBusy" in target] == ["POST"]  # no 401 first
    assert stored[0].expires_at is not None and stored[0].expires_at > datetime.now(UTC) + timedelta(minutes=50)


def test_a_revoked_refresh_token_asks_the_agent_to_reconnect(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.revoke(calendar.tokens.refresh_token)
    with pytest.raises(CalendarError) as error:
        calendar.busy(DAY, DAY + timedelta(days=1))
    assert error.value.reason == "credentials"
    assert "Token has been expired or revoked" in str(error.value)
    assert "Connect the calendar again" in str(error.value)


def test_connecting_exchanges_the_consent_code_for_tokens(fake: FakeGoogle, oauth: OAuthClient) -> None:
    link = urlsplit(google_consent_url(oauth.app, "https://overture.example/oauth/google", "state-123"))
    query = parse_qs(link.query)
    assert link.netloc == "accounts.google.com"
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["state"] == ["state-123"] and "calendar.events" in query["scope"][0]
    tokens = oauth.exchange_code(fake.authorization_code(), "https://overture.example/oauth/google")
    assert tokens.access_token in fake.access_tokens
    assert tokens.refresh_token in fake.refresh_tokens
    with pytest.raises(CalendarError) as error:
        oauth.exchange_code("4/used-or-made-up", "https://overture.example/oauth/google")
    assert error.value.reason == "credentials"


# -- throttling and failures ---------------------------------------------------------------------------------------


def test_rate_limit_403_says_when_to_try_again(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.fail_next(403, "rateLimitExceeded", retry_after="120")
    with pytest.raises(RetryLater) as error:
        calendar.create_event(meeting())
    assert error.value.reason == "unavailable"
    assert error.value.retry_after == 120
    assert "in 120 seconds" in str(error.value)
    assert fake.calendar() == {}


def test_429_on_a_write_is_not_sent_twice_and_says_when_to_try_again(
    fake: FakeGoogle, calendar: GoogleCalendar
) -> None:
    fake.fail_next(429, "rateLimitExceeded", retry_after="30")
    with pytest.raises(RetryLater) as error:
        calendar.create_event(meeting())
    assert error.value.retry_after == 30
    assert [method for method, target, _ in fake.requests if "/events" in target] == ["POST"]


def test_429_on_a_cancel_is_waited_out_and_retried(
    fake: FakeGoogle, calendar: GoogleCalendar, waits: list[float]
) -> None:
    ref = calendar.create_event(meeting())
    fake.fail_next(429, "rateLimitExceeded", retry_after="2")
    calendar.cancel_event(ref)
    assert waits == [2.0]
    assert fake.calendar() == {}


def test_a_google_backend_error_is_unavailable(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.fail_next(503, "backendError")
    with pytest.raises(CalendarError) as error:
        calendar.busy(DAY, DAY + timedelta(days=1))
    assert error.value.reason == "unavailable"
    assert "503" in str(error.value)


def test_a_403_that_is_not_throttling_is_a_credentials_problem(fake: FakeGoogle, calendar: GoogleCalendar) -> None:
    fake.fail_next(403, "forbiddenForNonOrganizer")
    with pytest.raises(CalendarError) as error:
        calendar.update_event(EventRef("meeting-1@overture", event_id("meeting-1@overture"), None), meeting())
    assert error.value.reason == "credentials"


# -- the fake answers like Google ----------------------------------------------------------------------------------


# google.api_core warns at import, from a date on, that the running Python is near or past its end of life (3.11:
# from 26 July 2027): a date-dependent warning about the machine, not about Overture or the fake.
@pytest.mark.filterwarnings("ignore::FutureWarning:google.api_core._python_version_support")
def test_googles_own_client_library_works_against_the_fake(fake: FakeGoogle) -> None:
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError

    access, refresh = fake.grant()
    fake.expire_tokens()  # google-auth must refresh through the fake's token endpoint after a 401
    credentials = Credentials(
        token=access,
        refresh_token=refresh,
        token_uri=fake.url + "/token",
        client_id=fake.client_id,
        client_secret=fake.client_secret,
    )
    service = build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": fake.url + "/calendar/v3/"},
    )
    body = {
        "id": event_id("library-check"),
        "summary": "Acme intro",
        "start": {"dateTime": "2026-05-04T10:00:00-07:00", "timeZone": "America/Los_Angeles"},
        "end": {"dateTime": "2026-05-04T10:30:00-07:00", "timeZone": "America/Los_Angeles"},
        "attendees": [{"email": "lead@customer.com"}],
        "conferenceData": {"createRequest": {"requestId": "b1f0", "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
    }
    events = service.events()
    created = events.insert(calendarId="primary", body=body, sendUpdates="all", conferenceDataVersion=1).execute()
    assert created["kind"] == "calendar#event" and created["status"] == "confirmed"
    assert created["hangoutLink"].startswith("https://meet.google.com/")
    assert created["attendees"][0]["responseStatus"] == "needsAction"
    assert fake.token_grants == ["refresh_token"]

    busy = (
        service.freebusy()
        .query(
            body={"timeMin": "2026-05-04T00:00:00Z", "timeMax": "2026-05-05T00:00:00Z", "items": [{"id": "primary"}]}
        )
        .execute()
    )
    assert busy["calendars"]["primary"]["busy"] == [{"start": "2026-05-04T17:00:00Z", "end": "2026-05-04T17:30:00Z"}]

    patched = events.patch(
        calendarId="primary", eventId=created["id"], body={"summary": "Acme intro (moved)"}, sendUpdates="all"
    ).execute()
    assert patched["summary"] == "Acme intro (moved)" and patched["etag"] != created["etag"]

    assert events.delete(calendarId="primary", eventId=created["id"], sendUpdates="all").execute() == ""
    with pytest.raises(HttpError) as gone:
        events.delete(calendarId="primary", eventId=created["id"]).execute()
    assert gone.value.status_code == 410
    assert gone.value.error_details[0]["reason"] == "deleted"
    with pytest.raises(HttpError) as empty:
        service.freebusy().query(
            body={"timeMin": "2026-05-05T00:00:00Z", "timeMax": "2026-05-04T00:00:00Z", "items": [{"id": "primary"}]}
        ).execute()
    assert empty.value.status_code == 400
    assert empty.value.error_details[0]["reason"] == "timeRangeEmpty"
    service.close()
