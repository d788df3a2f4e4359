"""Database engines, sessions, the declarative Base and the migrations runner.

The same code runs on SQLite and PostgreSQL. On SQLite we use WAL, a busy timeout and foreign keys, and writing
transactions start with BEGIN IMMEDIATE so two writers queue instead of failing half-way (see `Database.write`).
"""

from __future__ import annotations

import contextlib
import enum
import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000

# The catalogue of every module that declares tables. `load_models` imports them all, so that the metadata knows
# every table wherever Overture runs (the app, the CLI, migrations, tests): foreign keys name other packages' tables
# without importing them, and a merge or a privacy deletion walks every table that points at a person. A package
# that adds tables adds its module here (tests/test_layers.py checks that none is missing).
MODEL_MODULES = (
    "overture.signals",
    "overture.users.models",
    "overture.mail.models",
    "overture.people.models",
    "overture.sites.models",
    "overture.dialogues.models",
    "overture.activities.models",
    "overture.programs.models",
    "overture.calendars.models",
    "overture.scheduling.models",
    "overture.conversations.models",
    "overture.analytics.models",
    "overture.webhooks.models",
    "overture.automations.models",
    "overture.integrations.models",
    "overture.integrations.marketo.sync_models",
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Wake(enum.Enum):
    """A worker that a change gives work to (a row it drains), to wake once the change is committed."""

    mail = "mail"  # the mail outbox
    calendar = "calendar"  # calendar events to write
    activities = "activities"  # activities recorded: the consumers of the activity feed (webhooks)
    webhooks = "webhooks"  # webhook deliveries to send


_TO_WAKE = "overture.to_wake"


def wake_after_commit(session: Session, worker: Wake) -> None:
    """Notes, in the session, that `worker` has work once this transaction commits (whoever commits wakes it)."""
    session.info.setdefault(_TO_WAKE, set()).add(worker)


def workers_to_wake(session: Session) -> set[Wake]:
    """The workers the session's changes gave work to, forgotten once read: call it after the commit."""
    woken: set[Wake] = session.info.pop(_TO_WAKE, set())
    return woken


def load_models() -> None:
    """Imports every module of the catalogue (once; later calls cost a dictionary look-up each)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware and in UTC, on both engines (SQLite keeps no zone, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so that we can choose IMMEDIATE for writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    """Creates the engine for a SQLite or PostgreSQL URL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The engine and the two kinds of session: reading, and writing (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Shared by every session of this database (as session.info["memo"]): a place for services to keep what
        # never changes once written, such as parsed published versions, for this database only.
        self.memo: dict[str, Any] = {}
        info = {"memo": self.memo}
        self._read = sessionmaker(engine, expire_on_commit=False, info=info)
        self._write = sessionmaker(
            engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False, info=info
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        load_models()
        return cls(make_engine(url))

    def session(self, *, write: bool) -> Session:
        """A new session; the caller commits or rolls back and closes it."""
        return self._write() if write else self._read()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A writing transaction, committed when the block ends without error and rolled back otherwise."""
        with self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


# --- migrations ---------------------------------------------------------------------------------------------


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("overture") / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def needs_migration(engine: Engine) -> bool:
    """True when the database is not at the newest migration (including a database never migrated)."""
    return current_revision(engine) != head_revision(engine)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Applies migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
