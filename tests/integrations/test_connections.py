"""Connecting Marketo through the service against the fake Marketo: what passed the check is stored (the client
secret sealed: the raw secret is nowhere in the database), a failed check stores nothing and says exactly what
failed, "Test connection" records its result, disconnecting forgets the secret and stops the jobs' client, and the
mapping is edited and extended with a custom field in one step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from integrations.connect_support import SECRET, closed_port_url, form, running_marketo, world
from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.integrations import service
from overture.integrations.marketo.client import MarketoClient
from overture.integrations.models import IntegrationConnection
from overture.people import custom_fields
from overture.settings import Settings

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)


def connect(db: Database, settings: Settings, given: dict[str, str]) -> IntegrationConnection:
    with world(settings) as here:
        account = service.check_account(here, "marketo", given)
    with db.write() as session:
        row = service.connect(session, account, by="alice@example.com", now=NOW, secret_key=here.secret_key)
        session.expunge(row)
        return row


def rows(db: Database) -> list[IntegrationConnection]:
    with db.read() as session:
        return list(session.query(IntegrationConnection))


def failure_of(db: Database, settings: Settings, given: dict[str, str]) -> InvalidInput:
    with world(settings) as here, pytest.raises(InvalidInput) as refused:
        service.check_account(here, "marketo", given)
    assert rows(db) == [], "a failed check stores nothing"
    return refused.value


def test_connecting_stores_the_settings_and_a_sealed_secret(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        row = connect(db, settings, form(fake))
        url = fake.url
    assert row.status == "connected" and row.connected_by == "alice@example.com" and row.connected_at == NOW
    assert row.settings == {"base_url": url, "munchkin_id": "", "client_id": "overture"}
    assert row.secret is not None and SECRET not in row.secret
    assert row.check_ok is True and "29 lead fields and 14 company fields" in (row.check_message or "")
    assert row.mapping["lead"]["email"] == "person.email"


def test_the_raw_secret_appears_nowhere_in_the_database(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
    if db.engine.dialect.name == "sqlite":
        path = Path(make_url(str(db.engine.url)).database or "")
        with db.engine.begin() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert SECRET.encode() not in stored
    else:
        with db.engine.connect() as connection:
            dumped = connection.execute(text("SELECT CAST(row_to_json(c) AS text) FROM integration_connections c"))
            assert all(SECRET not in line for (line,) in dumped)


def test_wrong_credentials_store_nothing_and_say_marketo_refused_them(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        refused = failure_of(db, settings, form(fake, client_secret="wrong"))
    assert [p.path for p in refused.problems] == ["client_secret"]
    assert refused.message.startswith("Marketo is not connected. Marketo refused the client id and client secret")


def test_an_api_user_without_permission_is_named_on_the_client_id(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        fake.fail_next("603", path="describe2")
        refused = failure_of(db, settings, form(fake))
    assert [p.path for p in refused.problems] == ["client_id"]
    assert "the API user's role lacks a permission" in refused.message


def test_a_server_that_is_not_marketo_is_a_wrong_instance(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        refused = failure_of(db, settings, form(fake, base_url=fake.url + "/rest/v1"))
    assert [p.path for p in refused.problems] == ["base_url"]
    assert "is not a Marketo REST base URL" in refused.message


def test_an_address_nothing_answers_is_a_network_failure(db: Database, settings: Settings) -> None:
    url = closed_port_url()
    with running_marketo() as fake:
        refused = failure_of(db, settings, form(fake, base_url=url))
    assert [p.path for p in refused.problems] == ["base_url"]
    assert "Overture could not reach Marketo at 127.0.0.1" in refused.message


def test_a_malformed_munchkin_id_is_refused_before_any_call(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        refused = failure_of(db, settings, form(fake, base_url="", munchkin_id="12-AB-3"))
        assert fake.calls == []
    assert [p.path for p in refused.problems] == ["munchkin_id"]
    assert "is not a Munchkin id" in refused.message


def test_a_private_address_is_refused_unless_the_setting_allows_it(db: Database, settings: Settings) -> None:
    from overture.integrations.world import integration_world

    with running_marketo() as fake:
        here = integration_world(settings, "k" * 40)
        try:
            with pytest.raises(InvalidInput) as refused:
                service.check_account(here, "marketo", form(fake))
        finally:
            here.close()
    assert refused.value.problems[0].path == "base_url"
    assert "private" in refused.value.message


def test_testing_again_records_what_failed_and_then_what_works(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
        with world(settings) as here:
            with db.read() as session:
                found = service.stored(session, "marketo", here.secret_key)
            assert found is not None and found.secret == {"client_secret": SECRET}
            fake.client_secret = "rotated-in-marketo"
            failed = service.check_again(here, "marketo", found)
            with db.write() as session:
                service.record_check(session, "marketo", failed, LATER)
    [row] = rows(db)
    assert failed.failure == "BadCredentials"
    assert row.check_ok is False and row.checked_at == LATER
    assert (row.check_message or "").startswith("Marketo refused the client id and client secret")


def test_disconnecting_forgets_the_secret_and_the_jobs_get_no_client(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
        with world(settings) as here:
            with db.read() as session:
                assert isinstance(service.connected_client(session, here, "marketo"), MarketoClient)
            with db.write() as session:
                service.disconnect(session, "marketo", by="alice@example.com", now=LATER)
            with db.read() as session:
                assert service.connected_client(session, here, "marketo") is None
    [row] = rows(db)
    assert row.status == "disconnected" and row.secret is None and row.disconnected_at == LATER
    assert row.mapping["lead"]["email"] == "person.email", "the mapping is kept for the next connect"


def test_disconnecting_what_is_not_connected_is_refused(db: Database) -> None:
    with db.write() as session, pytest.raises(Conflict, match="Marketo is not connected"):
        service.disconnect(session, "marketo", by="alice@example.com", now=NOW)


def test_a_secret_sealed_under_another_key_asks_to_connect_again(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
    with db.read() as session, pytest.raises(Conflict, match="secret key changed"):
        service.stored(session, "marketo", "another-secret-key-" + "y" * 30)


def test_a_wrong_row_of_the_mapping_is_refused_and_nothing_changes(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        service.set_mapping(session, "marketo", {"lead": {"createdAt": "person.consent"}})
    assert refused.value.problems[0].path == "lead.createdAt"
    assert "a Marketo datetime cannot map to person.consent, a boolean field" in refused.value.message


def test_an_unmapped_field_becomes_a_custom_field_in_one_step(db: Database, settings: Settings) -> None:
    with running_marketo() as fake:
        connect(db, settings, form(fake))
    with db.write() as session:
        spec = service.make_custom_field(session, "marketo", "lead", "webinarAttendee", LATER)
    with db.read() as session:
        made = custom_fields.find(session, "person.webinar_attendee")
        row = service.connected(session, "marketo")
    assert (spec.name, spec.type.value) == ("person.webinar_attendee", "boolean")
    assert made is not None and made.label == "Webinar Attendee"
    assert row.mapping["lead"]["webinarAttendee"] == "person.webinar_attendee"
