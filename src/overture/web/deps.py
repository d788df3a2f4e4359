"""Request dependencies, declared once: the database session, the signed-in user, role guards, CSRF.

Routes say what they need with these aliases (`DbSession`, `RowId`) and their area's guard, named once in
web/guards.py from the guard classes here; a test walks every route and proves each admin route carries a guard.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from overture import client_addresses
from overture.db import Database, utcnow, workers_to_wake
from overture.errors import Forbidden, OvertureError, Unauthenticated
from overture.users import service as users
from overture.users.models import User
from overture.users.roles import ROLE_LABELS, Area, Role, can_open
from overture.users.sessions import user_for_session
from overture.web.context import AppContext

# Ids in paths: a number the database can hold (a larger one is a clear 422, not an overflow deep inside).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The row's id.")]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The key of the signed cookie holding the server-side session's id (the cookie holds the CSRF token and flash
# messages too; who is signed in is decided by the user_sessions row only).
SESSION_ID = "sid"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


def _finish(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request, context: Context) -> AsyncIterator[Session]:
    """One session per request, committed when the route returns normally and rolled back when it raises.

    Unsafe methods start a writing transaction (BEGIN IMMEDIATE on SQLite) so concurrent writers queue. Making a
    session does no I/O, so it happens on the event loop; committing does, so it runs in the thread pool, in one
    hop with closing (each hop into the pool costs about as much as a small query).
    """
    session = context.db.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_finish, session, False)
        raise
    await run_in_threadpool(_finish, session, True)
    for worker in workers_to_wake(session):
        await run_in_threadpool(context.jobs.wake, worker)


DbSession = Annotated[Session, Depends(get_session, scope="function")]


class SignInRequired(Unauthenticated):
    """Raised for pages: the error handler sends the browser to the sign-in page and back."""


def client_address(request: Request) -> str:
    """The peer's address, or the one a trusted proxy forwarded: the app's ProxyHeadersMiddleware (set up with
    OVERTURE_FORWARDED_ALLOW_IPS) has already put it in the scope."""
    return request.client.host if request.client else "unknown"


def throttled_address(request: Request) -> str:
    """What sign-in failures from this client are counted under: a keyed hash of its address, or the address
    itself under OVERTURE_FULL_IP_ADDRESSES (overture.client_addresses)."""
    context = request.app.state.context
    return client_addresses.throttle_key(
        client_address(request), context.settings.full_ip_addresses, context.secret_key
    )


def session_user(request: Request, session: DbSession) -> User | None:
    """The user of the request's server-side session, if it is still live (see overture.users.sessions)."""
    secret = request.session.get(SESSION_ID) if "session" in request.scope else None
    if not isinstance(secret, str):
        return None
    settings = request.app.state.context.settings
    idle = timedelta(seconds=settings.session_idle_timeout) if settings.session_idle_timeout else None
    user = user_for_session(session, secret, utcnow(), idle)
    if user is None:
        request.session.pop(SESSION_ID, None)
    return user


def signed_in_user(request: Request, db: Database) -> User | None:
    """The signed-in user outside a route (error pages keep their navigation); None when there is none."""
    try:
        with db.read() as session:
            return session_user(request, session)
    except Exception:
        return None  # an error page must render even when the database is the error


def require_page_user(user: Annotated[User | None, Depends(session_user)]) -> User:
    if user is None:
        raise SignInRequired()
    return user


PageUser = Annotated[User, Depends(require_page_user)]


def require_api_user(request: Request, session: DbSession) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(
            "Send an API token: Authorization: Bearer TOKEN (create one with `overture users token`)."
        )
    user = users.user_for_token(session, secret.strip(), utcnow())
    if user is None:
        raise Unauthenticated("The API token is not valid: it is unknown, revoked, or its user is deactivated.")
    return user


ApiUser = Annotated[User, Depends(require_api_user)]

# Declares the admin API's bearer token in the OpenAPI description (every admin operation names it); checking the
# token stays require_api_user's, so this refuses nothing itself.
API_TOKEN = Depends(
    HTTPBearer(
        scheme_name="apiToken",
        description="An API token made with `overture users token EMAIL`, sent as `Authorization: Bearer TOKEN`.",
        auto_error=False,
    )
)


class AreaGuard:
    """Allows the request only when the user's role may open `area`. Works for pages and the API."""

    def __init__(self, area: Area, *, api: bool) -> None:
        self.area = area
        self.api = api

    def __call__(self, request: Request, session: DbSession) -> User:
        user = require_api_user(request, session) if self.api else require_page_user(session_user(request, session))
        if not can_open(user.role, self.area):
            raise Forbidden(
                f"Your role ({ROLE_LABELS[Role(user.role)]}) does not give access to {self.area.value.title()}."
            )
        return user


class AnyUserGuard:
    """Allows any signed-in user (their own account page, the home page)."""

    def __init__(self, *, api: bool) -> None:
        self.api = api

    def __call__(self, request: Request, session: DbSession) -> User:
        if self.api:
            return require_api_user(request, session)
        return require_page_user(session_user(request, session))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


class CsrfFailed(OvertureError):
    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. Reload the page and try again.", [], 403
        )


async def csrf_protect(request: Request) -> None:
    """Refuses a state-changing form whose token is not the session's (same-site forms only)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(expected, sent):
        raise CsrfFailed()
