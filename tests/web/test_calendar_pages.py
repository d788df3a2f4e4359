"""The Calendar page: who sees which agent, connecting a calendar (built-in, CalDAV against a real Radicale, Google
through the fake's OAuth), the settings form with its mistakes shown by their fields, and needs attention."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from calendars.conftest import USERS, Radicale, radicale  # noqa: F401 (the Radicale server fixture)
from fakes.google_calendar import FakeGoogle, serve
from overture.calendars.models import CalendarConnection
from overture.db import Database
from overture.scheduling import agents, attention, rotation
from overture.scheduling.models import Agent, Team
from overture.settings import Settings
from overture.users import service as users
from overture.web.app import create_app

from support import PASSWORD, Personas, post_form, sign_in

PAGE = "/admin/calendar"


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    server, thread = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def calendar_client(settings: Settings, db: Database, google: FakeGoogle) -> Iterator[TestClient]:
    """The app of an Overture with a Google app registered (the fake) and calendars on the LAN allowed (Radicale
    and the fake listen on 127.0.0.1)."""
    configured = settings.model_copy(
        update={
            "calendar_private_addresses": True,
            "google_client_id": google.client_id,
            "google_client_secret": SecretStr(google.client_secret),
            "google_oauth_url": google.url + "/o/oauth2/v2/auth",
            "google_token_url": google.url + "/token",
            "google_api_url": google.url + "/calendar/v3",
        }
    )
    app = create_app(configured, start_jobs=False)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client
    app.state.context.calendar_world.http.close()  # the app's lifespan leaves its calendar HTTP client open


def agent_row(db: Database, email: str) -> Agent | None:
    with db.read() as session:
        user = users.get_user_by_email(session, email)
        return agents.agent_of(session, user)


def connection_of(db: Database, agent_id: int) -> CalendarConnection | None:
    with db.read() as session:
        return session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))


def sales_queue(db: Database) -> list[int]:
    with db.read() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        return [] if team is None else [m.agent_id for m in rotation.members(session, team)]


def new_agent(db: Database, email: str = "dana@example.com", name: str = "Dana") -> int:
    with db.write() as session:
        return agents.ensure_agent(session, users.create_user(session, email, "agent", name, PASSWORD)).id


def text_of(page: str) -> str:
    """The page's text, tags removed and entities decoded, spaces joined."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- who sees what ---------------------------------------------------------------------------------------------


def test_an_agent_sees_their_own_calendar_with_every_way_to_connect(
    calendar_client: TestClient, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)

    page = calendar_client.get(PAGE)

    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Your calendar" in shown and "No calendar No calendar is connected: you get no meetings" in shown
    assert "Connect Google Calendar" in shown and "Connect Microsoft Outlook" not in shown  # no Microsoft app
    assert 'action="/admin/calendar/me/caldav"' in page.text and 'action="/admin/calendar/me/builtin"' in page.text
    assert 'name="hours_mon" value="09:00-17:00"' in page.text and 'name="notice_minutes" value="1440"' in page.text


def test_an_unconfigured_provider_is_shown_with_exactly_what_the_admin_must_set(
    calendar_client: TestClient, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)

    page = calendar_client.get(PAGE)

    google, microsoft = (_card(page.text, provider) for provider in ("google", "microsoft"))
    assert 'action="/admin/calendar/me/oauth/google"' in google and "Not set up yet" not in google
    assert "Connect Microsoft Outlook" not in microsoft and "Not set up yet" in microsoft
    assert "http://testserver/admin/calendar/oauth/microsoft/callback" in microsoft
    for variable in ("OVERTURE_MICROSOFT_CLIENT_ID", "OVERTURE_MICROSOFT_CLIENT_SECRET", "OVERTURE_MICROSOFT_TENANT"):
        assert f"<code>{variable}</code>" in microsoft
    assert "docs/meetings.md, section “Microsoft Outlook (Microsoft 365)”" in text_of(microsoft)


def _card(page: str, provider: str) -> str:
    return page.split(f'id="provider-{provider}"', 1)[1].split('<div class="provider"', 1)[0].split("</div>", 1)[0]


def test_an_agent_cannot_open_or_change_another_agents_calendar(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    dana = new_agent(db)
    sign_in(calendar_client, personas.bob)

    assert calendar_client.get(f"{PAGE}/{dana}").status_code == 403
    changed = post_form(calendar_client, f"{PAGE}/{dana}/builtin", {"ics_url": ""}, PAGE)
    assert changed.status_code == 403  # type: ignore[attr-defined]
    assert connection_of(db, dana) is None


def test_a_marketer_cannot_open_the_calendar(calendar_client: TestClient, personas: Personas) -> None:
    sign_in(calendar_client, personas.mark)
    assert calendar_client.get(PAGE).status_code == 403


@pytest.mark.parametrize("manager", ["alice", "sam"])
def test_admins_and_sales_admins_see_every_agent_and_open_any(
    calendar_client: TestClient, db: Database, personas: Personas, manager: str
) -> None:
    dana = new_agent(db)
    sign_in(calendar_client, getattr(personas, manager))

    listing = calendar_client.get(PAGE)
    assert listing.status_code == 200
    shown = text_of(listing.text)
    assert "Dana dana@example.com — No calendar" in shown
    assert "Bob bob@example.com — No calendar Set up" in shown  # bob has no profile yet

    made = post_form(calendar_client, f"{PAGE}/agents", {"user_id": str(personas.bob.id)}, PAGE)
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and made.headers["location"] == f"{PAGE}/{bob.id}"  # type: ignore[attr-defined]

    page = calendar_client.get(f"{PAGE}/{dana}")
    assert page.status_code == 200 and "Calendar of Dana" in text_of(page.text)
    assert f'action="/admin/calendar/{dana}/caldav"' in page.text


# --- settings --------------------------------------------------------------------------------------------------


SETTINGS_FORM = {
    "display_name": "Bob the Rep",
    "photo_url": "",
    "time_zone": "Europe/Paris",
    "hours_mon": "09:00-12:00, 13:00-17:30",
    "hours_tue": "9:00-12:00",
    "hours_wed": "",
    "hours_thu": "",
    "hours_fri": "",
    "hours_sat": "",
    "hours_sun": "",
    "date_overrides": "2026-12-24 off\n2026-12-28 + 18:00-20:00",
    "out_of_office": "2026-08-01 to 2026-08-15",
    "duration_minutes": "45",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "15",
    "notice_minutes": "1440",
    "horizon_days": "21",
    "step_minutes": "15",
    "daily_max": "",
    "weekly_max": "10",
    "meeting_link": "https://meet.example.com/bob",
}


def test_an_agent_saves_their_settings_from_the_form(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)

    saved = post_form(calendar_client, f"{PAGE}/me/settings", SETTINGS_FORM, PAGE)

    assert saved.status_code == 303 and saved.headers["location"] == PAGE  # type: ignore[attr-defined]
    bob = agent_row(db, personas.bob.email)
    assert bob is not None
    assert bob.weekly_hours == {"mon": ["09:00-12:00", "13:00-17:30"], "tue": ["09:00-12:00"]}
    assert bob.date_overrides == [
        {"date": "2026-12-24", "hours": [], "replace": True},
        {"date": "2026-12-28", "hours": ["18:00-20:00"], "replace": False},
    ]
    assert bob.out_of_office == [{"start": "2026-08-01", "end": "2026-08-15"}]
    assert (bob.duration_minutes, bob.buffer_after_minutes, bob.daily_max, bob.weekly_max) == (45, 15, None, 10)
    page = calendar_client.get(PAGE)
    assert "The settings are saved." in page.text
    assert "2026-12-28 + 18:00-20:00" in page.text and 'value="09:00-12:00, 13:00-17:30"' in page.text


def test_bad_settings_show_the_form_again_with_each_mistake_by_its_field(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)
    form = {**SETTINGS_FORM, "time_zone": "Paris", "hours_tue": "9 to 5", "duration_minutes": "2",
            "date_overrides": "2026-12-24 off\n24/12/2026 off"}  # fmt: skip

    answer = post_form(calendar_client, f"{PAGE}/me/settings", form, PAGE)

    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert "The settings are not saved. 4 settings need a fix." in html.unescape(page)
    assert re.search(r'name="time_zone" value="Paris"[^>]*aria-invalid="true"', page)
    assert "&#39;Paris&#39; is not a time zone" in page
    assert "&#39;9 to 5&#39; is not a range of hours such as 09:00-12:00." in page
    assert "Line 2: Write the date as YYYY-MM-DD" in page
    assert "must be a whole number from 5 to 480" in page
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and bob.time_zone == "UTC" and bob.display_name == ""  # nothing half-written


# --- connecting --------------------------------------------------------------------------------------------------


def test_an_agent_uses_the_builtin_calendar_and_joins_the_queue(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)

    connected = post_form(calendar_client, f"{PAGE}/me/builtin", {"ics_url": ""}, PAGE)

    assert connected.status_code == 303  # type: ignore[attr-defined]
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and sales_queue(db) == [bob.id]
    shown = text_of(calendar_client.get(PAGE).text)
    assert "Your calendar is now the Built-in calendar." in shown
    assert "Connected Built-in calendar, connected on" in shown


def test_a_wrong_caldav_password_shows_the_form_again_without_the_password(
    calendar_client: TestClient,
    db: Database,
    personas: Personas,
    radicale: Radicale,  # noqa: F811
) -> None:
    sign_in(calendar_client, personas.bob)
    form = {"url": radicale.url, "username": "alice", "password": "wrong-app-password"}

    answer = post_form(calendar_client, f"{PAGE}/me/caldav", form, PAGE)

    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert "did not accept the username and app password" in page
    assert re.search(r'name="password"[^>]*aria-invalid="true"', page)
    assert f'name="url" value="{radicale.url}"' in page and 'name="username" value="alice"' in page
    assert "wrong-app-password" not in page
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and connection_of(db, bob.id) is None and sales_queue(db) == []


def test_an_agent_connects_a_caldav_calendar(
    calendar_client: TestClient,
    db: Database,
    personas: Personas,
    radicale: Radicale,  # noqa: F811
) -> None:
    radicale.make_calendar("bruno", f"work-{uuid.uuid4().hex[:8]}")
    sign_in(calendar_client, personas.bob)

    answer = post_form(calendar_client, f"{PAGE}/me/caldav",
                       {"url": radicale.url, "username": "bruno", "password": USERS["bruno"]}, PAGE)  # fmt: skip

    assert answer.status_code == 303  # type: ignore[attr-defined]
    shown = text_of(calendar_client.get(PAGE).text)
    assert "Connected CalDAV calendar “Work-" in shown and "of bruno on 127.0.0.1" in shown
    assert USERS["bruno"] not in calendar_client.get(PAGE).text


def test_an_agent_connects_google_through_its_consent_page(
    calendar_client: TestClient, db: Database, personas: Personas, google: FakeGoogle
) -> None:
    sign_in(calendar_client, personas.bob)

    started = post_form(calendar_client, f"{PAGE}/me/oauth/google", {}, PAGE)
    consent = started.headers["location"]  # type: ignore[attr-defined]
    assert consent.startswith(google.url + "/o/oauth2/v2/auth?")
    state = parse_qs(urlsplit(consent).query)["state"][0]
    # Google sends the agent back with a code and the state.
    back = calendar_client.get(f"{PAGE}/oauth/google/callback?" + urlencode({"code": google.authorization_code(),
                                                                             "state": state}))  # fmt: skip

    assert back.status_code == 303 and back.headers["location"] == PAGE
    shown = text_of(calendar_client.get(PAGE).text)
    assert "Connected: Google Calendar." in shown and "Connected Google Calendar, connected on" in shown
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and sales_queue(db) == [bob.id]


def test_a_refused_consent_connects_nothing_and_says_so(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)
    query = urlencode({"error": "access_denied", "error_description": "The user declined."})

    back = calendar_client.get(f"{PAGE}/oauth/google/callback?{query}")

    assert back.status_code == 303
    assert "Google Calendar was not connected: The user declined." in text_of(calendar_client.get(PAGE).text)
    assert agent_row(db, personas.bob.email) is None


def test_a_calendar_that_needs_attention_shows_why_to_the_agent_and_the_admin(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)
    post_form(calendar_client, f"{PAGE}/me/builtin", {"ics_url": ""}, PAGE)
    with db.write() as session:
        bob = agents.agent_of(session, users.get_user(session, personas.bob.id))
        assert bob is not None
        moment = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
        attention.mark(session, bob, "The calendar feed at cal.example.com refused Overture.", moment, "http://x")

    shown = text_of(calendar_client.get(PAGE).text)
    assert "Needs attention since 2026-05-04 09:30 UTC: The calendar feed at cal.example.com refused Overture." in shown
    assert "Routing skips you until it is fixed." in shown

    admin = TestClient(calendar_client.app, follow_redirects=False)
    sign_in(admin, personas.alice)
    listing = text_of(admin.get(PAGE).text)
    assert "Needs attention The calendar feed at cal.example.com refused Overture." in listing


def test_an_agent_disconnects_and_then_needs_attention(
    calendar_client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(calendar_client, personas.bob)
    post_form(calendar_client, f"{PAGE}/me/builtin", {"ics_url": ""}, PAGE)

    gone = post_form(calendar_client, f"{PAGE}/me/disconnect", {}, PAGE)

    assert gone.status_code == 303  # type: ignore[attr-defined]
    shown = text_of(calendar_client.get(PAGE).text)
    assert "Built-in calendar is disconnected" in shown
    assert "Needs attention" in shown and "Built-in calendar was disconnected by you." in shown
    bob = agent_row(db, personas.bob.email)
    assert bob is not None and connection_of(db, bob.id) is None
