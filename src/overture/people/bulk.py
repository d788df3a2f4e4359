"""People and companies written thousands at a time with Core statements, for the syncs that bring a million
records (integrations/marketo): one INSERT or UPDATE a batch instead of one ORM flush a row.

The ORM's listeners keep the name index (`person_name_words`, `company_name_words`, people/models.py) for every row
written through a session; statements run here bypass them, so these functions write the index for their rows
themselves, in the same transaction, from the same `name_words`: the people search finds a person written here
exactly as one written through the ORM.

Rows are dicts of column values, every row of one call with the same keys (one prepared statement for all).
Statements run on the session's connection: the ORM's bulk layer (`session.execute(insert(Model), rows)`) took
twice as long per row here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.orm import Session

from overture.people.models import Company, CompanyNameWord, Person, PersonNameWord, name_words

Row = Mapping[str, Any]
_PEOPLE = cast(Table, Person.__table__)
_COMPANIES = cast(Table, Company.__table__)
_PERSON_WORDS = cast(Table, PersonNameWord.__table__)
_COMPANY_WORDS = cast(Table, CompanyNameWord.__table__)
# Ids in one IN list: SQLite takes at most 32,766 bound parameters a statement.
_IN_BATCH = 5_000


def insert_people(session: Session, rows: Sequence[Row]) -> list[int]:
    """Inserts the people and the words of their names; returns their ids, in the rows' order. Raises
    `ValueError` when the rows do not all have the same columns."""
    ids = _insert(session, _PEOPLE, rows)
    names = {id_: (row.get("first_name"), row.get("last_name")) for id_, row in zip(ids, rows, strict=True)}
    person_words(session, names)
    return ids


def update_people(session: Session, rows: Sequence[Row], *, renamed: Collection[int] = ()) -> None:
    """Sets, for each row, its columns of the person whose `id` it has, and writes again the name words of the
    people in `renamed` (whose rows carry both `first_name` and `last_name`). Raises `ValueError` when the rows do
    not all have the same columns, or a renamed person's row lacks a name column."""
    _update(session, _PEOPLE, rows)
    names = {row["id"]: row for row in rows if row["id"] in renamed}
    if any("first_name" not in row or "last_name" not in row for row in names.values()):
        raise ValueError("A renamed person's row must carry first_name and last_name.")
    person_words(session, {id_: (row["first_name"], row["last_name"]) for id_, row in names.items()}, replace=True)


def insert_companies(session: Session, rows: Sequence[Row]) -> list[int]:
    """Inserts the companies and the words of their names; returns their ids, in the rows' order. Their domains
    (`company_domains`) are the caller's. Raises `ValueError` when the rows do not all have the same columns."""
    ids = _insert(session, _COMPANIES, rows)
    company_words(session, {id_: row.get("name") for id_, row in zip(ids, rows, strict=True)})
    return ids


def update_companies(session: Session, rows: Sequence[Row], *, renamed: Collection[int] = ()) -> None:
    """As `update_people`, for companies (a renamed company's row carries `name`)."""
    _update(session, _COMPANIES, rows)
    names = {row["id"]: row for row in rows if row["id"] in renamed}
    if any("name" not in row for row in names.values()):
        raise ValueError("A renamed company's row must carry name.")
    company_words(session, {id_: row["name"] for id_, row in names.items()}, replace=True)


def person_words(
    session: Session, names: Mapping[int, tuple[str | None, str | None]], *, replace: bool = False
) -> None:
    """Writes the name words of these people (id to first and last name); `replace` first removes those they had."""
    if replace:
        _delete_of(session, _PERSON_WORDS, "person_id", list(names))
    rows = [
        {"word": word, "person_id": id_} for id_, (first, last) in names.items() for word in name_words(first, last)
    ]
    if rows:
        session.connection().execute(insert(_PERSON_WORDS), rows)


def company_words(session: Session, names: Mapping[int, str | None], *, replace: bool = False) -> None:
    """Writes the name words of these companies (id to name); `replace` first removes those they had."""
    if replace:
        _delete_of(session, _COMPANY_WORDS, "company_id", list(names))
    rows = [{"word": word, "company_id": id_} for id_, name in names.items() for word in name_words(name)]
    if rows:
        session.connection().execute(insert(_COMPANY_WORDS), rows)


def _same_columns(rows: Sequence[Row]) -> list[str]:
    columns = list(rows[0])
    if any(len(row) != len(columns) or any(name not in row for name in columns) for row in rows):
        raise ValueError(f"Every row must have the columns of the first one: {', '.join(columns)}.")
    return columns


def _insert(session: Session, table: Table, rows: Sequence[Row]) -> list[int]:
    if not rows:
        return []
    _same_columns(rows)
    # One multi-row INSERT ... RETURNING per thousand rows (SQLAlchemy's "insertmanyvalues"); the ids come back in
    # the order of the rows on both engines.
    result = session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows))
    return [int(id_) for id_ in result.scalars()]


def _update(session: Session, table: Table, rows: Sequence[Row]) -> None:
    if not rows:
        return
    columns = [name for name in _same_columns(rows) if name != "id"]
    if not columns:
        return
    # Bound names differ from the columns': SQLAlchemy reserves a column's own name for its SET clause.
    statement = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(f"_{name}", type_=table.c[name].type) for name in columns})
    )
    session.connection().execute(statement, [{f"_{name}": value for name, value in row.items()} for row in rows])


def _delete_of(session: Session, table: Table, column: str, ids: list[int]) -> None:
    for start in range(0, len(ids), _IN_BATCH):
        session.connection().execute(delete(table).where(table.c[column].in_(ids[start : start + _IN_BATCH])))
