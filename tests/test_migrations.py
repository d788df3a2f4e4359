"""Migrations run on the test engine (SQLite, or PostgreSQL in the second CI pass) and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from overture.db import Base, Database, current_revision, downgrade, head_revision, migrate, needs_migration


def test_the_migrated_database_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "a model changed without a migration: run alembic revision --autogenerate"


def test_the_database_is_at_the_newest_migration(db: Database) -> None:
    assert current_revision(db.engine) == head_revision(db.engine)
    assert not needs_migration(db.engine)


def test_migrations_go_down_to_empty_and_up_again(db: Database) -> None:
    downgrade(db.engine, "base")
    assert needs_migration(db.engine)
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate(db.engine)
    assert not needs_migration(db.engine)
    assert {"users", "api_tokens", "outbox_messages"} <= set(inspect(db.engine).get_table_names())
