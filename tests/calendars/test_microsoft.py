"""The Microsoft Outlook (Graph) provider against a local fake of Graph and the Microsoft identity platform."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from fakes.microsoft_graph import FakeGraph, running_fake_graph
from overture.calendars.microsoft import MicrosoftApp, MicrosoftCalendar, MicrosoftTokens
from overture.calendars.provider import Attendee, BusyTime, CalendarError, CalendarProvider, Event, RetryLater
from overture.http import HttpClient

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 5, 4, tzinfo=UTC)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with running_fake_graph() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[HttpClient]:
    # The fake listens on 127.0.0.1: lift the private-address guard, as tests do.
    with HttpClient(allow_private=True, retries=0) as client:
        yield client


def app_for(graph: FakeGraph) -> MicrosoftApp:
    return MicrosoftApp(
        graph.client_id, graph.client_secret, "https://overture.example/calendar/microsoft", login_url=graph.login_url
    )


def calendar_for(graph: FakeGraph, http: HttpClient, **options: object) -> MicrosoftCalendar:
    access, refresh = graph.grant()
    return MicrosoftCalendar(
        graph.mailbox,
        MicrosoftTokens(access, refresh),
        app=app_for(graph),
        http=http,
        graph_url=graph.graph_url,
        **options,  # type: ignore[arg-type]
    )


def meeting(start: datetime | None = None, summary: str = "Acme intro") -> Event:
    start = start or datetime(2026, 5, 4, 10, 0, tzinfo=PARIS)
    return Event(
        uid="meeting-1@overture",
        summary=summary,
        start=start,
        end=start + timedelta(minutes=30),
        organizer=Attendee("rep@contoso.example", "Rep"),
        attendees=(Attendee("lee@customer.example", "Lee Lead"),),
        description="Booked via chat",
    )


# -- Connecting ------------------------------------------------------------------------------------------------


def test_agent_connects_outlook_with_the_authorization_code_once(graph: FakeGraph, http: HttpClient) -> None:
    app = app_for(graph)
    consent = http.request("GET", app.authorize_url(state="s-42"))
    callback = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert callback["state"] == ["s-42"]

    tokens = app.exchange_code(http, callback["code"][0])

    assert tokens.access_token in graph.access_tokens and tokens.refresh_token in graph.refresh_tokens
    assert tokens.expires_at is not None and tokens.expires_at > datetime.now(UTC)
    with pytest.raises(CalendarError) as used_twice:
        app.exchange_code(http, callback["code"][0])
    assert used_twice.value.reason == "credentials"
    assert "Connect the Outlook calendar again" in used_twice.value.message


def test_calendar_provider_protocol_is_implemented(graph: FakeGraph, http: HttpClient) -> None:
    provider: CalendarProvider = calendar_for(graph, http)
    assert provider.busy(MONDAY, MONDAY + timedelta(days=1)) == []


# -- Busy time -------------------------------------------------------------------------------------------------


def test_busy_time_reads_statuses_from_the_schedule_in_utc(graph: FakeGraph, http: HttpClient) -> None:
    at = MONDAY.replace(hour=9)
    graph.add_event("Standup", at, at + timedelta(minutes=30), "Busy")
    graph.add_event("Lunch maybe", at.replace(hour=12), at.replace(hour=13), "tentative")
    graph.add_event("Focus (shown free)", at.replace(hour=14), at.replace(hour=15), "free")
    graph.add_event("Dentist", at.replace(hour=15), at.replace(hour=16), "oof")
    graph.add_event("At the Paris office", at.replace(hour=16), at.replace(hour=17), "workingElsewhere")
    graph.add_event("Next week", at + timedelta(days=7), at + timedelta(days=7, hours=1))

    busy = calendar_for(graph, http).busy(MONDAY, MONDAY + timedelta(days=1))

    assert busy == [
        BusyTime(at, at + timedelta(minutes=30)),
        BusyTime(at.replace(hour=12), at.replace(hour=13), tentative=True),
        BusyTime(at.replace(hour=15), at.replace(hour=17)),
    ]
    method, path, headers = graph.requests[-1]
    assert (method, path) == ("POST", "/v1.0/me/calendar/getSchedule")
    assert headers["Prefer"] == 'outlook.timezone="UTC"'


def test_busy_time_is_clipped_to_the_range_asked(graph: FakeGraph, http: HttpClient) -> None:
    graph.add_event("Late call", MONDAY - timedelta(hours=1), MONDAY + timedelta(hours=1))
    busy = calendar_for(graph, http).busy(MONDAY.astimezone(PARIS), MONDAY + timedelta(days=1))
    assert busy == [BusyTime(MONDAY, MONDAY + timedelta(hours=1))]


def test_busy_time_over_more_than_62_days_is_read_in_several_windows(graph: FakeGraph, http: HttpClient) -> None:
    late = MONDAY + timedelta(days=80)
    graph.add_event("Offsite", late, late + timedelta(hours=2))
    busy = calendar_for(graph, http).busy(MONDAY, MONDAY + timedelta(days=90))
    assert busy == [BusyTime(late, late + timedelta(hours=2))]
    assert sum(1 for _, path, _ in graph.requests if path.endswith("getSchedule")) == 2


def test_a_mailbox_outlook_does_not_know_is_gone(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    calendar.mailbox = "left@contoso.example"
    with pytest.raises(CalendarError) as failure:
        calendar.busy(MONDAY, MONDAY + timedelta(days=1))
    assert failure.value.reason == "gone"
    assert "ErrorMailRecipientNotFound" in failure.value.message


# -- Writes ----------------------------------------------------------------------------------------------------


def test_create_event_invites_the_visitor_and_blocks_the_time(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    ref = calendar.create_event(meeting())

    stored = graph.events[ref.href]
    assert stored["subject"] == "Acme intro"
    assert stored["attendees"][0]["emailAddress"] == {"address": "lee@customer.example", "name": "Lee Lead"}
    assert stored["attendees"][0]["type"] == "required"
    assert stored["start"] == {"dateTime": "2026-05-04T08:00:00", "timeZone": "UTC"}
    assert ref.etag == stored["@odata.etag"] and ref.uid == "meeting-1@overture"
    assert "onlineMeeting" not in stored and calendar.online_meeting_url(ref) is None
    at = MONDAY.replace(hour=8)
    assert calendar.busy(MONDAY, MONDAY + timedelta(days=1)) == [BusyTime(at, at + timedelta(minutes=30))]


def test_create_event_with_teams_gets_a_join_link(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http, teams=True)
    ref = calendar.create_event(meeting())
    assert graph.events[ref.href]["onlineMeetingProvider"] == "teamsForBusiness"
    link = calendar.online_meeting_url(ref)
    assert link is not None and link.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert ref.join_url == link, "the link comes back with the written event, for the invitation"


def test_create_sent_twice_makes_one_event(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    first = calendar.create_event(meeting())
    again = calendar.create_event(meeting())
    assert again.href == first.href and len(graph.events) == 1


def test_update_event_moves_it_and_refuses_a_stale_version(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    ref = calendar.create_event(meeting())
    later = datetime(2026, 5, 4, 15, 0, tzinfo=PARIS)

    moved = calendar.update_event(ref, meeting(later, "Acme intro (moved)"))

    stored = graph.events[ref.href]
    assert stored["start"]["dateTime"] == "2026-05-04T13:00:00" and stored["subject"] == "Acme intro (moved)"
    assert moved.href == ref.href and moved.etag != ref.etag
    with pytest.raises(CalendarError) as stale:
        calendar.update_event(ref, meeting(later + timedelta(hours=1)))
    assert stale.value.reason == "changed"
    assert graph.events[ref.href]["start"]["dateTime"] == "2026-05-04T13:00:00"


def test_cancel_event_frees_the_time_and_a_second_cancel_is_fine(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    ref = calendar.create_event(meeting())

    calendar.cancel_event(ref)
    calendar.cancel_event(ref)

    assert graph.events[ref.href]["isCancelled"] is True
    assert calendar.busy(MONDAY, MONDAY + timedelta(days=1)) == []
    assert ("POST", f"/v1.0/me/events/{ref.href}/cancel") in [(m, p) for m, p, _ in graph.requests]


# -- Tokens ----------------------------------------------------------------------------------------------------


def test_expired_access_token_is_refreshed_once_and_the_new_tokens_are_kept(graph: FakeGraph, http: HttpClient) -> None:
    stored: list[MicrosoftTokens] = []
    calendar = calendar_for(graph, http, on_tokens=stored.append)
    old_refresh = calendar.tokens.refresh_token
    graph.expire_access_tokens()

    calendar.create_event(meeting())

    assert len(graph.events) == 1
    assert len(stored) == 1 and stored[0] == calendar.tokens
    assert stored[0].refresh_token != old_refresh and old_refresh not in graph.refresh_tokens
    graph.expire_access_tokens()  # the new refresh token works the next time too
    assert calendar.busy(MONDAY, MONDAY + timedelta(days=1)) != [] and len(stored) == 2


def test_a_token_refused_after_refresh_asks_to_reconnect(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    calendar.tokens = MicrosoftTokens("not-a-token", calendar.tokens.refresh_token)
    graph.access_tokens.clear()
    # Refresh works, but the fake forgets each new access token at once: still 401 after the one retry.
    graph.grant = lambda: ("forgotten", "AwAB.forgotten")  # type: ignore[method-assign]
    graph.refresh_tokens.add("AwAB.forgotten")
    with pytest.raises(CalendarError) as failure:
        calendar.busy(MONDAY, MONDAY + timedelta(days=1))
    assert failure.value.reason == "credentials"
    assert [p for _, p, _ in graph.requests].count("/v1.0/me/calendar/getSchedule") == 2


def test_revoked_refresh_token_asks_the_agent_to_reconnect(graph: FakeGraph, http: HttpClient) -> None:
    calendar = calendar_for(graph, http)
    graph.expire_access_tokens()
    graph.revoke_refresh_tokens()
    with pytest.raises(CalendarError) as failure:
        calendar.create_event(meeting())
    assert failure.value.reason == "credentials"
    assert "invalid_grant" in failure.value.message and "Calendar page" in failure.value.message
    assert graph.events == {}


# -- Throttling ------------------------------------------------------------------------------------------------


def test_throttling_is_unavailable_with_the_retry_after_and_no_retry_at_once(
    graph: FakeGraph, http: HttpClient
) -> None:
    calendar = calendar_for(graph, http)
    graph.throttle_after = 1
    calendar.busy(MONDAY, MONDAY + timedelta(days=1))

    with pytest.raises(RetryLater) as throttled:
        calendar.create_event(meeting())

    assert throttled.value.reason == "unavailable" and throttled.value.retry_after == 7.0
    assert graph.events == {} and graph.graph_calls == 2
    graph.new_window()
    calendar.create_event(meeting())
    assert len(graph.events) == 1


@pytest.mark.parametrize("status", [503, 504])
def test_service_unavailable_is_unavailable_with_the_retry_after(
    graph: FakeGraph, http: HttpClient, status: int
) -> None:
    calendar = calendar_for(graph, http)
    graph.fail_next = [status]
    graph.retry_after = None
    with pytest.raises(RetryLater) as failure:
        calendar.busy(MONDAY, MONDAY + timedelta(days=1))
    assert failure.value.reason == "unavailable" and failure.value.retry_after is None
    assert str(status) in failure.value.message
