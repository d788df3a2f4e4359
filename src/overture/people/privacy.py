"""Privacy requests about one person: export everything we hold about them, or delete it.

Both walk the foreign keys of `Base.metadata` that point to people.id, so a table added later (meetings...) is
exported and deleted without changes here. The caller must have imported every model module first (the web app
does; the CLI loads them all): a table whose model is not loaded is invisible to this walk.

What a foreign key's ON DELETE says decides what deletion does to a row that points to the person:
- CASCADE (and anything but SET NULL): the row is the person's data, it is deleted (page views, visitor ids,
  merges...);
- SET NULL: the row stays for reporting, anonymised (conversations, activities). Its person id becomes NULL and
  each column declared personal is erased. A model declares them with `mapped_column(..., info={"personal": X})`,
  X being the anonymised value (a constant such as None or {}) or a function from the old value to the new one.
  `info` lives only in the Python metadata, so declaring it needs no migration.

The company is kept: it describes an organisation, not the person, and its other people and owner still use it.
Every export and deletion writes a PrivacyAction row (kept after the person is gone) and a log line.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import Column, ForeignKeyConstraint, Table, delete, select, update
from sqlalchemy.orm import Session

from overture.db import Base
from overture.errors import NotFound
from overture.people.models import Company, Person, PrivacyAction
from overture.people.service import COMPANY_COLUMNS, field_values

PERSONAL = "personal"


@dataclass(frozen=True)
class PersonLink:
    """A table with a foreign key to people.id: `column` holds the person's id, `keeps_rows` when it is SET NULL."""

    table: Table
    column: Column[Any]
    keeps_rows: bool


@dataclass
class DeletionReport:
    person_id: int
    email_sha256: str | None
    # Rows deleted and rows kept anonymised, by table name.
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "anonymised": self.anonymised}


def person_links() -> list[PersonLink]:
    """Every column of every loaded table that refers to people.id, dependent tables first (the order to delete)."""
    people = Person.__table__
    links = []
    for table in reversed(Base.metadata.sorted_tables):
        for constraint in table.constraints:
            if not isinstance(constraint, ForeignKeyConstraint) or constraint.referred_table is not people:
                continue
            for column in constraint.columns:
                links.append(PersonLink(table, column, (constraint.ondelete or "").upper() == "SET NULL"))
    return links


def email_sha256(email: str | None) -> str | None:
    """The hash a deleted person can be looked up by ("did you delete me?") without keeping the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest() if email else None


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person with id {person_id}.")
    return person


def _plain(value: Any) -> Any:
    """A value as JSON has it: times and dates in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row_data(row: Any, table: Table) -> dict[str, Any]:
    return {column.name: _plain(row._mapping[column]) for column in table.columns}


# --- export --------------------------------------------------------------------------------------------------------


def export_person(session: Session, person_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """Everything about one person as JSON-ready data: their fields and visit data, their company, and the rows of
    every table pointing to them (visitor ids, page views, conversations with their transcripts, activities,
    merges, and later tables), each under its table's name.

    Records the export (PrivacyAction "export", `actor` being a user's email or "cli"). Raises NotFound.
    """
    person = _person(session, person_id)
    company = session.get(Company, person.company_id) if person.company_id is not None else None
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "person": {
            "id": person.id,
            "fields": {name: _plain(value) for name, value in field_values(person).items()},
            "created_at": _plain(person.created_at),
            "last_seen_at": _plain(person.last_seen_at),
            "visit_count": person.visit_count,
            "source": person.source,
            "visit": person.visit,
        },
        "company": _company_data(company),
    }
    for link in person_links():
        rows = session.execute(select(link.table).where(link.column == person_id).order_by(*link.table.primary_key))
        data.setdefault(link.table.name, []).extend(_row_data(row, link.table) for row in rows)
    data["visitor_ids"] = [row["visitor_id"] for row in data.get("visitor_identities", [])]
    counts = {name: len(rows) for name, rows in data.items() if isinstance(rows, list) and name != "visitor_ids"}
    _record(session, "export", person.id, email_sha256(person.email), actor, now, {"rows": counts})
    return data


def _company_data(company: Company | None) -> dict[str, Any] | None:
    if company is None:
        return None
    fields = {name: getattr(company, column) for name, column in COMPANY_COLUMNS.items()}
    fields.update(company.fields or {})
    fields = {name: value for name, value in fields.items() if value not in (None, "")}
    return {"id": company.id, "fields": {name: _plain(value) for name, value in fields.items()}}


# --- delete --------------------------------------------------------------------------------------------------------


def delete_person(session: Session, person_id: int, actor: str, now: datetime) -> DeletionReport:
    """Deletes one person and their data; anonymises the rows that stay for reporting (see the module docstring).

    After it, none of the person's visitor ids finds anyone. Records the deletion (PrivacyAction "delete", with
    the email's SHA-256 and the counts) and returns the counts. Raises NotFound.
    """
    person = _person(session, person_id)
    report = DeletionReport(person_id, email_sha256(person.email))
    # Pending changes go first, so that the statements below see (and win over) them.
    session.flush()
    for link in person_links():
        if link.keeps_rows:
            count = _anonymise(session, link, person_id)
            if count:
                report.anonymised[link.table.name] = report.anonymised.get(link.table.name, 0) + count
        else:
            result = session.execute(delete(link.table).where(link.column == person_id))
            count = result.rowcount  # type: ignore[attr-defined]
            if count:
                report.deleted[link.table.name] = report.deleted.get(link.table.name, 0) + count
    if person.email is not None:
        # Visitors who typed this email in chat keep their own records, but not the erased person's address.
        claims = session.execute(update(Person).where(Person.claimed_email == person.email).values(claimed_email=None))
        if claims.rowcount:  # type: ignore[attr-defined]
            report.anonymised["people"] = claims.rowcount  # type: ignore[attr-defined]
    session.delete(person)
    session.flush()
    report.deleted["people"] = 1
    # Objects of the rows changed above may still be in the session with their old values.
    session.expire_all()
    _record(session, "delete", person_id, report.email_sha256, actor, now, report.as_dict())
    return report


def _anonymise(session: Session, link: PersonLink, person_id: int) -> int:
    """Detaches the rows of `link` from the person and erases their personal columns; returns how many."""
    personal = [column for column in link.table.columns if PERSONAL in column.info]
    computed = [column for column in personal if callable(column.info[PERSONAL])]
    constants = {
        column.name: copy.deepcopy(column.info[PERSONAL]) for column in personal if not callable(column.info[PERSONAL])
    }
    keys = list(link.table.primary_key)
    if computed and not keys:
        raise TypeError(f"{link.table.name} has no primary key: its personal columns cannot be computed row by row.")
    if not computed:
        statement = update(link.table).where(link.column == person_id)
        result = session.execute(statement.values({**constants, link.column.name: None}))
        return int(result.rowcount)  # type: ignore[attr-defined]
    rows = list(session.execute(select(*keys, *computed).where(link.column == person_id)))
    for row in rows:
        values = {column.name: column.info[PERSONAL](row._mapping[column]) for column in computed}
        session.execute(
            update(link.table)
            .where(*(key == row._mapping[key] for key in keys))
            .values({**constants, **values, link.column.name: None})
        )
    return len(rows)


def _record(
    session: Session,
    action: str,
    person_id: int,
    hashed_email: str | None,
    actor: str,
    now: datetime,
    details: dict[str, Any],
) -> None:
    session.add(
        PrivacyAction(
            action=action,
            person_id=person_id,
            email_sha256=hashed_email,
            actor=actor,
            occurred_at=now,
            details=details,
        )
    )
    session.flush()
    # A logger per call: it follows the logging configuration of the moment (tests capture it).
    structlog.get_logger("overture.privacy").info(f"privacy {action}", person_id=person_id, actor=actor, **details)
