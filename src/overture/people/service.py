"""People as the conversation sees them: find or create by visitor id, read and write fields, sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.people.fields import FieldSchema
from overture.people.models import Person

SESSION_TIMEOUT = timedelta(minutes=30)
# Fields stored in their own columns; every other field lives in Person.fields under its dotted name.
COLUMNS = {
    "person.email": "email",
    "person.first_name": "first_name",
    "person.last_name": "last_name",
    "person.phone": "phone",
}


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def visitor(session: Session, visitor_id: str | None, now: datetime) -> Person:
    """The person behind a visitor id, created on first sight (with a new id when none is given).

    Also counts visitor sessions: a visit after 30 minutes of silence starts a new one.
    """
    person = session.scalar(select(Person).where(Person.visitor_id == visitor_id)) if visitor_id else None
    if person is None:
        person = Person(visitor_id=visitor_id or new_visitor_id(), fields={}, created_at=now, last_seen_at=now)
        session.add(person)
        session.flush()
        return person
    touch(person, now)
    return person


def touch(person: Person, now: datetime) -> None:
    """Records activity at `now`; starts a new visitor session after SESSION_TIMEOUT of silence."""
    if now - person.last_seen_at > SESSION_TIMEOUT:
        person.session_number += 1
    person.last_seen_at = max(person.last_seen_at, now)


def field_values(person: Person) -> dict[str, Any]:
    """Every known field of the person by dotted name (empty fields left out)."""
    values = {name: getattr(person, column) for name, column in COLUMNS.items()}
    values.update(person.fields or {})
    return {name: value for name, value in values.items() if value not in (None, "")}


def set_field(person: Person, name: str, value: Any) -> None:
    """Writes one field (validated by the caller against the field schema)."""
    column = COLUMNS.get(name)
    if column:
        setattr(person, column, value)
    else:
        # A new dict, so that SQLAlchemy sees the JSON column change.
        person.fields = {**(person.fields or {}), name: value}


def field_schema(session: Session) -> FieldSchema:
    """The fields that exist now. Built-in only until admins can add custom fields (the people issue)."""
    return FieldSchema.builtin()
