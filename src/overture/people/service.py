"""People as the rest of Overture sees them: find or create by visitor id, read and write person and company fields,
visitor sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.people.custom_fields import active_specs
from overture.people.fields import FieldSchema
from overture.people.models import Company, Person, VisitorIdentity

SESSION_TIMEOUT = timedelta(minutes=30)
# Fields stored in their own columns; every other field lives in the row's `fields` under its dotted name.
PERSON_COLUMNS = {
    "person.email": "email",
    "person.first_name": "first_name",
    "person.last_name": "last_name",
    "person.phone": "phone",
    "person.title": "title",
    "person.language": "language",
    "person.consent": "consent",
}
COMPANY_COLUMNS = {
    "company.name": "name",
    "company.domain": "domain",
    "company.industry": "industry",
    "company.employees": "employees",
    "company.revenue": "revenue",
    "company.country": "country",
    "company.owner": "owner",
}


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def by_visitor_id(session: Session, visitor_id: str) -> Person | None:
    return session.scalar(
        select(Person)
        .join(VisitorIdentity, VisitorIdentity.person_id == Person.id)
        .where(VisitorIdentity.visitor_id == visitor_id)
    )


def visitor(session: Session, visitor_id: str | None, now: datetime) -> tuple[Person, str]:
    """The person behind a visitor id and the id itself; both created on first sight (a new id when none is given
    or the given one is unknown, e.g. after the person was deleted).

    Also counts visitor sessions: a visit after 30 minutes of silence starts a new one.
    """
    person = by_visitor_id(session, visitor_id) if visitor_id else None
    if person is None or visitor_id is None:
        if not well_formed_visitor_id(visitor_id):
            visitor_id = new_visitor_id()
        session.flush()  # pending changes are written outside the savepoint, so a lost race does not undo them
        try:
            with session.begin_nested():
                person = Person(fields={}, source={}, visit={}, created_at=now, last_seen_at=now)
                session.add(person)
                session.flush()
                session.add(VisitorIdentity(visitor_id=visitor_id, person_id=person.id, created_at=now))
                session.flush()
        except IntegrityError:
            # Another process made this visitor id's person between our look-up and our write (two first calls of
            # a new browser at once; PostgreSQL made us wait for it): that person is this visitor.
            found = by_visitor_id(session, visitor_id)
            if found is None:
                raise
            touch(found, now)
            return found, visitor_id
        return person, visitor_id
    touch(person, now)
    return person, visitor_id


def well_formed_visitor_id(visitor_id: str | None) -> TypeGuard[str]:
    """A visitor id the widget made with `new_visitor_id` (kept when the person behind it is new to us)."""
    return visitor_id is not None and visitor_id.startswith("v_") and 8 <= len(visitor_id) <= 64


def session_at(last_seen_at: datetime, session_number: int, now: datetime) -> int:
    """The visitor session `now` falls in: a new one after SESSION_TIMEOUT of silence."""
    return session_number + 1 if now - last_seen_at > SESSION_TIMEOUT else session_number


def touch(person: Person, now: datetime) -> None:
    """Records activity at `now`, counting visitor sessions."""
    person.session_number = session_at(person.last_seen_at, person.session_number, now)
    person.last_seen_at = max(person.last_seen_at, now)


def company_of(session: Session, person: Person) -> Company | None:
    return session.get(Company, person.company_id) if person.company_id is not None else None


def field_values(person: Person, company: Company | None = None) -> dict[str, Any]:
    """Every known person and company field by dotted name (empty fields left out)."""
    values = {name: getattr(person, column) for name, column in PERSON_COLUMNS.items()}
    values["person.email"] = person.contact_email  # a claimed email is what this visitor said of themselves
    values.update(person.fields or {})
    known = {name: value for name, value in values.items() if value not in (None, "")}
    return {**known, **company_values(company)} if company is not None else known


def company_values(company: Company) -> dict[str, Any]:
    """Every known field of a company by dotted name (empty fields left out)."""
    values = {name: getattr(company, column) for name, column in COMPANY_COLUMNS.items()}
    values.update(company.fields or {})
    return {name: value for name, value in values.items() if value not in (None, "")}


def set_field(session: Session, person: Person, name: str, value: Any, now: datetime) -> None:
    """Writes one person or company field (validated by the caller against the field schema). A company field of
    a person without a company creates one."""
    if name.startswith("company."):
        company = company_of(session, person)
        if company is None:
            company = Company(fields={}, created_at=now, updated_at=now)
            session.add(company)
            session.flush()
            person.company_id = company.id
        set_company_field(company, name, value, now)
        return
    column = PERSON_COLUMNS.get(name)
    if column:
        setattr(person, column, value)
    else:
        # A new dict, so that SQLAlchemy sees the JSON column change.
        person.fields = {**(person.fields or {}), name: value}


def set_company_field(company: Company, name: str, value: Any, now: datetime) -> None:
    column = COMPANY_COLUMNS.get(name)
    if column:
        setattr(company, column, value)
    else:
        company.fields = {**(company.fields or {}), name: value}
    company.updated_at = now


def field_schema(session: Session) -> FieldSchema:
    """The fields that exist now: built-in ones and the custom fields admins added (retired ones left out)."""
    return FieldSchema.builtin(active_specs(session))
