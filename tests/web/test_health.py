from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from overture.settings import Settings
from overture.web.app import create_app


def test_healthz_answers_200_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok", "writer": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(settings: Settings) -> None:
    settings.database_url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    with TestClient(create_app(settings, start_jobs=False)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert response.json()["error"] == "The database does not answer."


def test_healthz_answers_503_naming_the_writer_when_the_database_writer_has_stopped(
    app: FastAPI, client: TestClient
) -> None:
    def exit_writer(connection: Connection) -> None:
        raise SystemExit("asked to exit")

    committer = app.state.context.group_commit
    assert committer.submit(exit_writer).exception(10) is not None

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "error": "The database writer thread of this process has stopped (SystemExit: asked to exit); nothing can "
        "be written until the process restarts.",
        "errors": [],
        "status": 503,
        "database": "ok",
        "writer": "stopped",
    }


def test_openapi_describes_the_admin_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "/api/v1/admin/users" in document["paths"]
    assert not any(path.startswith("/admin") for path in document["paths"]), "pages are not API"
