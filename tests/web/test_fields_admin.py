"""The Fields page and its API: built-in and custom fields in one table, add, rename, retire and restore."""

from __future__ import annotations

from fastapi.testclient import TestClient

from overture.db import Database
from overture.people.service import field_schema

from support import Personas, post_form, sign_in, token_for

PAGE = "/admin/configuration/fields"
API = "/api/v1/admin/fields"


def auth(db: Database, persona: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}  # type: ignore[arg-type]


def schema_names(db: Database) -> list[str]:
    with db.read() as session:
        return field_schema(session).names()


# --- API ------------------------------------------------------------------------------------------------------------


def test_a_marketer_adds_renames_retires_and_restores_a_field_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    body = {"name": "person.segment", "label": "Segment", "type": "choice", "choices": ["SMB", "Enterprise"]}
    added = client.post(API, json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json() | {"retired_at": None} == {
        "name": "person.segment", "label": "Segment", "type": "choice", "choices": ["SMB", "Enterprise"],
        "visitor_fillable": True, "built_in": False, "status": "active", "retired_at": None,
    }  # fmt: skip
    assert "person.segment" in schema_names(db)

    renamed = client.patch(f"{API}/person.segment", json={"label": "Market segment"}, headers=headers)
    assert renamed.json()["label"] == "Market segment" and renamed.json()["name"] == "person.segment"

    retired = client.post(f"{API}/person.segment/retire", headers=headers)
    assert retired.json()["status"] == "retired" and retired.json()["retired_at"]
    assert "person.segment" not in schema_names(db)
    listed = {f["name"]: f for f in client.get(API, headers=headers).json()}
    assert listed["person.segment"]["status"] == "retired"
    assert listed["person.email"]["built_in"] and listed["person.email"]["status"] == "built-in"

    restored = client.post(f"{API}/person.segment/restore", headers=headers)
    assert restored.json()["status"] == "active"
    assert "person.segment" in schema_names(db)


def test_api_refusals_use_the_one_error_shape(client: TestClient, db: Database, personas: Personas) -> None:
    headers = auth(db, personas.alice)
    bad = client.post(API, json={"name": "person.email", "label": "", "type": "text"}, headers=headers)
    assert bad.status_code == 422
    assert {e["path"] for e in bad.json()["errors"]} == {"name", "label"}
    assert bad.json()["ok"] is False

    no_choices = client.post(API, json={"name": "company.tier", "label": "Tier", "type": "choice"}, headers=headers)
    assert no_choices.status_code == 422
    assert no_choices.json()["errors"] == [{"path": "choices", "message": "A choice field needs at least one choice."}]

    unknown_type = client.post(API, json={"name": "company.tier", "label": "Tier", "type": "colour"}, headers=headers)
    assert unknown_type.status_code == 422

    client.post(API, json={"name": "company.tier", "label": "Tier", "type": "text"}, headers=headers)
    twice = client.post(API, json={"name": "company.tier", "label": "Tier", "type": "text"}, headers=headers)
    assert twice.status_code == 409
    assert twice.json()["error"] == "A custom field named company.tier exists already."

    built_in = client.patch(f"{API}/person.email", json={"label": "Mail"}, headers=headers)
    assert built_in.status_code == 409 and "built-in field" in built_in.json()["error"]
    missing = client.post(f"{API}/person.nope/retire", headers=headers)
    assert missing.status_code == 404
    again = client.post(f"{API}/company.tier/restore", headers=headers)
    assert again.status_code == 409


def test_an_agent_may_not_use_the_fields_api(client: TestClient, db: Database, personas: Personas) -> None:
    response = client.get(API, headers=auth(db, personas.bob))
    assert response.status_code == 403
    assert response.json()["error"] == "Your role (Agent) does not give access to Configuration."


# --- pages ----------------------------------------------------------------------------------------------------------


def test_the_fields_page_lists_built_in_and_custom_fields_and_adds_one(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    page = client.get(PAGE).text
    assert "<code>person.email</code>" in page and "Built-in" in page
    added = post_form(
        client,
        PAGE,
        {"name": "person.segment", "label": "Segment", "type": "choice", "choices": "SMB\nEnterprise\n"},
        page=PAGE,
    )
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "person.segment is added." in page
    assert 'href="/admin/configuration/fields/person.segment"' in page and "SMB, Enterprise" in page
    with db.read() as session:
        spec = field_schema(session).get("person.segment")
        assert spec is not None and not spec.writable, "the unticked box means visitors may not fill it"


def test_a_bad_new_field_is_explained_next_to_its_inputs_and_keeps_the_form(
    client: TestClient, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    response = post_form(client, PAGE, {"name": "visit.score", "label": "Score", "type": "text", "choices": "a"}, PAGE)
    assert response.status_code == 422
    assert 'id="name-problem"' in response.text and "start its name with person. or company." in response.text
    assert "Only choice fields have choices" in response.text
    assert 'value="visit.score"' in response.text and 'value="Score"' in response.text


def test_a_field_is_renamed_retired_and_restored_from_its_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    post_form(client, PAGE, {"name": "company.tier", "label": "Tier", "type": "text", "visitor_fillable": "true"}, PAGE)
    field_page = f"{PAGE}/company.tier"
    assert "the key dialogues, audience rules and imports use. It never changes." in client.get(field_page).text

    saved = post_form(client, field_page, {"label": "Account tier", "visitor_fillable": "true"}, field_page)
    assert saved.status_code == 303
    assert "<h1>Account tier</h1>" in client.get(field_page).text

    bad = post_form(client, field_page, {"label": " "}, field_page)
    assert bad.status_code == 422 and "Give the field a label" in bad.text

    retired = post_form(client, f"{field_page}/retire", {}, field_page)
    assert retired.status_code == 303
    page = client.get(field_page).text
    assert "company.tier is retired" in page and "Restore this field" in page
    assert "company.tier" not in schema_names(db)

    post_form(client, f"{field_page}/restore", {}, field_page)
    assert "company.tier is restored" in client.get(field_page).text
    assert "company.tier" in schema_names(db)


def test_a_choice_field_s_choices_are_edited_on_its_page(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    post_form(client, PAGE, {"name": "person.segment", "label": "Segment", "type": "choice", "choices": "SMB"}, PAGE)
    field_page = f"{PAGE}/person.segment"
    post_form(client, field_page, {"label": "Segment", "choices": "SMB\nMid-market\n"}, field_page)
    with db.read() as session:
        spec = field_schema(session).get("person.segment")
        assert spec is not None and spec.choices == ("SMB", "Mid-market")


def test_field_forms_need_the_csrf_token(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    response = client.post(PAGE, data={"name": "person.segment", "label": "Segment", "type": "text"})
    assert response.status_code == 403
    assert "person.segment" not in schema_names(db)
