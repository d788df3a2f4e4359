"""What every command shares: consoles, one-line errors, settings, the migrated database, a writing session."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

from rich.console import Console

from overture.db import Database, needs_migration
from overture.errors import OvertureError
from overture.settings import Settings, SettingsError, load_settings

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {message}")
    sys.exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, or a one-line error naming the bad setting and exit status 2."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc), 2)


def migrated_database(settings: Settings) -> Database:
    """The database, or exit with the command to run when it is not migrated."""
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
