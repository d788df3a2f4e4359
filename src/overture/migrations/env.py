"""Alembic environment: runs on the engine Overture hands in (see overture.db.alembic_config)."""

from alembic import context

from overture.activities import models as _activities_models  # noqa: F401  (each import registers tables)
from overture.calendars import models as _calendars_models  # noqa: F401
from overture.conversations import models as _conversations_models  # noqa: F401
from overture.db import Base
from overture.dialogues import models as _dialogues_models  # noqa: F401
from overture.mail import models as _mail_models  # noqa: F401
from overture.people import models as _people_models  # noqa: F401
from overture.scheduling import models as _scheduling_models  # noqa: F401
from overture.signals import Signal as _signal  # noqa: F401
from overture.sites import models as _sites_models  # noqa: F401
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
