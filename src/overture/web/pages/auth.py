"""Sign in, sign out, the home page, and setting a password through a one-time link."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from overture.users import service as users
from overture.users.models import User
from overture.web.deps import AnyUserGuard, DbSession, client_address, session_user
from overture.web.pages.rendering import flash, page_router, redirect, render, safe_next

router = page_router()


def sign_in(request: Request, user: User) -> None:
    # A fresh session on sign-in: nothing an attacker planted before (fixation) survives.
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch})


@router.get("/admin")
def home(request: Request, user: Annotated[User, Depends(AnyUserGuard(api=False))]) -> Response:
    return render(request, "admin/home.html", user)


@router.get("/admin/login")
def login_page(
    request: Request, user: Annotated[User | None, Depends(session_user)], next: str | None = None
) -> Response:
    if user is not None:
        return redirect(safe_next(next))
    return render(request, "admin/login.html", None, next=safe_next(next), email="")


@router.post("/admin/login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2000)] = "/admin",
) -> Response:
    try:
        user = users.authenticate(session, email, password, client_address(request), utcnow())
    except (Unauthenticated, TooManyAttempts) as exc:
        session.commit()  # count the failure even though we answer with an error
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        response = render(
            request, "admin/login.html", None, status=exc.status, error=exc.message, next=safe_next(next), email=email
        )
        response.headers.update(headers)
        return response
    sign_in(request, user)
    return redirect(safe_next(next))


@router.post("/admin/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    flash(request, "You are signed out.")
    return redirect("/admin/login")


@router.get("/admin/reset/{token}")
def reset_page(request: Request, session: DbSession, token: str) -> Response:
    try:
        account = users.check_password_reset(session, token, utcnow())
    except NotFound as exc:
        return render(request, "admin/reset.html", None, status=404, invalid=exc.message)
    return render(request, "admin/reset.html", None, account=account)


@router.post("/admin/reset/{token}")
def reset(
    request: Request,
    session: DbSession,
    token: str,
    password: Annotated[str, Form(max_length=256)],
    confirm: Annotated[str, Form(max_length=256)],
) -> Response:
    try:
        account = users.check_password_reset(session, token, utcnow())
    except NotFound as exc:
        return render(request, "admin/reset.html", None, status=404, invalid=exc.message)
    if password != confirm:
        return render(request, "admin/reset.html", None, status=422, account=account, error="The two passwords differ.")
    try:
        account = users.complete_password_reset(session, token, password, utcnow())
    except InvalidInput as exc:
        message = exc.problems[0].message if exc.problems else exc.message
        return render(request, "admin/reset.html", None, status=422, account=account, error=message)
    sign_in(request, account)
    flash(request, "Your password is set. Welcome!", "success")
    return redirect("/admin")
