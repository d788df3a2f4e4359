"""Alembic environment: runs on the engine Overture hands in (see overture.db.alembic_config)."""

from alembic import context
from sqlalchemy import Connection

from overture.db import Base, load_models

load_models()

engine = context.config.attributes["engine"]


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Turns SQLite's foreign keys on or off, outside any transaction (the pragma does nothing inside one).

    A batch migration copies a table and drops the old one; with foreign keys on, the drop runs the ON DELETE
    actions of every table pointing at it (activities and meetings would lose their conversation)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            _sqlite_foreign_keys(connection, True)
