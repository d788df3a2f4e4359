"""Admin API: the field schema. Built-in fields are listed read-only; custom ones are added, renamed (the label:
the dotted name is the stable key dialogues use), retired (their data is kept) and restored. Everything the Fields
page does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from overture.db import utcnow
from overture.people import custom_fields
from overture.people.field_schemas import FieldCreate, FieldPublic, FieldUpdate
from overture.people.models import FieldDefinition
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ConfigurationApiUser

router = APIRouter(prefix="/api/v1/admin/fields", tags=["fields"], responses=API_ERROR_RESPONSES)
FieldName = Annotated[str, Path(max_length=80, pattern=r"^[a-z]+\.[a-z0-9_]+$", description="The field's dotted name.")]


def public(row: FieldDefinition) -> FieldPublic:
    return FieldPublic.of(custom_fields.entry_of(row))


@router.get("", summary="Every field: built-in ones (read-only) and custom ones, retired included")
def list_fields(session: DbSession, _: ConfigurationApiUser) -> list[FieldPublic]:
    return [FieldPublic.of(entry) for entry in custom_fields.all_fields(session)]


@router.post("", status_code=201, summary="Add a custom person or company field")
def add_field(session: DbSession, _: ConfigurationApiUser, body: FieldCreate) -> FieldPublic:
    row = custom_fields.add(
        session,
        body.name,
        body.label,
        body.type.value,
        choices=body.choices,
        visitor_fillable=body.visitor_fillable,
        now=utcnow(),
    )
    return public(row)


@router.patch("/{name}", summary="Rename a custom field (its label), or change who may fill it or its choices")
def update_field(session: DbSession, _: ConfigurationApiUser, name: FieldName, body: FieldUpdate) -> FieldPublic:
    row = custom_fields.get(session, name)
    return public(
        custom_fields.update(
            session, row, label=body.label, visitor_fillable=body.visitor_fillable, choices=body.choices
        )
    )


@router.post("/{name}/retire", summary="Retire a custom field: new dialogues and imports cannot use it; data stays")
def retire_field(session: DbSession, _: ConfigurationApiUser, name: FieldName) -> FieldPublic:
    return public(custom_fields.retire(session, custom_fields.get(session, name), utcnow()))


@router.post("/{name}/restore", summary="Put a retired field back in the schema, with the data it kept")
def restore_field(session: DbSession, _: ConfigurationApiUser, name: FieldName) -> FieldPublic:
    return public(custom_fields.restore(session, custom_fields.get(session, name)))
