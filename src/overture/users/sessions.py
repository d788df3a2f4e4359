"""Admin sessions kept on the server: a browser holds only a random id, so a session can be ended from here.

A session is refused once it is revoked (sign-out, a new password, deactivation), past its absolute end (set at
sign-in, never moved by use), or idle longer than the idle timeout. Every function takes the caller's session and
leaves committing to it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.users.models import User, UserSession

# Recording every page view would make each read a write; once a minute is precise enough for the idle timeout.
TOUCH_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: User, now: datetime, max_age: timedelta) -> str:
    """Records a new session for `user` ending at `now + max_age`; returns its id, which is stored only hashed."""
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id, token_hash=_hash(secret), created_at=now, last_seen_at=now, expires_at=now + max_age
        )
    )
    return secret


def user_for_session(session: Session, secret: str, now: datetime, idle_timeout: timedelta | None) -> User | None:
    """The active user of a live session; None when the session is unknown, revoked, expired or idle too long."""
    # One query for both: this runs on every admin request.
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(secret))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or now >= row.expires_at or not user.is_active:
        return None
    if idle_timeout is not None and now - row.last_seen_at >= idle_timeout:
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
    return user


def end_session(session: Session, secret: str, now: datetime) -> None:
    """Revokes one session (signing out); an unknown or already ended one is left as it is."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(secret), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_all_sessions(session: Session, user_id: int, now: datetime | None = None) -> None:
    """Revokes every session of the user (a new password, deactivation): a stolen cookie stops working at once."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


# Ended sessions are kept a day, so that "signed out" can still be told apart from "never signed in" in a support
# question; then they go.
KEEP_ENDED = timedelta(days=1)


def purge_ended(session: Session, now: datetime) -> int:
    """Deletes sessions ended (revoked or past their end) more than KEEP_ENDED ago; returns how many."""
    before = now - KEEP_ENDED
    result = session.execute(
        delete(UserSession).where(or_(UserSession.expires_at < before, UserSession.revoked_at < before))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
