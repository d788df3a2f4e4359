"""Users of the admin: accounts, roles, sign-in with throttling, API tokens and password resets.

Every function takes the caller's session and leaves committing to it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput, NotFound, Problem, TooManyAttempts, Unauthenticated
from overture.mail import service as mail
from overture.mail.schemas import NewMessage
from overture.mail.templates import render
from overture.users.models import ApiToken, LoginThrottle, PasswordReset, User
from overture.users.passwords import check_new_password, hash_password, verify_password
from overture.users.roles import Role
from overture.users.sessions import end_all_sessions

TOKEN_PREFIX = "ovt_"
RESET_LIFETIME = timedelta(hours=24)
# Sign-in throttling, per network address and per account (the email tried): the first FREE_FAILURES are free,
# then each attempt must wait twice as long as the one before (2 s, 4 s, ...); an hour without failures forgives.
# Attempts refused while waiting do not count, so the wait never grows past its cap: an address waits at most 15
# minutes, an account at most 5, so that someone failing on purpose cannot keep its owner out for longer.
FREE_FAILURES = 5
MAX_DELAY = {"address": timedelta(minutes=15), "account": timedelta(minutes=5)}
FORGIVE_AFTER = timedelta(hours=1)
# Recording every use of a token would turn each API read into a write; once a minute is enough to show.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)

SIGN_IN_FAILED = "The email or password is not right."


def forget_old_failures(session: Session, now: datetime) -> int:
    """Deletes the failure counts an hour without failures has forgiven (they count from zero anyway); returns how
    many."""
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGIVE_AFTER))
    return int(result.rowcount)  # type: ignore[attr-defined]


def normalize_email(email: str, field: str = "email") -> str:
    """The address in the form we store (lower case); raises InvalidInput when it is not an address."""
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("The email address is not valid.", [Problem(field, str(exc))]) from None
    return valid.normalized.lower()


def parse_role(role: str, field: str = "role") -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput("Unknown role.", [Problem(field, f"Choose one of: {allowed}.")]) from None


def check_plain_text(value: str, field: str, limit: int) -> str:
    """The value trimmed; raises InvalidInput when too long or holding control characters (which PostgreSQL and
    every screen refuse)."""
    if len(value) > limit:
        raise InvalidInput(f"The {field} is too long.", [Problem(field, f"Use at most {limit} characters.")])
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise InvalidInput(f"The {field} has invisible control characters.", [Problem(field, "Remove them.")])
    return value.strip()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- accounts -----------------------------------------------------------------------------------------------


def create_user(session: Session, email: str, role: str, name: str = "", password: str | None = None) -> User:
    """Creates an active user; raises InvalidInput for a bad address, role or password, Conflict if it exists."""
    address = normalize_email(email)
    checked_role = parse_role(role)
    name = check_plain_text(name, "name", 200)
    if password is not None:
        check_new_password(password)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"A user with the email {address} already exists.", [Problem("email", "Already in use.")])
    user = User(email=address, name=name, role=checked_role.value)
    if password is not None:
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.tokens)).order_by(User.email)).all())


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"There is no user with the email {email.strip()}.")
    return user


def _ensure_another_active_admin(session: Session, user: User, action: str) -> None:
    if user.role != Role.admin or not user.is_active:
        return
    # Lock the admin rows on PostgreSQL so two admins cannot demote each other at the same moment;
    # on SQLite the writing transaction (BEGIN IMMEDIATE) already serialises this.
    others = session.scalars(
        select(User.id)
        .where(User.role == Role.admin.value, User.is_active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    if not others:
        raise Conflict(f"{user.email} is the last active admin and cannot be {action}. Make another user admin first.")


def change_role(session: Session, user: User, role: str) -> User:
    new_role = parse_role(role)
    if new_role != user.role:
        _ensure_another_active_admin(session, user, "demoted")
        user.role = new_role.value
    return user


def update_profile(session: Session, user: User, *, name: str) -> User:
    user.name = check_plain_text(name, "name", 200)
    return user


def set_active(session: Session, user: User, active: bool, actor: User | None = None) -> User:
    """Activates or deactivates; a deactivated user's sessions and tokens stop working at once.

    `actor`, the user making the change, may not deactivate themselves (they would be locked out mid-click).
    """
    if not active and actor is not None and actor.id == user.id:
        raise Conflict("You cannot deactivate yourself. Ask another admin to do it.")
    if not active and user.is_active:
        _ensure_another_active_admin(session, user, "deactivated")
        end_all_sessions(session, user.id)
    user.is_active = active
    return user


def set_password(session: Session, user: User, password: str, field: str = "password") -> None:
    """Sets a new password, ends every session of the user (the caller may start a fresh one for the person who
    changed it) and voids every password link not used yet: a link or a cookie taken before the change is dead."""
    check_new_password(password, field)
    now = utcnow()
    user.password_hash = hash_password(password)
    end_all_sessions(session, user.id, now)
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    # Failures counted against the old password say nothing about the new one.
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.kind == "account", LoginThrottle.key == _account_key(user.email))
    )


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise InvalidInput("The current password is not right.", [Problem("current_password", "Not right.")])
    set_password(session, user, new, field="new_password")


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


# --- sign-in ------------------------------------------------------------------------------------------------


def _throttle_delay(kind: str, failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    # The exponent is bounded so that a huge count cannot overflow timedelta before the cap applies.
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES + 1, 20)), MAX_DELAY[kind])


def _account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _address_key(address: str) -> str:
    # A forwarded address comes from a header; one longer than any real address is kept by its hash.
    return address if len(address) <= 64 else hashlib.sha256(address.encode()).hexdigest()


def _count_failure(session: Session, kind: str, key: str, now: datetime) -> None:
    """Adds one failure in one statement (insert, or add to the row another process may be adding to as well), so
    that concurrent failures are all counted and two first failures do not collide on the primary key."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    forgiven = LoginThrottle.last_failure_at < now - FORGIVE_AFTER
    session.execute(
        insert(LoginThrottle)
        .values(kind=kind, key=key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.kind, LoginThrottle.key],
            set_={"failures": case((forgiven, 1), else_=LoginThrottle.failures + 1), "last_failure_at": now},
        )
    )


def authenticate(session: Session, email: str, password: str, address: str, now: datetime) -> User:
    """Returns the active user with this email and password.

    Raises TooManyAttempts while the address or the account must wait after repeated failures (even for the right
    password: otherwise the wait would only slow down wrong guesses), and Unauthenticated with the same message
    whether the email is unknown, the password wrong or the user deactivated. The caller commits even on failure,
    so that the failure is counted.
    """
    keys = (("address", _address_key(address)), ("account", _account_key(email)))
    wait = timedelta(0)
    for kind, key in keys:
        # Locked (PostgreSQL; SQLite's writing transaction holds the database already), always in this order: a
        # burst of concurrent attempts is checked one after another, each seeing the failures before it.
        throttle = session.get(LoginThrottle, (kind, key), with_for_update=True)
        delay = _throttle_delay(kind, throttle.failures) if throttle is not None else timedelta(0)
        # No delay, no wait: a concurrent attempt that began earlier may read a failure stamped after its own now.
        if throttle is not None and delay and now - throttle.last_failure_at <= FORGIVE_AFTER:
            wait = max(wait, throttle.last_failure_at + delay - now)
    if wait > timedelta(0):
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise TooManyAttempts(f"Too many failed sign-ins. Try again in {seconds} seconds.", retry_after=seconds)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        for kind, key in keys:
            _count_failure(session, kind, key, now)
        raise Unauthenticated(SIGN_IN_FAILED)
    for kind, key in keys:
        session.execute(delete(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key))
    user.last_login_at = now
    return user


# --- API tokens ---------------------------------------------------------------------------------------------


def create_token(session: Session, user: User, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Creates a token for `user`; returns the row and the token itself, which is never stored or shown again."""
    label = check_plain_text(name, "name", 100) or f"token {now:%Y-%m-%d %H:%M}"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=label, token_hash=_hash_token(secret), prefix=secret[:12], created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, token_id: int, now: datetime, owner: User | None = None) -> ApiToken:
    """Revokes a token (only one of `owner`'s when given); revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise NotFound(f"There is no API token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def user_for_token(session: Session, secret: str, now: datetime) -> User | None:
    """The active user a valid, unrevoked token belongs to; None otherwise."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


# --- password resets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetLink:
    url: str
    expires_at: datetime
    message_id: int


def start_password_reset(
    session: Session, user: User, base_url: str, now: datetime, invited: bool = False
) -> ResetLink:
    """Creates a one-time link, mails it to the user through the outbox, and returns it (admins may show it)."""
    if not user.is_active:
        raise Conflict(f"{user.email} is deactivated; activate the user before sending a password link.")
    secret = secrets.token_urlsafe(32)
    expires_at = now + RESET_LIFETIME
    session.add(PasswordReset(user_id=user.id, token_hash=_hash_token(secret), created_at=now, expires_at=expires_at))
    url = f"{base_url}/admin/reset/{secret}"
    body = render(
        "password_reset.txt",
        name=user.name,
        email=user.email,
        link=url,
        base_url=base_url,
        invited=invited,
        hours=int(RESET_LIFETIME.total_seconds() // 3600),
    )
    subject = "Your Overture account" if invited else "Reset your Overture password"
    message = mail.enqueue(session, NewMessage(to=[user.email], subject=subject, text_body=body, kind="password_reset"))
    return ResetLink(url=url, expires_at=expires_at, message_id=message.id)


def _usable_reset(session: Session, secret: str, now: datetime) -> PasswordReset:
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash_token(secret)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound(
            "This password link is not valid: it was used already, the password was changed since it was sent, "
            "it has expired, or it was mistyped."
        )
    return reset


def check_password_reset(session: Session, secret: str, now: datetime) -> User:
    """The user a usable reset link is for; raises NotFound for a used, expired or unknown link."""
    return get_user(session, _usable_reset(session, secret, now).user_id)


def complete_password_reset(session: Session, secret: str, password: str, now: datetime) -> User:
    """Sets the password through a one-time link and uses the link up."""
    reset = _usable_reset(session, secret, now)
    user = get_user(session, reset.user_id)
    if not user.is_active:
        raise NotFound("This password link is not valid: the account is deactivated.")
    set_password(session, user, password)
    reset.used_at = now
    return user
