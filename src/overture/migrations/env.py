"""Alembic environment: runs on the engine Overture hands in (see overture.db.alembic_config)."""

from alembic import context

from overture.db import Base
from overture.mail import models as _mail_models  # noqa: F401  (registers tables)
from overture.users import models as _users_models  # noqa: F401

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
