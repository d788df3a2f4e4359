"""Sticky assignment of an experiment's variants (docs/experiments.md): a visitor gets the same variant in every
conversation, recorded on the conversation, and sees that variant's flow; the traffic follows the weights."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics.reports import Chat, offer
from overture.conversations.assignment import assign
from overture.conversations.models import Conversation
from overture.db import Database
from overture.dialogues.document import DialogueDocument

from support import PUBLISHED_AT, publish


def experiment_offer(weights: tuple[int, int] = (1, 1), **changes: Any) -> dict[str, Any]:
    """The offer dialogue with an A/B test of its greeting: a says "Hi!" (as written), b says "Hello!"."""
    document = offer()
    document["experiment"] = {
        "key": "greeting",
        "goal": "signed_up",
        "minimum_sample": 3,
        "variants": [{"key": "a", "weight": weights[0]}, {"key": "b", "weight": weights[1], "say": "Hello!"}],
        **changes,
    }
    return document


def test_the_traffic_split_follows_the_weights() -> None:
    document = DialogueDocument.model_validate(experiment_offer((90, 10)))
    split = Counter(assign(document, person) for person in range(1, 20_001))
    assert 0.88 < split["a"] / 20_000 < 0.92 and split["a"] + split["b"] == 20_000


def test_a_new_experiment_key_shuffles_the_visitors_afresh() -> None:
    first = DialogueDocument.model_validate(experiment_offer())
    second = DialogueDocument.model_validate(experiment_offer(key="greeting-2"))
    moved = sum(assign(first, person) != assign(second, person) for person in range(1, 1001))
    assert 400 < moved < 600  # independent: about half move


def test_a_dialogue_without_experiment_assigns_nothing() -> None:
    assert assign(DialogueDocument.model_validate(offer()), 1) is None


def test_a_visitor_sees_the_same_variant_in_every_conversation_and_it_is_recorded(
    client: TestClient, db: Database
) -> None:
    publish(db, experiment_offer())
    greetings: dict[str, str] = {}
    while len(set(greetings.values())) < 2:  # new visitors until both variants are seen
        assert len(greetings) < 30
        chat = Chat(client)
        first = chat.open()["messages"][0]["text"]
        for again in range(2):  # the same browser comes back, on another page
            chat.close()
            assert chat.open(page=f"https://example.com/p{again}")["messages"][0]["text"] == first
        greetings[chat.visitor_id] = first
    with db.read() as session:
        rows = session.execute(select(Conversation.visitor_id, Conversation.variant)).all()
    assert len(rows) == 3 * len(greetings)
    assert set(rows) == {(visitor, {"Hi!": "a", "Hello!": "b"}[text]) for visitor, text in greetings.items()}


def test_a_restart_goes_back_to_the_variants_first_card(client: TestClient, db: Database) -> None:
    publish(db, experiment_offer((1, 1_000_000)))  # everybody gets b
    chat = Chat(client)
    assert chat.open()["messages"][0]["text"] == "Hello!"
    chat.choose("0")
    restarted = chat.send("restart", {"step": chat.step})
    assert restarted["messages"][-1]["text"] == "Hello!"


def test_conversations_already_running_keep_their_variant_when_the_experiment_ends(
    client: TestClient, db: Database
) -> None:
    publish(db, experiment_offer((1, 1_000_000)))
    chat = Chat(client)
    chat.open()
    publish(db, offer(), now=PUBLISHED_AT + timedelta(days=1))  # v2: no experiment
    with db.read() as session:
        assert session.scalar(select(Conversation.variant)) == "b"
    assert chat.choose("0")["expected"]["kind"] == "email"  # it goes on, on version 1
