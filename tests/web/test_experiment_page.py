"""The experiment page: each variant's figures and the verdict in words; promoting a variant that has not clearly
won asks to confirm first and publishes nothing until confirmed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics.reports import Chat, offer
from conversations.test_assignment import experiment_offer
from overture.db import Database
from overture.dialogues.models import Dialogue

from support import Personas, post_form, publish, sign_in

PAGE = "/admin/reports/dialogues/offer/experiment"


def live_version(db: Database) -> int | None:
    with db.read() as session:
        return session.scalar(select(Dialogue.published_version).where(Dialogue.key == "offer"))


def test_the_page_shows_each_variant_and_the_verdict(client: TestClient, db: Database, personas: Personas) -> None:
    publish(db, experiment_offer(minimum_sample=200))
    Chat(client).open()
    sign_in(client, personas.mark)
    page = client.get(PAGE)
    assert page.status_code == 200, page.text
    assert "Not enough data yet (0 of 200 visitors in variant " in page.text
    assert '<th scope="row">a' in page.text and '<th scope="row">b' in page.text
    assert "the flow as written" in page.text and "says &#34;Hello!&#34;" in page.text
    assert "Promote&nbsp;b" in page.text


def test_promoting_before_the_result_is_clear_asks_to_confirm_then_publishes(
    client: TestClient, db: Database, personas: Personas
) -> None:
    publish(db, experiment_offer(minimum_sample=200))
    sign_in(client, personas.mark)
    asked = post_form(client, f"{PAGE}/promote", {"variant": "b"}, page=PAGE)
    assert asked.status_code == 200  # type: ignore[attr-defined]
    assert "The result is not clear yet." in asked.text  # type: ignore[attr-defined]
    assert "Promote variant b anyway" in asked.text  # type: ignore[attr-defined]
    assert live_version(db) == 1

    done = post_form(client, f"{PAGE}/promote", {"variant": "b", "confirm": "yes"}, page=PAGE)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert live_version(db) == 2
    after = client.get(PAGE).text
    assert "Variant b is the flow now: version 2 is published and live." in after
    assert "Ended" in after and "Promote&nbsp;b" not in after


def test_an_unknown_variant_is_refused_on_the_page(client: TestClient, db: Database, personas: Personas) -> None:
    publish(db, experiment_offer(minimum_sample=200))
    sign_in(client, personas.mark)
    refused = post_form(client, f"{PAGE}/promote", {"variant": "z", "confirm": "yes"}, page=PAGE)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "There is no variant &#39;z&#39;: use one of a, b." in refused.text  # type: ignore[attr-defined]
    assert live_version(db) == 1


def test_a_dialogue_without_experiment_says_how_to_start_one(
    client: TestClient, db: Database, personas: Personas
) -> None:
    publish(db, offer())
    sign_in(client, personas.mark)
    assert "has never run an experiment" in client.get(PAGE).text


def test_an_agent_cannot_open_the_page(client: TestClient, db: Database, personas: Personas) -> None:
    publish(db, experiment_offer())
    sign_in(client, personas.bob)
    assert client.get(PAGE).status_code == 403
