"""Migrations run on the test engine (SQLite, or PostgreSQL in the second CI pass) and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_a_migration_that_copies_a_table_keeps_the_rows_that_point_at_it(db: Database) -> None:
    """On SQLite a batch migration copies a table and drops the old one: with foreign keys on, the drop would run
    ON DELETE SET NULL on every activity of every conversation (0012's upgrade did, before env.py turned them off)."""
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO dialogues (id, key, kind, name, status, draft, draft_updated_at, created_at, revision) "
            "VALUES (1, 'k', 'dialogue', 'n', 'draft', '{}', '2026-01-01', '2026-01-01', 1)"))  # fmt: skip
        connection.execute(text("INSERT INTO dialogue_versions (id, dialogue_id, number, document, published_at) "
                                "VALUES (1, 1, 1, '{}', '2026-01-01')"))  # fmt: skip
        connection.execute(text(
            "INSERT INTO conversations (id, public_id, token_hash, dialogue_id, version_id, flow_version_ids, state, "
            "step, status, page_url, cards, started_at, updated_at) "
            "VALUES (1, 'c_1', 'h', 1, 1, '{}', '{}', 0, 'active', '', '[]', '2026-01-01', '2026-01-01')"))  # fmt: skip
        connection.execute(text("INSERT INTO activities (type, occurred_at, session_number, conversation_id, "
                                "attributes) VALUES ('goal.reached', '2026-01-01', 1, 1, '{}')"))  # fmt: skip
    downgrade(db.engine, "0011")
    migrate(db.engine)
    with db.engine.connect() as connection:
        assert connection.scalars(text("SELECT conversation_id FROM activities")).all() == [1]
