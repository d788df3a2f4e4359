"""Shared fixtures: a real database (SQLite file, or PostgreSQL when OVERTURE_TEST_DATABASE_URL is set), the app,
and personas: alice (admin), mark (marketer), sam (sales admin), bob (agent), carol (deactivated).

Each test run gets its own freshly created database (PostgreSQL: one per xdist worker, dropped at the end), and
each test starts with empty tables.

`--clock INSTANT` runs every test on a clock moved to INSTANT (time-machine, ticking from there; a test that travels
itself travels from inside it): the way to prove the suite passes on any date, e.g. a leap day or a DST change.

On PostgreSQL the tests that use no database and the browser tests are left out (they ran on SQLite);
`--engine-free-too` runs them too.
"""

from __future__ import annotations

import argparse
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, insert, make_url, select, text

from overture.db import Base, Database, migrate
from overture.logs import configure_logging
from overture.settings import Settings
from overture.signals import TARGETING, Signal
from overture.sites.models import Site
from overture.users import passwords
from overture.users import service as users
from overture.web.app import create_app

from support import PASSWORD, TEST_DATABASE_VARIABLE, Persona, Personas


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        type=_instant,
        default=None,
        metavar="INSTANT",
        help="run every test with the clock moved to INSTANT, an ISO 8601 time with its offset "
        "(2028-02-29T10:00:00+00:00); the clock ticks from there, in Python and in the browser",
    )
    parser.addoption(
        "--engine-free-too",
        action="store_true",
        help="on PostgreSQL, also run the tests that use no database and the browser tests (by default they run on "
        "SQLite only)",
    )


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--clock {value!r} is not an ISO 8601 time") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"--clock {value!r} needs an offset: 2028-02-29T10:00:00+00:00, not 2028-02-29T10:00:00"
        ) from None
    return instant


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_clock: the test runs on the machine's clock even under --clock (it agrees with another process)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, leaves out the tests that use no database (no `database_url` among their fixtures) and the
    browser tests: they ran on SQLite already and give the same answer on any engine; this keeps CI's two runs
    within its time."""
    if not os.environ.get(TEST_DATABASE_VARIABLE) or config.getoption("engine_free_too"):
        return
    left_out = [item for item in items if _same_on_any_engine(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not _same_on_any_engine(item)]


def _same_on_any_engine(item: pytest.Item) -> bool:
    """A test that uses no database, or a browser test: the pages it walks run the service functions the API and
    service tests run on PostgreSQL too; what the browser adds (layout, scripts, focus) does not depend on the
    engine."""
    return "database_url" not in getattr(item, "fixturenames", ()) or "/tests/browser/" in str(item.path)


@pytest.fixture(scope="session")
def moved_clock(pytestconfig: pytest.Config) -> datetime | None:
    """The instant every test starts at under `--clock`; None when the tests run on the machine's clock."""
    instant: datetime | None = pytestconfig.getoption("clock")
    return instant


@pytest.fixture(autouse=True)
def _travel_to_the_moved_clock(moved_clock: datetime | None, request: pytest.FixtureRequest) -> Iterator[None]:
    """Under `--clock`, the test (its fixtures included) runs on a clock that starts at that instant and ticks;
    except a test marked `real_clock`, whose other process cannot be moved (libfaketime breaks Chromium here)."""
    if moved_clock is None or request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(moved_clock, tick=True):
        yield


def _create_postgres_database(server_url: str, worker: str) -> str:
    """Creates an empty database on the server of `server_url`; returns its URL."""
    url = make_url(server_url)
    name = f"overture_test_{uuid.uuid4().hex[:8]}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated database for this test worker."""
    server = os.environ.get(TEST_DATABASE_VARIABLE)
    if server:
        url = _create_postgres_database(server, re.sub(r"\W", "", worker_id))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'overture.db'}"
    db = Database.from_url(url)
    migrate(db.engine)
    db.dispose()
    yield url
    if server:
        _drop_postgres_database(url)


@pytest.fixture(scope="session", autouse=True)
def _plain_logs() -> None:
    configure_logging(Settings(log_level="WARNING"))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OVERTURE_* variable or overture.toml of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("OVERTURE_") and name != TEST_DATABASE_VARIABLE:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 is slow on purpose; tests check behaviour, not its cost, so they use the cheapest parameters."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://testserver",
        jobs_in_process=False,
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The worker's database, emptied after the test, with the rows every test starts from."""
    database = Database.from_url(database_url)
    with database.engine.begin() as connection:
        _seed(connection)
    yield database
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    database.dispose()


def _seed(connection: Connection) -> None:
    """What the migrations create (the default site, the change signals) and the site the example dialogues name."""
    have = set(connection.scalars(select(Site.key)))
    for key, name in (("default", "Default site"), ("www", "Example website")):
        if key not in have:
            connection.execute(insert(Site).values(key=key, name=name, origins=[], blocked_email_domains=[]))
    if connection.scalar(select(Signal.name).where(Signal.name == TARGETING)) is None:
        connection.execute(insert(Signal).values(name=TARGETING, generation=0))


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, start_jobs=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def personas(db: Database) -> Personas:
    made = {}
    with db.write() as session:
        for key, email, role in (
            ("alice", "alice@example.com", "admin"),
            ("mark", "mark@example.com", "marketer"),
            ("sam", "sam@example.com", "sales_admin"),
            ("bob", "bob@example.com", "agent"),
            ("carol", "carol@example.com", "agent"),
        ):
            user = users.create_user(session, email, role, name=key.title(), password=PASSWORD)
            made[key] = Persona(user.id, user.email, role)
        session.flush()
        users.set_active(session, users.get_user(session, made["carol"].id), False)
    return Personas(**made)
