"""The experiment API refuses what it cannot do, saying why, changes nothing when it refuses, and answers only
those who may read reports (the report) or edit dialogues (promoting)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics.reports import offer
from conversations.test_assignment import experiment_offer
from overture.db import Database
from overture.dialogues.models import Dialogue
from overture.dialogues.validation import parse_document

from support import Personas, publish, token_for

EXPERIMENT = "/api/v1/admin/reports/dialogues/offer/experiment"
PROMOTE = "/api/v1/admin/dialogues/offer/experiment/promote"


@pytest.fixture
def mark(db: Database, personas: Personas) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


def live_version(db: Database) -> int | None:
    with db.read() as session:
        return session.scalar(select(Dialogue.published_version).where(Dialogue.key == "offer"))


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    return body


def test_promoting_an_unknown_variant_is_refused_naming_the_variants_and_publishes_nothing(
    client: TestClient, db: Database, mark: dict[str, str]
) -> None:
    publish(db, experiment_offer())
    body = refused(client.post(PROMOTE, json={"variant": "c"}, headers=mark), 422)
    assert body["errors"] == [{"path": "variant", "message": "There is no variant 'c': use one of a, b."}]
    assert live_version(db) == 1


def test_promoting_before_the_verdict_is_allowed_and_the_promoted_document_has_no_experiment(
    client: TestClient, db: Database, mark: dict[str, str]
) -> None:
    publish(db, experiment_offer())
    assert client.get(EXPERIMENT, headers=mark).json()["verdict"]["kind"] == "not_enough_data"
    response = client.post(PROMOTE, json={"variant": "b"}, headers=mark)
    assert response.status_code == 200, response.text
    with db.read() as session:
        dialogue = session.scalar(select(Dialogue).where(Dialogue.key == "offer"))
        assert dialogue is not None and dialogue.published_version == 2
        document, _ = parse_document(dialogue.versions[-1].document)
    assert document is not None and document.experiment is None  # type: ignore[union-attr]
    assert document.flow.cards["hello"].messages == ["Hello!"]


def test_a_draft_with_unpublished_changes_is_not_overwritten_by_promoting(
    client: TestClient, db: Database, mark: dict[str, str]
) -> None:
    publish(db, experiment_offer())
    edited = {**experiment_offer(), "name": "Offer, edited"}
    assert client.put("/api/v1/admin/dialogues/offer/draft", json={"document": edited}, headers=mark).status_code == 200
    body = refused(client.post(PROMOTE, json={"variant": "b"}, headers=mark), 409)
    assert "has changes that are not published; promoting would replace them" in body["error"]
    assert live_version(db) == 1


def test_a_dialogue_that_never_ran_an_experiment_has_no_report_and_nothing_to_promote(
    client: TestClient, db: Database, mark: dict[str, str]
) -> None:
    publish(db, offer())
    assert "'offer' has never run an experiment" in refused(client.get(EXPERIMENT, headers=mark), 404)["error"]
    body = refused(client.post(PROMOTE, json={"variant": "a"}, headers=mark), 409)
    assert body["error"] == "The live version v1 of 'offer' runs no experiment: nothing to promote."


def test_an_agent_may_neither_read_the_experiment_nor_promote(
    client: TestClient, db: Database, personas: Personas
) -> None:
    publish(db, experiment_offer())
    bob = {"Authorization": f"Bearer {token_for(db, personas.bob)}"}
    refused(client.get(EXPERIMENT, headers=bob), 403)
    refused(client.post(PROMOTE, json={"variant": "b"}, headers=bob), 403)
    assert live_version(db) == 1
