"""Ending a conversation from two transactions at the same moment (two web processes, two job workers): it ends
once, with one activity, whichever gets there first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database
from racing import lined_up

from support import example, publish

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def started(db: Database) -> tuple[str, str]:
    """A running newsletter conversation: its public id and token."""
    publish(db, example("newsletter.yaml"))
    with db.write() as session:
        view = conversations.start(
            session, dialogue_key="newsletter", visitor_id=None, page_url="https://example.com/", region=None, now=NOW
        )
        assert view.token is not None
        return view.conversation.public_id, view.token


def twice_at_once(db: Database, public_id: str, call: Callable[[Session], T]) -> list[T]:
    """Runs `call` in two writing transactions at once, both having read the conversation before either writes."""
    both = threading.Barrier(2)

    def run(_: int) -> T:
        both.wait()
        with db.write() as session:
            return call(session)

    with ThreadPoolExecutor(max_workers=2) as pool:
        with lined_up(db, select(Conversation.id).where(Conversation.public_id == public_id), contenders=2):
            results = [pool.submit(run, number) for number in range(2)]
        return [result.result() for result in results]


def ending_activities(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Activity.type).where(Activity.type != "dialogue.triggered")))


def test_a_conversation_dismissed_twice_at_once_records_one_dismissal(db: Database) -> None:
    public_id, token = started(db)
    later = NOW + timedelta(minutes=1)

    views = twice_at_once(db, public_id, lambda session: conversations.dismiss(session, public_id, token, later))

    assert [view.conversation.status for view in views] == ["dismissed", "dismissed"]
    assert ending_activities(db) == ["dialogue.dismissed"]


def test_two_drop_jobs_at_once_drop_a_silent_conversation_once(db: Database) -> None:
    public_id, _ = started(db)
    much_later = NOW + timedelta(hours=2)

    dropped = twice_at_once(db, public_id, lambda session: conversations.drop_abandoned(session, much_later))

    assert sorted(dropped) == [0, 1]
    assert ending_activities(db) == ["dialogue.dropped"]
