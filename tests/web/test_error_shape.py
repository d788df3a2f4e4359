"""One error shape: JSON {ok, error, errors, status} for the API; a page a person can act on elsewhere."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from overture.settings import Settings
from overture.web.app import create_app

from support import Personas, sign_in

SHAPE = {"ok", "error", "errors", "status"}


def test_an_unknown_api_address_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/admin/nothing-here")
    assert response.status_code == 404
    assert set(response.json()) == SHAPE
    assert response.json() == {"ok": False, "error": "There is nothing at this address.", "errors": [], "status": 404}


def test_a_wrong_method_on_the_api_is_a_json_405(client: TestClient) -> None:
    response = client.put("/api/v1/admin/me")
    assert response.status_code == 405
    assert set(response.json()) == SHAPE


def test_an_unknown_page_is_a_page_that_says_what_to_do(client: TestClient) -> None:
    response = client.get("/admin/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is nothing at this address." in response.text
    assert 'href="/admin"' in response.text


def test_an_unexpected_error_is_logged_and_answered_without_details(settings: Settings) -> None:
    app: FastAPI = create_app(settings, start_jobs=False)

    @app.get("/api/v1/admin/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/admin/boom")
    assert response.status_code == 500
    assert set(response.json()) == SHAPE
    assert "secret internals" not in response.text


def test_the_openapi_document_describes_the_error_shape(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    answers = document["paths"]["/api/v1/admin/users"]["post"]["responses"]
    for status in ("401", "403", "422"):
        assert answers[status]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    assert set(document["components"]["schemas"]["ErrorBody"]["properties"]) == SHAPE


def test_an_error_page_keeps_the_navigation_of_the_signed_in_user(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert "Your role (Marketer) does not give access to Users." in page.text
    assert ">Dialogues</a>" in page.text and "Sign out" in page.text
