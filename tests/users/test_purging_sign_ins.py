"""Ended sessions and forgiven sign-in failures do not pile up: the hourly job deletes them, and only them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from overture.db import Database
from overture.users import service as users
from overture.users import sessions
from overture.users.models import LoginThrottle, User, UserSession

from support import Personas

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_sessions_ended_over_a_day_ago_go_and_the_others_stay(db: Database, personas: Personas) -> None:
    with db.write() as session:
        alice = session.get(User, personas.alice.id)
        assert alice is not None
        expired_long_ago = sessions.start_session(session, alice, NOW - 3 * DAY, max_age=timedelta(hours=12))
        signed_out_long_ago = sessions.start_session(session, alice, NOW - 2 * DAY, max_age=timedelta(hours=12))
        sessions.end_session(session, signed_out_long_ago, NOW - 2 * DAY + timedelta(hours=1))
        signed_out_just_now = sessions.start_session(session, alice, NOW - timedelta(hours=2), timedelta(hours=12))
        sessions.end_session(session, signed_out_just_now, NOW - timedelta(hours=1))
        live = sessions.start_session(session, alice, NOW - timedelta(hours=1), max_age=timedelta(hours=12))
        assert expired_long_ago != live

    with db.write() as session:
        assert sessions.purge_ended(session, NOW) == 2

    with db.read() as session:
        left = list(session.scalars(select(UserSession.created_at).order_by(UserSession.created_at)))
        assert left == [NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
        assert sessions.user_for_session(session, live, NOW, idle_timeout=None) is not None


def test_failures_an_hour_has_forgiven_go_and_recent_ones_stay(db: Database) -> None:
    with db.write() as session:
        session.add(
            LoginThrottle(kind="address", key="192.0.2.1", failures=7, last_failure_at=NOW - 2 * users.FORGIVE_AFTER)
        )
        session.add(
            LoginThrottle(kind="address", key="192.0.2.2", failures=3, last_failure_at=NOW - timedelta(minutes=5))
        )

    with db.write() as session:
        assert users.forget_old_failures(session, NOW) == 1

    with db.read() as session:
        assert list(session.scalars(select(LoginThrottle.key))) == ["192.0.2.2"]
