"""What the reports' rollups (rollups.py, funnel_rollups.py) share to count fast on both engines: the UTC hour an
instant falls in, as Python and as SQL; running a statement without the ORM's layer; and replacing the rows of a
rollup in spans of hours, in one statement per table on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, bindparam, delete, func, insert, literal_column, text, type_coerce
from sqlalchemy.orm import Session

from overture.db import UTCDateTime

HOUR = timedelta(hours=1)
BATCH = 5_000  # values in one IN list (SQLite's limit on bound parameters is 32,766)

Hours = dict[int, tuple[datetime, datetime]]  # dialogue id -> [first hour, end) to count again


def hour_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_sql(session: Session, column: Any) -> ColumnElement[datetime]:
    """The UTC hour an instant falls in, computed by the database. Literals, not bound parameters: PostgreSQL
    matches a GROUP BY expression to the selected one by its text."""
    if session.get_bind().dialect.name == "sqlite":
        expression = func.strftime(literal_column("'%Y-%m-%d %H:00:00'"), column)
    else:
        expression = func.date_trunc(literal_column("'hour'"), func.timezone(literal_column("'UTC'"), column))
    return type_coerce(expression, UTCDateTime())


def spans_of(touched: dict[int, set[datetime]]) -> Hours:
    """Each dialogue's hours to count again, as one span from its first to after its last."""
    return {dialogue: (min(hours), max(hours) + HOUR) for dialogue, hours in touched.items() if hours}


def table_of(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def run(session: Session, statement: Any, parameters: Any = None) -> Any:
    """Runs a statement on the session's connection: rows come back as plain tuples, without the ORM's layer
    (the catch-up of a large log reads and writes millions of them)."""
    return session.connection().execute(statement, parameters)


def in_batches(session: Session, statement: Any, values: Sequence[Any]) -> Iterable[Any]:
    for start in range(0, len(values), BATCH):
        batch = values[start : start + BATCH]
        rows = run(session, statement(batch))
        yield from (row[0] if len(row) == 1 else tuple(row) for row in rows)


def delete_spans(session: Session, table: Table, spans: Hours) -> None:
    """Deletes each dialogue's rows of `table` in its span. PostgreSQL takes every span in one statement (one
    DELETE per dialogue, 500 a step, took a third of a big catch-up); SQLite runs one prepared statement per span."""
    if session.get_bind().dialect.name == "postgresql":
        dialogues = list(spans)
        run(
            session,
            text(
                f"DELETE FROM {table.name} AS counted"  # a table of ours, never input
                " USING unnest(CAST(:dialogues AS integer[]), CAST(:firsts AS timestamptz[]),"
                " CAST(:lasts AS timestamptz[])) AS span(dialogue_id, first, last)"
                " WHERE counted.dialogue_id = span.dialogue_id AND counted.hour >= span.first"
                " AND counted.hour < span.last"
            ),
            {
                "dialogues": dialogues,
                "firsts": [spans[dialogue][0] for dialogue in dialogues],
                "lasts": [spans[dialogue][1] for dialogue in dialogues],
            },
        )
        return
    run(
        session,
        delete(table).where(
            table.c.dialogue_id == bindparam("d"), table.c.hour >= bindparam("first"), table.c.hour < bindparam("last")
        ),
        [{"d": dialogue, "first": first, "last": last} for dialogue, (first, last) in spans.items()],
    )


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows. PostgreSQL takes them as one array per column in one statement (a step writes some
    100,000 rows: one by one took longer than counting them); SQLite runs one prepared statement per row."""
    if not rows:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        run(session, insert(table), rows)
        return
    names = list(rows[0])
    arrays = {}
    for name in names:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):  # None stays SQL NULL (the column's none_as_null)
            values = [json.dumps(value) if value is not None else None for value in values]
        arrays[name] = values
    types = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names)
    run(
        session,
        text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({types})"),
        arrays,
    )
