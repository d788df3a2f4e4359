"""Connecting an agent's calendar against real parts: a Radicale CalDAV server (right and wrong app password), the
database (secrets encrypted at rest, the routing queue, needs attention), and the provider a connection opens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from overture.calendars import connections
from overture.calendars.caldav import caldav_account
from overture.calendars.models import BusyCache, CalendarConnection
from overture.calendars.provider import BusyTime, CalendarError
from overture.calendars.secrets import decrypt, encrypt, fernet_key, reseal
from overture.calendars.world import CalendarWorld
from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.http import HttpClient
from overture.mail.models import OutboxMessage
from overture.scheduling import agents, rotation
from overture.scheduling.models import Agent, Team, TeamMember
from overture.settings import Settings
from overture.users import service as users

from .conftest import USERS, Radicale
from support import PASSWORD, Personas

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
KEY = "calendar-test-secret-key-" + "k" * 24

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Calendar app//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260301T000000Z
DTSTART:20260504T130000Z
DTEND:20260504T140000Z
SUMMARY:Customer call
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def world(settings: Settings, db: Database) -> Iterator[CalendarWorld]:
    # Radicale listens on 127.0.0.1: the operator allowed private addresses (a server on the LAN).
    with HttpClient(allow_private=True, retries=0) as http:
        yield CalendarWorld(settings, db, http, KEY)


def agent_id_of(db: Database, email: str) -> int:
    with db.write() as session:
        return agents.ensure_agent(session, users.get_user_by_email(session, email)).id


def connect(db: Database, agent_id: int, account: connections.Account, now: datetime = NOW) -> None:
    with db.write() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        agents.connect(session, agent, account, secret_key=KEY, now=now)


def stored(db: Database, agent_id: int) -> CalendarConnection | None:
    with db.read() as session:
        return session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))


def queue(db: Database) -> list[int]:
    with db.read() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        return [] if team is None else [member.agent_id for member in rotation.members(session, team)]


# --- secrets ------------------------------------------------------------------------------------------------------


def test_a_sealed_secret_opens_with_its_key_only_and_shows_nothing_in_clear() -> None:
    token = encrypt(KEY, {"password": "hunter2-app-password"})

    assert "hunter2" not in token
    assert decrypt(KEY, token) == {"password": "hunter2-app-password"}
    with pytest.raises(CalendarError) as wrong_key:
        decrypt("another-key", token)
    assert wrong_key.value.reason == "credentials"
    assert "Connect the calendar again" in wrong_key.value.message
    # The key is derived, not the secret key itself, so it differs for each secret key.
    assert fernet_key(KEY) != fernet_key("another-key") and KEY.encode() not in fernet_key(KEY)


def test_a_rotated_key_still_reads_old_secrets_and_reseals_them() -> None:
    old = encrypt("old-key", {"refresh_token": "1//abc"})

    assert decrypt("new-key", old, previous_keys=["old-key"]) == {"refresh_token": "1//abc"}
    resealed = reseal("new-key", old, ["old-key"])
    assert decrypt("new-key", resealed) == {"refresh_token": "1//abc"}
    with pytest.raises(CalendarError):
        decrypt("old-key", resealed)


# --- CalDAV against Radicale --------------------------------------------------------------------------------------


def test_a_caldav_account_with_the_right_app_password_is_connected(
    db: Database, personas: Personas, world: CalendarWorld, radicale: Radicale
) -> None:
    # The calendar's own address: the server is shared by the session's tests, whose calendars alice also owns.
    created = radicale.make_calendar("alice", f"work-{uuid.uuid4().hex[:8]}")
    bob = agent_id_of(db, personas.bob.email)

    account = caldav_account(world, created, "alice", USERS["alice"], NOW)
    connect(db, bob, account)

    connection = stored(db, bob)
    assert connection is not None and connection.provider == "caldav"
    assert connection.settings["username"] == "alice" and connection.settings["url"] == created
    assert connection.settings["calendar_url"] == created
    # The app password is stored, but never in clear.
    assert connection.secret is not None and USERS["alice"] not in connection.secret
    assert decrypt(KEY, connection.secret) == {"password": USERS["alice"]}
    assert connections.describe(connection).startswith("CalDAV calendar “")
    assert queue(db) == [bob]

    # The stored connection opens the calendar: an event put there by a calendar app is busy time.
    calendar_url = connection.settings["calendar_url"]
    assert radicale.put(calendar_url + "call.ics", EVENT.format(uid=uuid.uuid4().hex)).status_code == 201
    busy = connections.open_calendar(world, connection).busy(NOW, NOW + timedelta(days=1))
    assert busy == [BusyTime(datetime(2026, 5, 4, 13, tzinfo=UTC), datetime(2026, 5, 4, 14, tzinfo=UTC))]


def test_a_wrong_app_password_is_a_clear_error_and_nothing_is_stored(
    db: Database, personas: Personas, world: CalendarWorld, radicale: Radicale
) -> None:
    bob = agent_id_of(db, personas.bob.email)

    with pytest.raises(InvalidInput) as refused:
        caldav_account(world, radicale.url, "alice", "not-the-password", NOW)

    assert [problem.path for problem in refused.value.problems] == ["password"]
    assert "did not accept the username and app password" in refused.value.message
    assert stored(db, bob) is None and queue(db) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/", "could not reach the calendar server"),
        ("caldav.example.com", "Enter the full address, starting with https:// or http://"),
    ],
)
def test_a_wrong_server_address_is_a_clear_error_on_the_url(world: CalendarWorld, url: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        caldav_account(world, url, "alice", USERS["alice"], NOW)

    assert [problem.path for problem in refused.value.problems] == ["url"]
    assert words in refused.value.problems[0].message


def test_a_caldav_server_on_a_private_address_is_refused_unless_the_operator_allows_it(
    settings: Settings, db: Database, radicale: Radicale
) -> None:
    with HttpClient(retries=0) as guarded:
        world = CalendarWorld(settings, db, guarded, KEY)
        with pytest.raises(InvalidInput) as refused:
            caldav_account(world, radicale.url, "alice", USERS["alice"], NOW)
    assert refused.value.problems[0].path == "url"
    assert "private or local address" in refused.value.problems[0].message


def test_empty_fields_are_named_before_anything_is_sent(world: CalendarWorld) -> None:
    with pytest.raises(InvalidInput) as no_user:
        caldav_account(world, "https://caldav.example.com/", " ", "secret")
    with pytest.raises(InvalidInput) as no_password:
        caldav_account(world, "https://caldav.example.com/", "alice", "")
    assert no_user.value.problems[0].path == "username" and "user name" in no_user.value.problems[0].message
    assert no_password.value.problems[0].path == "password"


# --- the routing queue and needs attention ------------------------------------------------------------------------


def test_connecting_puts_the_agent_at_the_end_of_the_sales_queue_once(db: Database, personas: Personas) -> None:
    with db.write() as session:
        team = rotation.create_team(session, "sales", "Sales")
        first = users.create_user(session, "first@example.com", "agent", "First", PASSWORD)
        rotation.add_member(session, team, rotation.create_agent(session, first))
    before = queue(db)
    bob = agent_id_of(db, personas.bob.email)

    connect(db, bob, connections.Account("builtin", {}))
    connect(db, bob, connections.Account("builtin", {}))  # connecting again keeps the place

    assert queue(db) == [*before, bob]
    with db.read() as session:
        assert session.scalar(select(TeamMember.position).where(TeamMember.agent_id == bob)) == 1


def test_disconnecting_removes_the_secret_and_needs_attention_until_connected_again(
    db: Database, personas: Personas
) -> None:
    bob = agent_id_of(db, personas.bob.email)
    connect(db, bob, connections.Account("caldav", {"url": "https://dav.example.com/", "username": "bob"},
                                         {"password": "app-pw"}))  # fmt: skip
    with db.write() as session:
        session.add(BusyCache(agent_id=bob, range_start=NOW, range_end=NOW, fetched_at=NOW, intervals=[]))

    with db.write() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        admin = users.get_user(session, personas.alice.id)
        agents.disconnect(session, agent, by=admin, now=NOW, base_url="https://chat.example.com")
        with pytest.raises(Conflict):
            agents.disconnect(session, agent, by=admin, now=NOW, base_url="https://chat.example.com")

    assert stored(db, bob) is None
    with db.read() as session:
        agent = session.get(Agent, bob)
        assert agent is not None and agent.attention is not None
        assert "was disconnected by Alice" in agent.attention and agent.attention_since == NOW
        assert session.scalars(select(BusyCache)).all() == []
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "calendar_attention")).all()
        assert [message.to for message in mail] == [[personas.bob.email]]
    assert queue(db) == [bob]  # the agent keeps their place; routing skips them while they need attention

    connect(db, bob, connections.Account("builtin", {}))
    with db.read() as session:
        agent = session.get(Agent, bob)
        assert agent is not None and agent.attention is None and agent.attention_since is None


def test_the_connection_keeps_the_agents_zone_and_video_choice_in_step(db: Database, personas: Personas) -> None:
    bob = agent_id_of(db, personas.bob.email)
    connect(db, bob, connections.Account("builtin", {}))
    assert (stored(db, bob) or CalendarConnection()).settings == {"zone": "UTC", "online_meeting": True}

    with db.write() as session:
        agent = session.get(Agent, bob)
        assert agent is not None
        changed = agents.changed_settings(
            agent, {"time_zone": "Europe/Paris", "meeting_link": "https://meet.example.com/bob"}
        )
        agents.update_settings(session, agent, changed)

    assert (stored(db, bob) or CalendarConnection()).settings == {"zone": "Europe/Paris", "online_meeting": False}


# --- opening a stored connection ----------------------------------------------------------------------------------


def test_a_secret_sealed_under_another_key_asks_the_agent_to_connect_again(world: CalendarWorld) -> None:
    connection = CalendarConnection(
        id=1, agent_id=1, provider="caldav", settings={"url": "https://dav.example.com/", "username": "bob"},
        secret=encrypt("a-key-this-instance-no-longer-has", {"password": "pw"}),
    )  # fmt: skip

    with pytest.raises(CalendarError) as unreadable:
        connections.open_calendar(world, connection)

    assert unreadable.value.reason == "credentials"


def test_an_unknown_provider_or_a_removed_app_cannot_be_opened(world: CalendarWorld) -> None:
    unknown = CalendarConnection(id=1, agent_id=1, provider="exchange2003", settings={}, secret=None)
    google = CalendarConnection(id=2, agent_id=2, provider="google", settings={},
                                secret=encrypt(KEY, {"access_token": "a", "refresh_token": "r"}))  # fmt: skip

    with pytest.raises(CalendarError) as gone:
        connections.open_calendar(world, unknown)
    with pytest.raises(CalendarError) as removed:
        connections.open_calendar(world, google)  # the settings have no Google client id

    assert gone.value.reason == "gone"
    assert removed.value.reason == "credentials" and "no longer set up" in removed.value.message


def test_only_providers_with_an_app_are_offered(settings: Settings) -> None:
    assert connections.offered(settings) == ("builtin", "caldav")
    with_google = settings.model_copy(update={"google_client_id": "id.apps.googleusercontent.com"})
    assert connections.offered(with_google) == ("builtin", "caldav", "google")
