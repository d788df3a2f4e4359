"""Explain: the admin API and the CLI say which dialogue a person would see on a page, and why each other would not."""

from __future__ import annotations

import html
import re
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


# --- the site of the page: the one a visitor of that URL gets ------------------------------------------------------


def verdict_of(page: Any) -> str:
    found = re.search(r'<p role="status"[^>]*>\s*(.*?)\s*</p>', page.text, re.S)
    assert found, "the explain box gives a verdict"
    return html.unescape(found.group(1))


@pytest.fixture
def two_sites(db: Database) -> None:
    """www serves https://www.example.com; a dialogue for www and one for the default site (no origins), both live."""
    publish(db, {**dialogue("for-www", 1), "site": "www"})
    publish(db, {**dialogue("for-default", 1), "site": "default"})
    with db.write() as session:
        session.execute(update(Site).where(Site.key == "www").values(origins=["https://www.example.com"]))


def test_the_explain_box_answers_for_the_site_whose_origins_hold_the_page_not_the_dialogues_own(
    client: TestClient, personas: Personas, two_sites: None
) -> None:
    sign_in(client, personas.mark)
    other_site = client.get("/admin/dialogues/for-default", params={"explain_url": PRICING})
    assert verdict_of(other_site) == "It would not show: belongs to site default; this page is on site www."
    assert "Visitors of this page get the dialogues of site <code>www</code>." in other_site.text
    own_site = client.get("/admin/dialogues/for-www", params={"explain_url": PRICING})
    assert verdict_of(own_site) == "It would show."


def test_the_explain_box_says_no_dialogue_shows_on_a_page_no_site_allows(
    client: TestClient, personas: Personas, two_sites: None
) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/dialogues/for-default", params={"explain_url": "https://elsewhere.test/pricing"})
    assert verdict_of(page) == (
        "It would not show: no site allows https://elsewhere.test, so the widget is refused on its pages."
    )


def test_overtures_own_demo_pages_are_on_the_demo_website(
    client: TestClient, personas: Personas, two_sites: None
) -> None:
    sign_in(client, personas.mark)
    demo_page = "http://testserver/demo/pricing"  # the demo website, served by this Overture (base_url)
    assert verdict_of(client.get("/admin/dialogues/for-www", params={"explain_url": demo_page})) == "It would show."
    assert verdict_of(client.get("/admin/dialogues/for-default", params={"explain_url": demo_page})) == (
        "It would not show: belongs to site default; this page is on site www."
    )


def test_the_api_names_no_site_for_a_page_no_site_allows(
    client: TestClient, db: Database, personas: Personas, two_sites: None
) -> None:
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    answer = client.post("/api/v1/admin/targeting/explain", json={"url": "https://elsewhere.test/"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["site"] is None
    assert not any(verdict["shown"] for verdict in answer.json()["dialogues"])


def test_an_address_in_capitals_is_explained_like_the_same_address_in_lower_case(
    client: TestClient, db: Database, personas: Personas, database_url: str, tmp_path: Path, two_sites: None
) -> None:
    shouting = "HTTPS://WWW.Example.COM:443/pricing"
    sign_in(client, personas.mark)
    assert verdict_of(client.get("/admin/dialogues/for-www", params={"explain_url": shouting})) == "It would show."
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    answer = client.post("/api/v1/admin/targeting/explain", json={"url": shouting}, headers=headers).json()
    assert (answer["site"], answer["url"]) == ("www", PRICING)
    env = {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(main, ["targeting", "explain", "--url", shouting], env=env)
    assert result.exit_code == 0, result.output
    assert f"{PRICING} on site www for a new anonymous visitor" in result.output
