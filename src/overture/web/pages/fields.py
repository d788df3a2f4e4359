"""The Fields page: the field schema, built-in fields (read-only) and custom ones in one table; add a custom field,
rename it (its label: the dotted name dialogues use never changes), retire and restore it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput
from overture.people import custom_fields
from overture.people.fields import FieldType
from overture.people.models import FieldDefinition
from overture.users.models import User
from overture.web.deps import DbSession
from overture.web.guards import ConfigurationPageUser
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()
FieldName = Annotated[str, Path(max_length=80, pattern=r"^[a-z]+\.[a-z0-9_]+$")]
PAGE = "/admin/configuration/fields"


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _list_page(request: Request, session: Session, user: User, status: int = 200, **extra: object) -> Response:
    return render(
        request,
        "admin/fields.html",
        user,
        status=status,
        entries=custom_fields.all_fields(session),
        types=list(FieldType),
        **{"form": {"visitor_fillable": True}, **extra},
    )


@router.get(PAGE)
def fields_page(request: Request, session: DbSession, user: ConfigurationPageUser) -> Response:
    return _list_page(request, session, user)


class NewFieldForm(BaseModel):
    name: str = Field(max_length=80)
    label: str = Field(max_length=100)
    type: str = Field(max_length=10)
    choices: str = Field("", max_length=20_000)  # one per line
    visitor_fillable: bool = False


@router.post(PAGE)
def add_field(
    request: Request, session: DbSession, user: ConfigurationPageUser, form: Posted[NewFieldForm]
) -> Response:
    try:
        row = custom_fields.add(
            session, form.name, form.label, form.type, choices=lines(form.choices),
            visitor_fillable=form.visitor_fillable, now=utcnow(),
        )  # fmt: skip
    except (InvalidInput, Conflict) as exc:
        return _list_page(request, session, user, **refuse(session, exc, form.model_dump()).shown())
    return succeeded(request, f"{row.name} is added. Dialogues can capture it and audience rules can use it now.", PAGE)


def _field_page(request: Request, user: User, row: FieldDefinition, status: int = 200, **extra: object) -> Response:
    return render(request, "admin/field.html", user, status=status, field=custom_fields.entry_of(row), **extra)


@router.get(PAGE + "/{name}")
def field_page(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    return _field_page(request, user, custom_fields.get(session, name))


class FieldForm(BaseModel):
    label: str = Field(max_length=100)
    choices: str | None = Field(None, max_length=20_000)  # one per line; none sent: the choices stay as they are
    visitor_fillable: bool = False


@router.post(PAGE + "/{name}")
def update_field(
    request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName, form: Posted[FieldForm]
) -> Response:
    row = custom_fields.get(session, name)
    try:
        custom_fields.update(
            session,
            row,
            label=form.label,
            visitor_fillable=form.visitor_fillable,
            choices=lines(form.choices) if form.choices is not None else None,
        )
    except InvalidInput as exc:
        refused = refuse(session, exc, form.model_dump())
        return _field_page(request, user, custom_fields.get(session, name), **refused.shown())
    return succeeded(request, f"{row.name} is saved. Its label is now '{row.label}'.", f"{PAGE}/{name}")


@router.post(PAGE + "/{name}/retire")
def retire_field(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    try:
        row = custom_fields.retire(session, custom_fields.get(session, name), utcnow())
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{name}")
    return succeeded(
        request,
        f"{row.name} is retired: new dialogues and imports cannot use it. The values people have are kept.",
        f"{PAGE}/{name}",
    )


@router.post(PAGE + "/{name}/restore")
def restore_field(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    try:
        row = custom_fields.restore(session, custom_fields.get(session, name))
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{name}")
    return succeeded(request, f"{row.name} is restored, with the values it kept.", f"{PAGE}/{name}")
