"""Custom fields: admins add person and company fields to the schema, rename their labels and retire them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.people.fields import FieldSpec, FieldType
from overture.people.models import FieldDefinition


def active_specs(session: Session) -> list[FieldSpec]:
    """The custom fields in use, as field specs (retired ones are left out: their data stays on the rows)."""
    rows = session.scalars(select(FieldDefinition).where(FieldDefinition.retired_at.is_(None)))
    return [
        FieldSpec(
            row.name, FieldType(row.type), row.label, writable=row.visitor_fillable, choices=tuple(row.choices or ())
        )
        for row in rows
    ]
