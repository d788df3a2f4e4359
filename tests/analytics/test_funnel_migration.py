"""Migration 0012 fills the funnel's columns of the conversations that were already there from their state's
path, on either engine."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.conversations.models import Conversation
from overture.db import Database, downgrade, migrate

from .reports import Chat, offer
from support import publish


@time_machine.travel(datetime(2026, 3, 16, 10, 0, tzinfo=UTC), tick=False)
def test_conversations_of_before_the_upgrade_get_the_cards_of_their_path(client: TestClient, db: Database) -> None:
    publish(db, offer())
    signed_up, waiting = Chat(client), Chat(client)
    signed_up.open()
    signed_up.choose("0")
    signed_up.type("ada@example.com")
    waiting.open()

    downgrade(db.engine, "0011")
    migrate(db.engine)

    with db.read() as session:
        rows = session.execute(select(Conversation.cards, Conversation.last_card).order_by(Conversation.id)).all()
    assert [tuple(row) for row in rows] == [(["hello", "ask_email", "thanks"], "thanks"), (["hello"], "hello")]
