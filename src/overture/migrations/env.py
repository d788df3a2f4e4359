"""Alembic environment: runs on the engine Overture hands in (see overture.db.alembic_config)."""

from alembic import context

from overture.db import Base, load_models

load_models()

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
