"""Explain: the admin API and the CLI say which dialogue a person would see on a page, and why each other would not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update

from overture.cli import main
from overture.db import Database
from overture.dialogues import service as dialogues
from overture.people.models import Person
from overture.sites.models import Site

from support import Personas, publish, sign_in, token_for

PRICING = "https://www.example.com/pricing"


def dialogue(key: str, priority: int, **targeting: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "priority": priority,
        "site": "www",
        **targeting,
        "flow": {"start": "hi", "cards": {"hi": {"say": "Hi!", "end": True}}},
    }


@pytest.fixture
def dialogues_live(db: Database) -> int:
    """Three dialogues: one for anonymous visitors on pricing, one for everyone, one paused; and a known person."""
    publish(db, dialogue("anonymous-pricing", 10, audience={"field": "person.email", "op": "is_empty"},
                         pages={"include": [{"url": "https://www.example.com/pricing*"}]}))  # fmt: skip
    publish(db, dialogue("everyone", 1))
    publish(db, dialogue("paused-one", 50))
    with db.write() as session:
        dialogues.pause(session, dialogues.get(session, "paused-one"))
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://www.example.com"]))
        ada = Person(email="ada@example.com", fields={}, source={}, visit={})
        session.add(ada)
        session.flush()
        return ada.id


def reasons(answer: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    return {d["key"]: (d["shown"], d["reason"]) for d in answer["dialogues"]}


def test_explain_for_an_anonymous_visitor_and_for_a_known_person(
    client: TestClient, db: Database, personas: Personas, dialogues_live: int
) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    anonymous = client.post("/api/v1/admin/targeting/explain", json={"url": PRICING}, headers=headers)
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json()["site"] == "www", "the site whose allowed origins hold the URL"
    known = client.post(
        "/api/v1/admin/targeting/explain",
        json={"url": PRICING, "person_id": dialogues_live, "site": "www"},
        headers=headers,
    ).json()
    verdicts = reasons(known)
    assert verdicts["everyone"][0] is True
    assert verdicts["anonymous-pricing"][0] is False and "person.email" in verdicts["anonymous-pricing"][1]
    assert verdicts["paused-one"] == (False, "is not live (paused)")
    on_www = reasons(
        client.post("/api/v1/admin/targeting/explain", json={"url": PRICING, "site": "www"}, headers=headers).json()
    )
    assert on_www["anonymous-pricing"][0] is True
    assert on_www["everyone"][0] is False and "higher priority" in on_www["everyone"][1]


def test_explain_names_an_unknown_person(client: TestClient, db: Database, personas: Personas) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    answer = client.post("/api/v1/admin/targeting/explain", json={"url": PRICING, "person_id": 999}, headers=headers)
    assert answer.status_code == 404 and "There is no person 999" in answer.json()["error"]


def test_agents_may_not_ask(client: TestClient, db: Database, personas: Personas) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, personas.bob)}"}
    assert client.post("/api/v1/admin/targeting/explain", json={"url": PRICING}, headers=headers).status_code == 403


def test_the_cli_explains_for_a_person_found_by_email(
    database_url: str, tmp_path: Path, db: Database, dialogues_live: int
) -> None:
    env = {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(
        main, ["targeting", "explain", "--url", PRICING, "--email", "ada@example.com", "--site", "www"], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"on site www for person {dialogues_live}" in result.output
    assert "is not live (paused)" in result.output
    missing = CliRunner().invoke(main, ["targeting", "explain", "--url", PRICING, "--email", "x@y.z"], env=env)
    assert missing.exit_code == 1 and "no person has the email x@y.z" in missing.output


def test_the_dialogue_page_explains_why_it_would_or_would_not_show(
    client: TestClient, db: Database, personas: Personas, dialogues_live: int
) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/dialogues/anonymous-pricing", params={"explain_url": PRICING})
    assert "It would show." in page.text
    known = client.get(
        "/admin/dialogues/anonymous-pricing", params={"explain_url": PRICING, "explain_person": "ada@example.com"}
    )
    assert "It would not show: audience" in known.text and "everyone would show instead." in known.text
    paused = client.get("/admin/dialogues/paused-one", params={"explain_url": PRICING})
    assert "It would not show: is not live (paused)." in paused.text
    unknown = client.get("/admin/dialogues/everyone", params={"explain_url": PRICING, "explain_person": "nobody@x.y"})
    assert "No person has the email or id nobody@x.y." in unknown.text


def test_explain_names_an_address_that_cannot_be_taken_apart(
    client: TestClient, db: Database, personas: Personas, dialogues_live: int
) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    answer = client.post("/api/v1/admin/targeting/explain", json={"url": "http://["}, headers=headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["path"] == "url"
    sign_in(client, personas.mark)
    page = client.get("/admin/dialogues/everyone", params={"explain_url": "http://host:port/"})
    assert page.status_code == 200 and "not a web address" in page.text
