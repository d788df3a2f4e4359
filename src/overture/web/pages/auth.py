"""Sign in, sign out, and setting a password through a one-time link. (Home, where sign-in lands: home.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import InvalidInput, NotFound, Problem, TooManyAttempts, Unauthenticated
from overture.users import service as users
from overture.users.models import User
from overture.users.sessions import end_session, start_session
from overture.web.deps import SESSION_ID, DbSession, session_user, throttled_address
from overture.web.pages.forms import refuse
from overture.web.pages.rendering import flash, page_router, redirect, render, safe_next, succeeded

router = page_router()


def sign_in(request: Request, session: Session, user: User) -> None:
    """Starts a fresh server-side session for `user` and puts its id in the cookie."""
    sign_out(request, session)
    # A fresh cookie too: nothing an attacker planted before (fixation), CSRF token included, survives.
    request.session.clear()
    max_age = timedelta(seconds=request.app.state.context.settings.session_max_age)
    request.session[SESSION_ID] = start_session(session, user, utcnow(), max_age)


def sign_out(request: Request, session: Session) -> None:
    """Ends the request's session on the server, so that a copy of the cookie is refused from now on."""
    secret = request.session.get(SESSION_ID)
    if isinstance(secret, str):
        end_session(session, secret, utcnow())


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
        user = users.authenticate(session, email, password, throttled_address(request), utcnow())
    except (Unauthenticated, TooManyAttempts) as exc:
        session.commit()  # count the failure even though we answer with an error
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else {}
        response = render(
            request, "admin/login.html", None, status=exc.status, error=exc.message, next=safe_next(next), email=email
        )
        response.headers.update(headers)
        return response
    sign_in(request, session, user)
    return redirect(safe_next(next))


@router.post("/admin/logout")
def logout(request: Request, session: DbSession) -> Response:
    sign_out(request, session)
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
    try:
        if password != confirm:
            raise InvalidInput("The two passwords differ.", [Problem("confirm", "Type the password again.")])
        account = users.complete_password_reset(session, token, password, utcnow())
    except InvalidInput as exc:
        return render(request, "admin/reset.html", None, account=account, **refuse(session, exc, {}).shown())
    sign_in(request, session, account)
    return succeeded(request, "Your password is set. Welcome!", "/admin")
