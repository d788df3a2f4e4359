"""What every command shares: consoles, one-line errors, settings, the migrated database, a writing session, a
free port to serve on."""

from __future__ import annotations

import errno
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from sqlalchemy import make_url

from overture.db import Database, needs_migration
from overture.errors import OvertureError
from overture.settings import (
    ENV_PREFIX,
    Settings,
    SettingsError,
    ensure_data_dir,
    load_settings,
    unknown_variables,
)

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {message}")
    sys.exit(code)


def warn(message: str) -> None:
    errors.print(f"[bold yellow]Warning:[/] {message}")


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, or a one-line error naming the bad setting and exit status 2. Warns first about OVERTURE_*
    variables that no setting reads (a misspelt name would otherwise be ignored without a word)."""
    for line in unknown_variables(os.environ):
        warn(line)
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc), 2)


def data_dir_or_exit(settings: Settings) -> None:
    """Creates the data folder, or exits with one line saying why it cannot be."""
    try:
        ensure_data_dir(settings)
    except SettingsError as exc:
        fail(str(exc), 2)


def missing_sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file the settings name when it does not exist yet; None for PostgreSQL or an existing file."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return None if path.exists() else path


def migrated_database(settings: Settings) -> Database:
    """The database, or exit with the command to run when it is missing or not migrated."""
    missing = missing_sqlite_file(settings)
    if missing is not None:
        # Opening it would create an empty file (or fail on a missing folder): say where it was looked for.
        in_data_dir = missing == (settings.data_dir / "overture.db").resolve()
        named_by = f"{ENV_PREFIX}DATA_DIR" if in_data_dir else f"{ENV_PREFIX}DATABASE_URL"
        fail(f"there is no database at {missing} (from {named_by}). Run `overture migrate` first.")
    db = Database.from_url(settings.database_url)
    try:
        behind = needs_migration(db.engine)
    except Exception as exc:
        fail(f"cannot open the database ({settings.database_url.split('@')[-1]}): {exc.__class__.__name__}: {exc}")
    if behind:
        fail("the database is not migrated to this version of Overture. Run `overture migrate` first.")
    return db


def with_session(action: Callable[..., Any]) -> Any:
    settings = settings_or_exit()
    db = migrated_database(settings)
    try:
        with db.write() as session:
            return action(session, settings)
    except OvertureError as exc:
        details = "".join(f"\n  {p.path}: {p.message}" for p in exc.problems)
        fail(exc.message + details)
    finally:
        db.dispose()


def port_or_exit(host: str, port: int) -> None:
    """Exits with one line when the server could not listen on host:port, before anything else is printed.

    Binds as uvicorn will (same family, SO_REUSEADDR) and lets go at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use by another program: stop it or choose another --port.")
            fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}. Check --host and --port.")
