"""Every user's own account: name and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from overture.errors import InvalidInput, Problem
from overture.users import service as users
from overture.web.deps import DbSession
from overture.web.guards import SignedInPageUser
from overture.web.pages.auth import sign_in
from overture.web.pages.forms import refuse
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()


@router.get("/admin/account")
def account_page(request: Request, user: SignedInPageUser) -> Response:
    return render(request, "admin/account.html", user)


@router.post("/admin/account/profile")
def update_profile(
    request: Request, session: DbSession, user: SignedInPageUser, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    users.update_profile(session, user, name=name)
    return succeeded(request, "Your name is saved.", "/admin/account")


@router.post("/admin/account/password")
def change_password(
    request: Request,
    session: DbSession,
    user: SignedInPageUser,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        if new_password != confirm:
            raise InvalidInput("The two new passwords differ.", [Problem("confirm", "Type the new password again.")])
        users.change_own_password(session, user, current_password, new_password)
    except InvalidInput as exc:
        # Passwords are not kept: the form comes back empty, each problem beside its field.
        return render(request, "admin/account.html", user, **refuse(session, exc, {}).shown())
    # Every session of this user ended with the new password; the one that changed it goes on as a fresh one.
    sign_in(request, session, user)
    return succeeded(request, "Your password is changed. Your other sessions are signed out.", "/admin/account")
