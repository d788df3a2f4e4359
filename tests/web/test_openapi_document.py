"""The OpenAPI document tells a client what it needs: every admin operation names the bearer token it takes (the
widget's calls name none), and the agent settings change has a real schema with the shapes of its lists."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        if path.startswith(prefix)
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_admin_operation_declares_the_bearer_token(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token made with `overture users token EMAIL`, sent as `Authorization: Bearer TOKEN`.",
    }
    admin = operations(document, "/api/v1/admin/")
    assert len(admin) > 50
    assert {name for name, operation in admin.items() if operation.get("security") != [{"apiToken": []}]} == set()


def test_the_widget_calls_declare_no_token(client: TestClient) -> None:
    widget = operations(client.get("/openapi.json").json(), "/api/v1/widget/")
    assert widget and all("security" not in operation for operation in widget.values())


def test_the_agent_settings_change_has_a_schema_with_the_shapes_of_its_lists(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/api/v1/admin/agents/{agent_id}/settings"]["patch"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"]
    changes = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
    assert changes["additionalProperties"] is False and "required" not in changes
    assert {"time_zone", "weekly_hours", "date_overrides", "out_of_office", "daily_max"} <= set(changes["properties"])
    away = document["components"]["schemas"]["OutOfOfficeIn"]
    assert set(away["properties"]) == {"start", "end"} and away["properties"]["start"]["format"] == "date"
    override = document["components"]["schemas"]["DateOverrideIn"]
    assert set(override["properties"]) == {"date", "hours", "replace"}
