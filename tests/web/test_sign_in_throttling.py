"""Sign-in throttling as an attacker meets it: forged X-Forwarded-For headers, many addresses against one account,
concurrent failures; and its bounds: the right password waits too, an account waits at most five minutes."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from overture.client_addresses import throttle_key
from overture.db import Database, utcnow
from overture.settings import Settings
from overture.users.models import LoginThrottle
from overture.web.app import create_app
from processes import free_port, running
from racing import waiting_on_locks

from support import PASSWORD, Personas, csrf_from


@pytest.fixture(autouse=True)
def _app_running(client: TestClient) -> None:
    """The app's lifespan runs around each test, so the browsers made here leave no database connection open."""


def from_address(app: FastAPI, address: str) -> TestClient:
    """A browser whose connection comes from `address`."""
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def attempt(client: TestClient, email: str, password: str, forwarded: str | None = None) -> httpx2.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    data = {"email": email, "password": password, "csrf_token": csrf_from(client)}
    return client.post("/admin/login", data=data, headers=headers)


def counted(db: Database) -> dict[tuple[str, str], int]:
    with db.read() as session:
        return {(row.kind, row.key): row.failures for row in session.scalars(select(LoginThrottle))}


def test_a_forged_forwarded_header_from_a_direct_client_is_ignored_by_the_server(
    tmp_path: Path, database_url: str, db: Database
) -> None:
    # The real server, default settings: the attacker connects from 127.0.0.1, which no proxy setting names.
    (tmp_path / "data").mkdir(exist_ok=True)
    env = {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")}
    port = free_port()
    with (
        running(["serve", "--port", str(port)], env, port),
        httpx2.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as attacker,
    ):
        for n in range(1, 6):
            token = csrf_from(attacker)  # type: ignore[arg-type]
            data = {"email": f"nobody{n}@example.com", "password": "guess", "csrf_token": token}
            forged = {"X-Forwarded-For": f"198.51.100.{n}"}
            assert attacker.post("/admin/login", data=data, headers=forged).status_code == 401
    addresses = {key: failures for (kind, key), failures in counted(db).items() if kind == "address"}
    own = throttle_key("127.0.0.1", False, (tmp_path / "data" / "secret_key").read_text().strip())
    assert addresses == {own: 5}, "every failure counted under the connection's own address"


def test_behind_a_trusted_proxy_the_address_it_forwarded_is_counted(
    settings: Settings, db: Database, personas: Personas
) -> None:
    settings.forwarded_allow_ips = "10.0.0.2"
    with (
        from_address(create_app(settings, start_jobs=False), "10.0.0.2") as proxy,
        time_machine.travel(utcnow(), tick=False),
    ):
        for n in range(5):
            # The client sends its own made-up entry first; the proxy appends the address it really saw.
            forwarded = f"203.0.113.{n}, 192.0.2.1"
            assert attempt(proxy, f"nobody{n}@example.com", "guess", forwarded).status_code == 401
        assert attempt(proxy, personas.alice.email, PASSWORD, "192.0.2.1").status_code == 429
        assert attempt(proxy, personas.alice.email, PASSWORD, "192.0.2.2").status_code == 303, "another visitor"


def test_a_forged_header_from_an_untrusted_peer_is_ignored_by_the_app(app: FastAPI, personas: Personas) -> None:
    attacker = from_address(app, "198.51.100.7")
    with time_machine.travel(utcnow(), tick=False):
        for n in range(5):
            assert attempt(attacker, f"nobody{n}@example.com", "guess", f"192.0.2.{n}").status_code == 401
        assert attempt(attacker, personas.alice.email, PASSWORD, "192.0.2.99").status_code == 429


def test_many_addresses_against_one_account_are_slowed_down_and_the_owner_waits_too(
    app: FastAPI, personas: Personas
) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(5):
            assert attempt(from_address(app, f"198.51.100.{n}"), personas.alice.email, "guess").status_code == 401
        owner = from_address(app, "192.0.2.10")
        slowed = attempt(owner, personas.alice.email, PASSWORD)
        assert slowed.status_code == 429, "the right password waits as well, or guessing would go on"
        assert slowed.headers["retry-after"] == "2"
        colleague = from_address(app, "192.0.2.11")
        assert attempt(colleague, personas.mark.email, PASSWORD).status_code == 303, "other accounts are not slowed"
        clock.shift(timedelta(seconds=2))
        assert attempt(owner, personas.alice.email, PASSWORD).status_code == 303


def test_failing_without_end_keeps_an_account_waiting_five_minutes_at_most(app: FastAPI, personas: Personas) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(25):  # uncapped, the 25th failure would mean a wait of 2**21 seconds
            clock.shift(timedelta(minutes=5))
            assert attempt(from_address(app, f"198.51.100.{n}"), personas.alice.email, "guess").status_code == 401
        owner = from_address(app, "192.0.2.10")
        assert attempt(owner, personas.alice.email, PASSWORD).headers["retry-after"] == "300"
        clock.shift(timedelta(minutes=5))
        assert attempt(owner, personas.alice.email, PASSWORD).status_code == 303


def test_waiting_does_not_count_as_failing(app: FastAPI, personas: Personas) -> None:
    attacker = from_address(app, "198.51.100.7")
    with time_machine.travel(utcnow(), tick=False) as clock:
        for n in range(5):
            attempt(attacker, f"nobody{n}@example.com", "guess")
        for _ in range(20):
            assert attempt(attacker, "nobody@example.com", "guess").status_code == 429
        clock.shift(timedelta(seconds=2))
        assert attempt(attacker, personas.alice.email, PASSWORD).status_code == 303


@pytest.mark.real_clock
def test_two_concurrent_first_failures_from_one_address_are_both_counted(
    app: FastAPI, db: Database, personas: Personas, settings: Settings
) -> None:
    attacker = from_address(app, "198.51.100.7")
    address = throttle_key("198.51.100.7", False, settings.secret_key.get_secret_value())  # type: ignore[union-attr]
    token = csrf_from(attacker)
    answers: list[int] = []

    def fail(n: int) -> None:
        data = {"email": f"nobody{n}@example.com", "password": "guess", "csrf_token": token}
        answers.append(attacker.post("/admin/login", data=data).status_code)

    contenders = [threading.Thread(target=fail, args=(n,)) for n in range(2)]
    with db.engine.connect() as holder:
        if db.engine.dialect.name == "postgresql":
            # An insert of the same row, held open: both sign-ins find no row, then wait to write theirs.
            holder.execute(
                insert(LoginThrottle).values(kind="address", key=address, failures=0, last_failure_at=utcnow())
            )
        for contender in contenders:
            contender.start()
        if db.engine.dialect.name == "postgresql":
            deadline = time.monotonic() + 30
            while waiting_on_locks(db) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the other connections' progress (bounded), not timing behaviour
            assert waiting_on_locks(db) == 2
        holder.rollback()
    for contender in contenders:
        contender.join(timeout=30)
    assert answers == [401, 401]
    assert counted(db)[("address", address)] == 2


def test_failures_are_counted_under_a_keyed_hash_of_the_address_not_the_address(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    attempt(from_address(app, "198.51.100.7"), "nobody@example.com", "guess")
    (key,) = [key for kind, key in counted(db) if kind == "address"]
    assert "198.51.100" not in key and key != hashlib.sha256(b"198.51.100.7").hexdigest()
    assert key == hmac.new(settings.secret_key.get_secret_value().encode(), b"198.51.100.7", "sha256").hexdigest()  # type: ignore[union-attr]


def test_with_full_ip_addresses_the_address_itself_is_kept(settings: Settings, db: Database) -> None:
    settings.full_ip_addresses = True
    with from_address(create_app(settings, start_jobs=False), "198.51.100.7") as browser:
        attempt(browser, "nobody@example.com", "guess")
    assert [key for kind, key in counted(db) if kind == "address"] == ["198.51.100.7"]
