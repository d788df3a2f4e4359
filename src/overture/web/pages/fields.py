"""The Fields page: the field schema, built-in fields (read-only) and custom ones in one table; add a custom field,
rename it (its label: the dotted name dialogues use never changes), retire and restore it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput
from overture.people import custom_fields
from overture.people.fields import FieldType
from overture.people.models import FieldDefinition
from overture.users.models import User
from overture.web.deps import DbSession
from overture.web.guards import ConfigurationPageUser
from overture.web.pages.forms import refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, redirect, render

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


@router.post(PAGE)
def add_field(
    request: Request,
    session: DbSession,
    user: ConfigurationPageUser,
    name: Annotated[str, Form(max_length=80)],
    label: Annotated[str, Form(max_length=100)],
    type: Annotated[str, Form(max_length=10)],
    choices: Annotated[str, Form(max_length=20_000)] = "",
    visitor_fillable: Annotated[bool, Form()] = False,
) -> Response:
    try:
        row = custom_fields.add(
            session, name, label, type, choices=lines(choices), visitor_fillable=visitor_fillable, now=utcnow()
        )
    except (InvalidInput, Conflict) as exc:
        form = {"name": name, "label": label, "type": type, "choices": choices, "visitor_fillable": visitor_fillable}
        return _list_page(request, session, user, **refuse(session, exc, form).shown())
    flash(request, f"{row.name} is added. Dialogues can capture it and audience rules can use it now.", "success")
    return redirect(PAGE)


def _field_page(request: Request, user: User, row: FieldDefinition, status: int = 200, **extra: object) -> Response:
    return render(request, "admin/field.html", user, status=status, field=custom_fields.entry_of(row), **extra)


@router.get(PAGE + "/{name}")
def field_page(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    return _field_page(request, user, custom_fields.get(session, name))


@router.post(PAGE + "/{name}")
def update_field(
    request: Request,
    session: DbSession,
    user: ConfigurationPageUser,
    name: FieldName,
    label: Annotated[str, Form(max_length=100)],
    choices: Annotated[str | None, Form(max_length=20_000)] = None,
    visitor_fillable: Annotated[bool, Form()] = False,
) -> Response:
    row = custom_fields.get(session, name)
    try:
        custom_fields.update(
            session,
            row,
            label=label,
            visitor_fillable=visitor_fillable,
            choices=lines(choices) if choices is not None else None,
        )
    except InvalidInput as exc:
        refused = refuse(session, exc, {"label": label, "choices": choices, "visitor_fillable": visitor_fillable})
        return _field_page(request, user, custom_fields.get(session, name), **refused.shown())
    flash(request, f"{row.name} is saved. Its label is now '{row.label}'.", "success")
    return redirect(f"{PAGE}/{name}")


@router.post(PAGE + "/{name}/retire")
def retire_field(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    try:
        row = custom_fields.retire(session, custom_fields.get(session, name), utcnow())
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{name}")
    flash(
        request,
        f"{row.name} is retired: new dialogues and imports cannot use it. The values people have are kept.",
        "success",
    )
    return redirect(f"{PAGE}/{name}")


@router.post(PAGE + "/{name}/restore")
def restore_field(request: Request, session: DbSession, user: ConfigurationPageUser, name: FieldName) -> Response:
    try:
        row = custom_fields.restore(session, custom_fields.get(session, name))
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{name}")
    flash(request, f"{row.name} is restored, with the values it kept.", "success")
    return redirect(f"{PAGE}/{name}")
