from fastapi.testclient import TestClient

from overture.settings import Settings
from overture.web.app import create_app


def test_healthz_answers_200_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(settings: Settings) -> None:
    settings.database_url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(settings, start_jobs=False)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert response.json()["error"] == "The database does not answer."


def test_openapi_describes_the_admin_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "/api/v1/admin/users" in document["paths"]
    assert not any(path.startswith("/admin") for path in document["paths"]), "pages are not API"
