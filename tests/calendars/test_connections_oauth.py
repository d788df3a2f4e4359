"""Connecting Google and Microsoft calendars through their OAuth consent, against the local fakes of Google Calendar
and Microsoft Graph: the signed state, the code traded for tokens, the tokens encrypted at rest, and refreshed
tokens stored at once (encrypted too)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from fakes.google_calendar import FakeGoogle, serve
from fakes.microsoft_graph import FakeGraph, _graph_error, _Handler, _Server
from overture.calendars import connections
from overture.calendars.models import CalendarConnection
from overture.calendars.provider import BusyTime
from overture.calendars.secrets import decrypt
from overture.calendars.world import CalendarWorld
from overture.db import Database
from overture.errors import Forbidden, InvalidInput
from overture.http import HttpClient
from overture.scheduling import agents
from overture.scheduling.models import Agent
from overture.settings import Settings
from overture.users import service as users
from overture.users.models import User

from support import Personas

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
KEY = "oauth-test-secret-key-" + "k" * 24
CALLBACK = "http://testserver/admin/calendar/oauth/{}/callback"


class _GraphWithMe(_Handler):
    """The Graph fake plus `GET /me`, which Overture asks for the signed-in account's mailbox (any account with the
    User.Read permission may read it)."""

    def _graph(self, fake: FakeGraph, path: str, raw: bytes) -> tuple[Any, ...]:
        if path == "/v1.0/me" and self.command == "GET":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if not fake.access_tokens.get(token):
                return _graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed.")
            return 200, {
                "id": "48d31887",
                "displayName": "Rep",
                "mail": fake.mailbox,
                "userPrincipalName": fake.mailbox,
            }
        return super()._graph(fake, path, raw)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    server, thread = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    server = _Server(("127.0.0.1", 0), _GraphWithMe)
    server.fake = FakeGraph(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.fake
    server.shutdown()
    server.server_close()
    thread.join()


def with_apps(settings: Settings, google: FakeGoogle, graph: FakeGraph) -> Settings:
    """The settings of an Overture whose operator registered apps with Google and Microsoft (here: the fakes)."""
    return settings.model_copy(
        update={
            "google_client_id": google.client_id,
            "google_client_secret": SecretStr(google.client_secret),
            "google_oauth_url": google.url + "/o/oauth2/v2/auth",
            "google_token_url": google.url + "/token",
            "google_api_url": google.url + "/calendar/v3",
            "microsoft_client_id": graph.client_id,
            "microsoft_client_secret": SecretStr(graph.client_secret),
            "microsoft_login_url": graph.login_url,
            "microsoft_graph_url": graph.graph_url,
        }
    )


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient(allow_private=True, retries=0) as client:
        yield client


@pytest.fixture
def world(settings: Settings, db: Database, google: FakeGoogle, graph: FakeGraph, http: HttpClient) -> CalendarWorld:
    return CalendarWorld(with_apps(settings, google, graph), db, http, KEY)


def set_up(db: Database, email: str) -> tuple[User, Agent]:
    with db.write() as session:
        user = users.get_user_by_email(session, email)
        return user, agents.ensure_agent(session, user)


def stored(db: Database, agent_id: int) -> CalendarConnection:
    with db.read() as session:
        found = session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))
    assert found is not None
    return found


def raw_secret(db: Database) -> str:
    """The secret column as the database holds it, read without the ORM."""
    with db.engine.connect() as connection:
        return str(connection.execute(text("SELECT secret FROM calendar_connections")).scalar_one())


def consent_query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# --- Google ---------------------------------------------------------------------------------------------------------


def test_an_agent_connects_google_and_the_tokens_are_stored_encrypted(
    db: Database, personas: Personas, world: CalendarWorld, google: FakeGoogle
) -> None:
    bob, agent = set_up(db, personas.bob.email)

    consent = agents.start_oauth(world, bob, agent, "google")
    query = consent_query(consent)
    assert consent.startswith(google.url + "/o/oauth2/v2/auth?")
    assert query["client_id"] == google.client_id and query["redirect_uri"] == CALLBACK.format("google")
    assert query["access_type"] == "offline" and query["prompt"] == "consent"

    done = agents.finish_oauth(world, bob, "google", google.authorization_code(), query["state"], NOW)

    assert done.agent_id == agent.id and done.description == "Google Calendar"
    connection = stored(db, agent.id)
    assert connection.provider == "google" and connection.settings["calendar_id"] == "primary"
    (refresh_token,) = google.refresh_tokens
    secret = decrypt(KEY, raw_secret(db))
    assert secret["refresh_token"] == refresh_token and secret["access_token"] in google.access_tokens
    assert refresh_token not in raw_secret(db) and secret["access_token"] not in raw_secret(db)
    assert google.token_grants == ["authorization_code"]
    with db.read() as session:
        assert agents.listing(session)[0].status == "connected"


def test_a_refreshed_google_token_is_stored_at_once_and_encrypted(
    db: Database, personas: Personas, world: CalendarWorld, google: FakeGoogle
) -> None:
    bob, agent = set_up(db, personas.bob.email)
    state = consent_query(agents.start_oauth(world, bob, agent, "google"))["state"]
    agents.finish_oauth(world, bob, "google", google.authorization_code(), state, NOW)
    first = decrypt(KEY, raw_secret(db))["access_token"]
    google.busy_blocks[google.owner] = [(NOW + timedelta(hours=2), NOW + timedelta(hours=3))]
    google.expire_tokens()  # Google answers 401 to the old access token: the provider refreshes it

    busy = connections.open_calendar(world, stored(db, agent.id)).busy(NOW, NOW + timedelta(days=1))

    assert busy == [BusyTime(NOW + timedelta(hours=2), NOW + timedelta(hours=3))]
    assert google.token_grants == ["authorization_code", "refresh_token"]
    fresh = decrypt(KEY, raw_secret(db))
    assert fresh["access_token"] != first and fresh["access_token"] in google.access_tokens
    assert fresh["access_token"] not in raw_secret(db) and fresh["refresh_token"] not in raw_secret(db)


def test_a_changed_or_foreign_state_and_a_used_code_connect_nothing(
    db: Database, personas: Personas, world: CalendarWorld, google: FakeGoogle
) -> None:
    bob, agent = set_up(db, personas.bob.email)
    with db.read() as session:
        sam = users.get_user(session, personas.sam.id)
    state = consent_query(agents.start_oauth(world, bob, agent, "google"))["state"]
    code = google.authorization_code()

    with pytest.raises(InvalidInput) as changed:
        agents.finish_oauth(world, bob, "google", code, state[:-2] + "xx", NOW)
    with pytest.raises(InvalidInput) as other_provider:
        agents.finish_oauth(world, bob, "microsoft", code, state, NOW)
    with pytest.raises(InvalidInput) as other_user:
        agents.finish_oauth(world, sam, "google", code, state, NOW)  # a link that leaked to someone else
    agents.finish_oauth(world, bob, "google", code, state, NOW)
    with pytest.raises(InvalidInput) as used_twice:
        agents.finish_oauth(world, bob, "google", code, state, NOW)

    assert [e.value.problems[0].path for e in (changed, other_provider, other_user)] == ["state"] * 3
    assert "started by another Overture user" in other_user.value.message
    assert used_twice.value.problems[0].path == "code"
    assert "Malformed auth code" in used_twice.value.message


def test_an_agent_cannot_start_connecting_another_agents_calendar(
    db: Database, personas: Personas, world: CalendarWorld
) -> None:
    bob, _ = set_up(db, personas.bob.email)
    with db.write() as session:
        other = users.create_user(session, "dana@example.com", "agent", "Dana", "correct horse battery")
        dana = agents.ensure_agent(session, other)

    with pytest.raises(Forbidden):
        agents.start_oauth(world, bob, dana, "google")


def test_a_provider_without_an_app_is_not_offered(db: Database, personas: Personas, settings: Settings) -> None:
    bob, agent = set_up(db, personas.bob.email)
    with HttpClient(retries=0) as http:
        plain = CalendarWorld(settings, db, http, KEY)
        with pytest.raises(InvalidInput) as refused:
            agents.start_oauth(plain, bob, agent, "microsoft")
    assert refused.value.problems[0].path == "provider"
    assert "Microsoft Outlook is not set up on this Overture" in refused.value.message


# --- Microsoft ------------------------------------------------------------------------------------------------------


def test_an_agent_connects_outlook_and_its_mailbox_is_kept(
    db: Database, personas: Personas, world: CalendarWorld, graph: FakeGraph, http: HttpClient
) -> None:
    bob, agent = set_up(db, personas.bob.email)
    consent = agents.start_oauth(world, bob, agent, "microsoft")
    assert consent_query(consent)["redirect_uri"] == CALLBACK.format("microsoft")

    # The agent signs in; Microsoft sends the browser back to Overture with a code and the state.
    back = http.request("GET", consent)
    callback = consent_query(back.headers["Location"])
    done = agents.finish_oauth(world, bob, "microsoft", callback["code"], callback["state"], NOW)

    assert done.description == f"Microsoft Outlook ({graph.mailbox})"
    connection = stored(db, agent.id)
    assert connection.settings["email"] == graph.mailbox
    secret = decrypt(KEY, raw_secret(db))
    assert secret["refresh_token"] in graph.refresh_tokens and secret["refresh_token"] not in raw_secret(db)


def test_a_refreshed_outlook_token_replaces_the_old_one_in_the_database(
    db: Database, personas: Personas, world: CalendarWorld, graph: FakeGraph, http: HttpClient
) -> None:
    bob, agent = set_up(db, personas.bob.email)
    callback = consent_query(
        http.request("GET", agents.start_oauth(world, bob, agent, "microsoft")).headers["Location"]
    )
    agents.finish_oauth(world, bob, "microsoft", callback["code"], callback["state"], NOW)
    graph.add_event("Pipeline review", NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    before = decrypt(KEY, raw_secret(db))["refresh_token"]

    # Twice: each refresh makes Microsoft drop the refresh token used, so the second works only if the first
    # refresh's new token was stored.
    for _ in range(2):
        graph.expire_access_tokens()
        busy = connections.open_calendar(world, stored(db, agent.id)).busy(NOW, NOW + timedelta(days=1))
        assert busy == [BusyTime(NOW + timedelta(hours=1), NOW + timedelta(hours=2))]

    after = decrypt(KEY, raw_secret(db))
    assert after["refresh_token"] != before and after["refresh_token"] in graph.refresh_tokens
    assert before not in graph.refresh_tokens
    assert after["refresh_token"] not in raw_secret(db)
