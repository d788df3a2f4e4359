"""The Users page: add users, change roles, deactivate, send password links, create and revoke API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput
from overture.users import service as users
from overture.users.models import User
from overture.users.roles import ROLE_LABELS, Area, Role, can_open
from overture.web.deps import DbSession, RowId
from overture.web.guards import UsersPageUser
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, redirect, render, succeeded

router = page_router()


@router.get("/admin/users")
def users_page(request: Request, session: DbSession, user: UsersPageUser) -> Response:
    return render(request, "admin/users.html", user, people=users.list_users(session), roles=list(Role), form={})


class NewUserForm(BaseModel):
    email: str = Field(max_length=254)
    role: str = Field(max_length=20)
    name: str = Field("", max_length=200)


@router.post("/admin/users")
def add_user(request: Request, session: DbSession, user: UsersPageUser, form: Posted[NewUserForm]) -> Response:
    try:
        added = users.create_user(session, form.email, form.role, name=form.name)
        link = users.start_password_reset(
            session, added, request.app.state.context.settings.base_url, utcnow(), invited=True
        )
    except (InvalidInput, Conflict) as exc:
        refused = refuse(session, exc, form.model_dump())
        return render(
            request, "admin/users.html", user, people=users.list_users(session), roles=list(Role), **refused.shown()
        )
    flash(
        request,
        f"{added.email} is added as {ROLE_LABELS[Role(added.role)]}. A link to choose a password was mailed.",
        "success",
        link=(f"/admin/outbox/{link.message_id}", "Read the mail in the Outbox"),
    )
    return redirect(f"/admin/users/{added.id}")


def _user_page(request: Request, user: User, person: User, status: int = 200, **extra: object) -> Response:
    # Secrets (a new token, a password link) are rendered in the answer to the POST, never kept in the cookie.
    return render(request, "admin/user.html", user, status=status, person=person, roles=list(Role), **extra)


@router.get("/admin/users/{user_id}")
def user_page(request: Request, session: DbSession, user: UsersPageUser, user_id: RowId) -> Response:
    return _user_page(request, user, users.get_user(session, user_id))


@router.post("/admin/users/{user_id}/role")
def change_role(
    request: Request, session: DbSession, user: UsersPageUser, user_id: RowId, role: Annotated[str, Form(max_length=20)]
) -> Response:
    person = users.get_user(session, user_id)
    try:
        users.change_role(session, person, role)
    except (Conflict, InvalidInput) as exc:
        return refuse_with_flash(request, session, exc, f"/admin/users/{user_id}")
    flash(request, f"{person.email} is now {ROLE_LABELS[Role(person.role)]}.", "success")
    if person.id == user.id and not can_open(person.role, Area.users):
        return redirect("/admin")  # the admin demoted themselves: the Users page is closed to them now
    return redirect(f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/active")
def set_active(
    request: Request, session: DbSession, user: UsersPageUser, user_id: RowId, active: Annotated[bool, Form()]
) -> Response:
    person = users.get_user(session, user_id)
    try:
        users.set_active(session, person, active, actor=user)
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"/admin/users/{user_id}")
    return succeeded(request, f"{person.email} is {'active' if active else 'deactivated'}.", f"/admin/users/{user_id}")


@router.post("/admin/users/{user_id}/password-link")
def send_password_link(request: Request, session: DbSession, user: UsersPageUser, user_id: RowId) -> Response:
    person = users.get_user(session, user_id)
    try:
        link = users.start_password_reset(session, person, request.app.state.context.settings.base_url, utcnow())
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"/admin/users/{user_id}")
    flash(request, f"A one-time link to set a password was mailed to {person.email}.", "success")
    return _user_page(request, user, person, shown_link=link.url)


@router.post("/admin/users/{user_id}/tokens")
def create_token(
    request: Request,
    session: DbSession,
    user: UsersPageUser,
    user_id: RowId,
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    person = users.get_user(session, user_id)
    try:
        token, secret = users.create_token(session, person, name, utcnow())
    except InvalidInput as exc:
        return refuse_with_flash(request, session, exc, f"/admin/users/{user_id}")
    # Shown once, in this answer only; only its hash is stored.
    return _user_page(request, user, person, status=201, new_token={"name": token.name, "secret": secret})


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, session: DbSession, user: UsersPageUser, user_id: RowId, token_id: RowId
) -> Response:
    person = users.get_user(session, user_id)
    token = users.revoke_token(session, token_id, utcnow(), owner=person)
    return succeeded(request, f"The token {token.name} is revoked.", f"/admin/users/{user_id}")
