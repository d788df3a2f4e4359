"""The admin API for dialogues and flows: create, edit the draft with its revision, validate, publish versions,
pause/resume/archive/clone, read versions; marketers and admins only, errors in the one JSON shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from overture.db import Database
from overture.dialogues.document import DialogueDocument, FlowDocument, document_to_data
from overture.dialogues.yaml_io import load_yaml

from support import Personas, token_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dialogues"
BASE = "/api/v1/admin/dialogues"


def example(name: str) -> dict[str, Any]:
    """An example file as the JSON the API takes (dates as text)."""
    data, problems = load_yaml((EXAMPLES / name).read_text(encoding="utf-8"))
    assert problems == []
    model = FlowDocument if name.startswith("flows/") else DialogueDocument
    return document_to_data(model.model_validate(data))


def document(key: str = "demo", name: str = "Demo", **cards: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "greet": {"say": "Hi!", "buttons": [{"label": "Sure", "goto": "bye"}, {"label": "No", "goto": "bye"}]},
        "bye": {"say": "Thanks!", "end": True},
    }
    return {"key": key, "name": name, "flow": {"start": "greet", "cards": {**base, **cards}}}


NOWHERE = {"say": "Hi!", "goto": "nowhere"}


@pytest.fixture
def mark(db: Database, personas: Personas) -> dict[str, str]:
    """The headers of mark, a marketer."""
    return {"Authorization": f"Bearer {token_for(db, personas.mark)}"}


def create(client: TestClient, headers: dict[str, str], data: dict[str, Any], kind: str = "dialogue") -> Any:
    response = client.post(BASE, params={"kind": kind}, json=data, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


# --- list, create, get ---------------------------------------------------------------------------------------------


def test_a_marketer_lists_dialogues_and_flows_with_their_state(client: TestClient, mark: dict[str, str]) -> None:
    assert client.get(BASE, headers=mark).json() == []
    create(client, mark, example("flows/qualify.yaml"), "flow")
    create(client, mark, example("pricing-demo.yaml"))
    client.post(f"{BASE}/pricing-demo/publish", headers=mark)

    listed = client.get(BASE, headers=mark)
    assert listed.status_code == 200
    summaries = {item["key"]: item for item in listed.json()}
    assert set(summaries) == {"qualify", "pricing-demo"}
    pricing = summaries["pricing-demo"]
    assert (pricing["kind"], pricing["name"], pricing["status"], pricing["published_version"]) == (
        "dialogue",
        "Pricing page — book a demo",
        "published",
        1,
    )
    assert pricing["unpublished_changes"] is False
    assert (summaries["qualify"]["status"], summaries["qualify"]["published_version"]) == ("draft", None)
    assert summaries["qualify"]["unpublished_changes"] is True
    assert [item["key"] for item in client.get(BASE, params={"kind": "flow"}, headers=mark).json()] == ["qualify"]


def test_creating_answers_201_with_the_draft_and_what_stops_its_publishing(
    client: TestClient, mark: dict[str, str]
) -> None:
    created = client.post(BASE, json=document(greet=NOWHERE), headers=mark)
    assert created.status_code == 201
    body = created.json()
    assert (body["key"], body["kind"], body["status"], body["revision"], body["published_version"]) == (
        "demo",
        "dialogue",
        "draft",
        1,
        None,
    )
    assert body["draft"] == document(greet=NOWHERE)
    assert [p["path"] for p in body["problems"]] == ["flow.cards.greet.goto", "flow.cards.bye"]
    assert body["problems"][0]["message"].startswith("The card 'greet' goes to 'nowhere'")


def test_creating_a_document_of_the_wrong_shape_is_refused_with_every_problem(
    client: TestClient, mark: dict[str, str]
) -> None:
    data = document()
    del data["name"]
    data["flow"]["cards"]["bye"]["sya"] = "typo"
    response = client.post(BASE, json=data, headers=mark)
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert body["error"] == "The dialogue has 2 problems."
    assert [p["path"] for p in body["errors"]] == ["name", "flow.cards.bye.sya"]
    assert client.get(BASE, headers=mark).json() == []


def test_creating_a_key_that_exists_is_a_conflict(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document())
    again = client.post(BASE, json=document(), headers=mark)
    assert again.status_code == 409
    assert again.json() == {
        "ok": False,
        "error": "A dialogue or flow with the key 'demo' exists already.",
        "errors": [{"path": "key", "message": "In use."}],
        "status": 409,
    }


def test_get_returns_the_draft_with_its_revision_and_problems(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, example("newsletter.yaml"))
    response = client.get(f"{BASE}/newsletter", headers=mark)
    assert response.status_code == 200
    body = response.json()
    assert body["draft"] == example("newsletter.yaml")
    assert (body["revision"], body["problems"]) == (1, [])


def test_an_unknown_key_is_404_in_the_error_shape(client: TestClient, mark: dict[str, str]) -> None:
    response = client.get(f"{BASE}/nope", headers=mark)
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error": "There is no dialogue or flow with the key 'nope'.",
        "errors": [],
        "status": 404,
    }


# --- the draft -----------------------------------------------------------------------------------------------------


def test_saving_the_draft_with_its_revision_moves_to_the_next_revision(
    client: TestClient, mark: dict[str, str]
) -> None:
    create(client, mark, document())
    saved = client.put(f"{BASE}/demo/draft", json={"document": document(name="Renamed"), "revision": 1}, headers=mark)
    assert saved.status_code == 200
    body = saved.json()
    assert (body["name"], body["revision"], body["draft"]["name"]) == ("Renamed", 2, "Renamed")


def test_saving_a_stale_revision_is_409_and_keeps_the_newer_draft(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document())
    client.put(f"{BASE}/demo/draft", json={"document": document(name="First save"), "revision": 1}, headers=mark)
    stale = client.put(f"{BASE}/demo/draft", json={"document": document(name="Stale"), "revision": 1}, headers=mark)
    assert stale.status_code == 409
    body = stale.json()
    assert body["ok"] is False and body["status"] == 409 and body["errors"] == []
    assert body["error"] == "Someone else saved 'demo' meanwhile. Reload it, then make your change again."
    current = client.get(f"{BASE}/demo", headers=mark).json()
    assert (current["name"], current["revision"]) == ("First save", 2)


def test_a_draft_with_problems_is_saved_and_they_are_listed(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document())
    saved = client.put(f"{BASE}/demo/draft", json={"document": document(greet=NOWHERE), "revision": 1}, headers=mark)
    assert saved.status_code == 200
    assert [p["path"] for p in saved.json()["problems"]] == ["flow.cards.greet.goto", "flow.cards.bye"]


def test_a_draft_of_the_wrong_shape_or_another_key_is_not_saved(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document())
    shape = client.put(f"{BASE}/demo/draft", json={"document": {"key": "demo"}, "revision": 1}, headers=mark)
    assert shape.status_code == 422
    assert {p["path"] for p in shape.json()["errors"]} == {"name", "flow"}
    other = client.put(f"{BASE}/demo/draft", json={"document": document("other"), "revision": 1}, headers=mark)
    assert other.status_code == 422
    assert other.json()["errors"] == [{"path": "key", "message": "This is 'demo'; clone it for another key."}]
    unknown = client.put(f"{BASE}/demo/draft", json={"document": document(), "revison": 1}, headers=mark)
    assert unknown.status_code == 422
    assert client.get(f"{BASE}/demo", headers=mark).json()["revision"] == 1


# --- validate --------------------------------------------------------------------------------------------------------


def test_validate_lists_every_problem_with_its_path_and_saves_nothing(client: TestClient, mark: dict[str, str]) -> None:
    data = document(greet={"say": "Hi {{ person.first_name }}!", "goto": "nowhere"})
    response = client.post(f"{BASE}/validate", json=data, headers=mark)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert [p["path"] for p in body["problems"]] == ["flow.cards.greet.goto", "flow.cards.greet.say", "flow.cards.bye"]
    assert all(p["message"] for p in body["problems"])
    assert client.get(BASE, headers=mark).json() == []


def test_validate_reports_shape_problems_too(client: TestClient, mark: dict[str, str]) -> None:
    response = client.post(f"{BASE}/validate", json={"key": "Bad Key", "name": "x"}, headers=mark)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert {p["path"] for p in body["problems"]} == {"key", "flow"}


def test_validate_accepts_the_examples_once_the_flow_they_call_is_published(
    client: TestClient, mark: dict[str, str]
) -> None:
    for name in ("newsletter.yaml", "pricing-demo.yaml"):
        assert client.post(f"{BASE}/validate", json=example(name), headers=mark).json() == {"ok": True, "problems": []}
    flow = client.post(f"{BASE}/validate", params={"kind": "flow"}, json=example("flows/qualify.yaml"), headers=mark)
    assert flow.json() == {"ok": True, "problems": []}

    calling = client.post(f"{BASE}/validate", json=example("qualify-lead.yaml"), headers=mark).json()
    assert calling["ok"] is False
    assert [p["path"] for p in calling["problems"]] == ["flow.cards.qualify.flow"]

    create(client, mark, example("flows/qualify.yaml"), "flow")
    assert client.post(f"{BASE}/qualify/publish", headers=mark).status_code == 200
    again = client.post(f"{BASE}/validate", json=example("qualify-lead.yaml"), headers=mark)
    assert again.json() == {"ok": True, "problems": []}


# --- publish and versions ------------------------------------------------------------------------------------------


def test_publishing_answers_the_version_number_and_freezes_it(
    client: TestClient, mark: dict[str, str], personas: Personas
) -> None:
    create(client, mark, document())
    first = client.post(f"{BASE}/demo/publish", headers=mark)
    assert first.status_code == 200
    body = first.json()
    assert (body["number"], body["published_by"], body["document"]) == (1, personas.mark.id, None)
    assert body["published_at"]
    current = client.get(f"{BASE}/demo", headers=mark).json()
    assert (current["status"], current["published_version"], current["unpublished_changes"]) == ("published", 1, False)

    client.put(f"{BASE}/demo/draft", json={"document": document(name="Second"), "revision": 1}, headers=mark)
    assert client.get(f"{BASE}/demo", headers=mark).json()["unpublished_changes"] is True
    assert client.post(f"{BASE}/demo/publish", headers=mark).json()["number"] == 2

    versions = client.get(f"{BASE}/demo/versions", headers=mark)
    assert versions.status_code == 200
    assert [(v["number"], v["published_by"], v["document"]) for v in versions.json()] == [
        (1, personas.mark.id, None),
        (2, personas.mark.id, None),
    ]
    one = client.get(f"{BASE}/demo/versions/1", headers=mark)
    assert one.status_code == 200
    assert (one.json()["number"], one.json()["document"]) == (1, document())
    assert client.get(f"{BASE}/demo/versions/2", headers=mark).json()["document"]["name"] == "Second"
    missing = client.get(f"{BASE}/demo/versions/3", headers=mark)
    assert missing.status_code == 404
    assert missing.json()["error"] == "'demo' has no version 3."


def test_publishing_an_invalid_draft_is_422_with_every_problem_and_publishes_nothing(
    client: TestClient, mark: dict[str, str]
) -> None:
    create(client, mark, document(greet={"say": "Hi {{ person.first_name }}!", "goto": "nowhere"}))
    refused = client.post(f"{BASE}/demo/publish", headers=mark)
    assert refused.status_code == 422
    body = refused.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    assert (body["ok"], body["status"], body["error"]) == (False, 422, "'demo' has 3 problems.")
    assert [p["path"] for p in body["errors"]] == ["flow.cards.greet.goto", "flow.cards.greet.say", "flow.cards.bye"]
    assert all(set(p) == {"path", "message"} and p["message"] for p in body["errors"])
    assert client.get(f"{BASE}/demo/versions", headers=mark).json() == []
    assert client.get(f"{BASE}/demo", headers=mark).json()["status"] == "draft"


def test_publishing_is_refused_when_a_test_scenario_of_the_document_fails(
    client: TestClient, mark: dict[str, str]
) -> None:
    data = document()
    data["tests"] = [{"name": "No leads back", "answers": ["No"], "expect": {"path": ["greet", "bye", "greet"]}}]
    create(client, mark, data)
    refused = client.post(f"{BASE}/demo/publish", headers=mark)
    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["path"] == "tests.0"
    assert problem["message"].startswith("The test 'No leads back' fails: expected the path greet → bye → greet")
    assert client.get(f"{BASE}/demo/versions", headers=mark).json() == []


def test_publishing_a_version_of_an_unknown_dialogue_is_404(client: TestClient, mark: dict[str, str]) -> None:
    assert client.post(f"{BASE}/nope/publish", headers=mark).status_code == 404
    assert client.get(f"{BASE}/nope/versions", headers=mark).status_code == 404


# --- pause, resume, archive, clone ---------------------------------------------------------------------------------


def test_pause_resume_and_archive_follow_the_life_of_a_dialogue(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document())
    not_live = client.post(f"{BASE}/demo/pause", headers=mark)
    assert not_live.status_code == 409
    assert not_live.json()["error"] == "'demo' is draft; only a published one can be paused."

    client.post(f"{BASE}/demo/publish", headers=mark)
    paused = client.post(f"{BASE}/demo/pause", headers=mark)
    assert paused.status_code == 200
    assert (paused.json()["key"], paused.json()["status"]) == ("demo", "paused")
    assert client.post(f"{BASE}/demo/pause", headers=mark).status_code == 409
    resumed = client.post(f"{BASE}/demo/resume", headers=mark)
    assert (resumed.status_code, resumed.json()["status"]) == (200, "published")
    assert client.post(f"{BASE}/demo/resume", headers=mark).status_code == 409

    archived = client.post(f"{BASE}/demo/archive", headers=mark)
    assert (archived.status_code, archived.json()["status"]) == (200, "archived")
    edit = client.put(f"{BASE}/demo/draft", json={"document": document(name="Changed")}, headers=mark)
    assert edit.status_code == 409
    assert edit.json()["error"] == "'demo' is archived; clone it to edit a copy."
    publish = client.post(f"{BASE}/demo/publish", headers=mark)
    assert publish.status_code == 409
    assert publish.json()["error"] == "'demo' is archived; clone it to publish a copy."
    assert client.get(f"{BASE}/demo/versions/1", headers=mark).json()["document"] == document()
    assert [item["status"] for item in client.get(BASE, headers=mark).json()] == ["archived"]


def test_cloning_copies_the_draft_under_a_new_key(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, example("pricing-demo.yaml"))
    client.post(f"{BASE}/pricing-demo/publish", headers=mark)
    cloned = client.post(f"{BASE}/pricing-demo/clone", json={"key": "pricing-b", "name": "Pricing B"}, headers=mark)
    assert cloned.status_code == 201
    body = cloned.json()
    assert (body["key"], body["name"], body["status"], body["published_version"], body["revision"]) == (
        "pricing-b",
        "Pricing B",
        "draft",
        None,
        1,
    )
    assert body["draft"] == {**example("pricing-demo.yaml"), "key": "pricing-b", "name": "Pricing B"}
    default_name = client.post(f"{BASE}/pricing-demo/clone", json={"key": "pricing-c"}, headers=mark).json()
    assert default_name["name"] == "Pricing page — book a demo (copy)"
    assert client.get(f"{BASE}/pricing-demo", headers=mark).json()["status"] == "published"


def test_cloning_to_a_key_in_use_or_a_malformed_key_is_refused(client: TestClient, mark: dict[str, str]) -> None:
    create(client, mark, document("demo"))
    create(client, mark, document("taken"))
    taken = client.post(f"{BASE}/demo/clone", json={"key": "taken"}, headers=mark)
    assert taken.status_code == 409
    malformed = client.post(f"{BASE}/demo/clone", json={"key": "Not A Key"}, headers=mark)
    assert malformed.status_code == 422
    assert [p["path"] for p in malformed.json()["errors"]] == ["key"]
    assert len(client.get(BASE, headers=mark).json()) == 2


# --- who may -------------------------------------------------------------------------------------------------------

ROUTES = [
    ("GET", BASE, None),
    ("POST", BASE, document()),
    ("POST", f"{BASE}/validate", document()),
    ("GET", f"{BASE}/demo", None),
    ("PUT", f"{BASE}/demo/draft", {"document": document(), "revision": 1}),
    ("POST", f"{BASE}/demo/publish", None),
    ("POST", f"{BASE}/demo/pause", None),
    ("POST", f"{BASE}/demo/resume", None),
    ("POST", f"{BASE}/demo/archive", None),
    ("POST", f"{BASE}/demo/clone", {"key": "copy"}),
    ("GET", f"{BASE}/demo/versions", None),
    ("GET", f"{BASE}/demo/versions/1", None),
]


def test_an_admin_may_do_what_a_marketer_does(client: TestClient, db: Database, personas: Personas) -> None:
    alice = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    create(client, alice, document())
    assert client.post(f"{BASE}/demo/publish", headers=alice).json()["number"] == 1
    assert client.get(f"{BASE}/demo/versions/1", headers=alice).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_agent_is_refused_every_dialogue_route(
    client: TestClient, db: Database, personas: Personas, method: str, path: str, body: Any
) -> None:
    bob = {"Authorization": f"Bearer {token_for(db, personas.bob)}"}
    response = client.request(method, path, json=body, headers=bob)
    assert response.status_code == 403
    assert response.json() == {
        "ok": False,
        "error": "Your role (Agent) does not give access to Dialogues.",
        "errors": [],
        "status": 403,
    }


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_no_dialogue_route_answers_without_a_token(client: TestClient, method: str, path: str, body: Any) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["ok"] is False and response.json()["status"] == 401


def test_an_agent_changes_nothing(client: TestClient, db: Database, personas: Personas, mark: dict[str, str]) -> None:
    create(client, mark, document())
    bob = {"Authorization": f"Bearer {token_for(db, personas.bob)}"}
    client.post(f"{BASE}/demo/publish", headers=bob)
    client.post(f"{BASE}/demo/archive", headers=bob)
    current = client.get(f"{BASE}/demo", headers=mark).json()
    assert (current["status"], current["published_version"]) == ("draft", None)
