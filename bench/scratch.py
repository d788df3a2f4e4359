"""The benchmarks' scratch database: a new empty one for a run, gone after it."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(url: str | None, name: str) -> Iterator[str]:
    """A temporary SQLite file (`url` None), the SQLite file `url` names, or a database created for the run on the
    PostgreSQL server of `url` and dropped after it; `name` prefixes it (overture_<name>_...)."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield url or f"sqlite:///{Path(folder) / f'{name}.db'}"
        return
    server = make_url(url)
    database = f"overture_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
