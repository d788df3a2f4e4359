"""The Users page and its API: add, change role, deactivate, password links, API tokens, the last admin."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.mail.models import OutboxMessage
from overture.users.models import User

from support import PASSWORD, Persona, Personas, csrf_from, post_form, sign_in, token_for


def outbox(db: Database) -> list[OutboxMessage]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def user_row(db: Database, email: str) -> User:
    with db.read() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user


def test_an_admin_adds_a_user_who_gets_a_link_to_choose_a_password(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    added = post_form(client, "/admin/users", {"email": "Dana@Example.com", "name": "Dana", "role": "marketer"})
    assert added.status_code == 303, "redirected, so that a reload does not add her twice"
    page = client.get(added.headers["location"]).text
    [mail] = outbox(db)
    assert "dana@example.com is added as Marketer. A link to choose a password was mailed." in page
    assert f'href="/admin/outbox/{mail.id}"' in page
    assert mail.to == ["dana@example.com"] and mail.kind == "password_reset"
    link = re.search(r"http://testserver/admin/reset/[\w-]+", mail.text_body)
    assert link, "the mail carries the one-time link"

    dana = TestClient(client.app, follow_redirects=False)
    path = link.group(0).removeprefix("http://testserver")
    assert "For dana@example.com" in dana.get(path).text
    data = {"password": "dana's long password", "confirm": "dana's long password", "csrf_token": csrf_from(dana, path)}
    assert dana.post(path, data=data).headers["location"] == "/admin"
    assert ">Dialogues</a>" in dana.get("/admin").text, "signed in as a marketer"
    assert dana.get(path).status_code == 404, "the link works once"


def test_adding_a_user_twice_is_explained_and_keeps_the_form(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    again = post_form(client, "/admin/users", {"email": "bob@example.com", "name": "Bobby", "role": "agent"})
    assert again.status_code == 409
    assert "A user with the email bob@example.com already exists." in again.text
    assert 'value="Bobby"' in again.text


def test_a_bad_email_is_explained_next_to_its_field(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, "/admin/users", {"email": "not-an-address", "role": "agent"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "The email address is not valid." in response.text


def test_an_admin_changes_a_role(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, f"/admin/users/{personas.bob.id}/role", {"role": "sales_admin"})
    assert response.status_code == 303
    assert user_row(db, personas.bob.email).role == "sales_admin"


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(
    app: object, client: TestClient, db: Database, personas: Personas
) -> None:
    with TestClient(app, follow_redirects=False) as bobs_browser:  # type: ignore[arg-type]
        sign_in(bobs_browser, personas.bob)
        bobs_token = token_for(db, personas.bob)
        sign_in(client, personas.alice)
        post_form(client, f"/admin/users/{personas.bob.id}/active", {"active": "false"})
        assert bobs_browser.get("/admin").status_code == 303
        assert client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {bobs_token}"}).status_code == 401
        data = {"email": personas.bob.email, "password": PASSWORD, "csrf_token": csrf_from(bobs_browser)}
        assert bobs_browser.post("/admin/login", data=data).status_code == 401
        post_form(client, f"/admin/users/{personas.bob.id}/active", {"active": "true"})
        sign_in(bobs_browser, personas.bob)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    demoted = post_form(client, f"/admin/users/{personas.alice.id}/role", {"role": "agent"})
    assert demoted.status_code == 303
    assert (
        "alice@example.com is the last active admin and cannot be demoted"
        in client.get(demoted.headers["location"]).text
    )
    assert user_row(db, personas.alice.email).role == "admin"
    assert user_row(db, personas.alice.email).is_active

    post_form(client, f"/admin/users/{personas.mark.id}/role", {"role": "admin"})
    post_form(client, f"/admin/users/{personas.alice.id}/role", {"role": "marketer"})
    assert user_row(db, personas.alice.email).role == "marketer", "with another admin, it is allowed"


def test_a_deactivated_admin_does_not_count_as_another_admin(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    post_form(client, f"/admin/users/{personas.carol.id}/role", {"role": "admin"})
    post_form(client, f"/admin/users/{personas.alice.id}/role", {"role": "agent"})
    assert user_row(db, personas.alice.email).role == "admin"


def test_an_admin_sends_a_password_link_and_the_old_password_keeps_working_until_used(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, f"/admin/users/{personas.bob.id}/password-link", {})
    assert response.status_code == 200
    assert "A one-time link to set a password was mailed to bob@example.com" in response.text
    assert outbox(db)[-1].subject == "Reset your Overture password"
    with TestClient(client.app, follow_redirects=False) as bobs_browser:
        sign_in(bobs_browser, personas.bob)


def test_an_expired_or_made_up_link_says_what_to_do(client: TestClient) -> None:
    response = client.get("/admin/reset/made-up")
    assert response.status_code == 404
    assert "This password link is not valid" in response.text
    assert "Ask an admin for a new link." in response.text


def create_token_on_page(client: TestClient, persona: Persona, name: str) -> str:
    response = post_form(client, f"/admin/users/{persona.id}/tokens", {"name": name})
    assert response.status_code == 201
    match = re.search(r"(ovt_[\w-]+)</code>", response.text)
    assert match, "the token is shown once"
    return match.group(1)


def test_an_admin_creates_and_revokes_an_api_token_on_the_users_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)
    token = create_token_on_page(client, personas.mark, "reporting")
    assert token not in client.get(f"/admin/users/{personas.mark.id}").text, "never shown again"
    me = client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "mark@example.com"
    assert "never" not in client.get(f"/admin/users/{personas.mark.id}").text.split("reporting")[1][:200]

    with db.read() as session:
        token_id = session.scalars(select(User).where(User.id == personas.mark.id)).one().tokens[0].id
    post_form(client, f"/admin/users/{personas.mark.id}/tokens/{token_id}/revoke", {})
    assert client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- the API --------------------------------------------------------------------------------------------------


def test_the_api_refuses_a_missing_token_with_the_json_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/admin/users")
    assert response.status_code == 401
    assert response.json() == {
        "ok": False,
        "error": "Send an API token: Authorization: Bearer TOKEN (create one with `overture users token`).",
        "errors": [],
        "status": 401,
    }


def test_the_api_manages_users_and_tokens(client: TestClient, db: Database, personas: Personas) -> None:
    auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    created = client.post("/api/v1/admin/users", json={"email": "eve@example.com", "role": "agent"}, headers=auth)
    assert created.status_code == 201
    eve = created.json()
    assert eve["role"] == "agent" and eve["is_active"] is True and "password_hash" not in eve
    assert outbox(db)[-1].to == ["eve@example.com"]

    changed = client.patch(
        f"/api/v1/admin/users/{eve['id']}", json={"role": "sales_admin", "name": "Eve"}, headers=auth
    )
    assert changed.json()["role"] == "sales_admin" and changed.json()["name"] == "Eve"

    token = client.post(f"/api/v1/admin/users/{eve['id']}/tokens", json={"name": "ci"}, headers=auth).json()
    assert token["token"].startswith("ovt_") and token["prefix"] == token["token"][:12]
    listed = client.get(f"/api/v1/admin/users/{eve['id']}/tokens", headers=auth).json()
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]
    assert client.delete(f"/api/v1/admin/tokens/{token['id']}", headers=auth).json()["revoked_at"] is not None
    assert client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 401

    link = client.post(f"/api/v1/admin/users/{eve['id']}/password-link", headers=auth)
    assert link.status_code == 201 and link.json()["url"].startswith("http://testserver/admin/reset/")


def test_the_api_explains_invalid_input_field_by_field(client: TestClient, db: Database, personas: Personas) -> None:
    auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    response = client.post("/api/v1/admin/users", json={"email": "x@example.com", "role": "boss"}, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert body["errors"][0]["path"] == "role"


def test_the_api_keeps_the_last_admin(client: TestClient, db: Database, personas: Personas) -> None:
    auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    response = client.patch(f"/api/v1/admin/users/{personas.alice.id}", json={"role": "agent"}, headers=auth)
    assert response.status_code == 409
    assert "last active admin" in response.json()["error"]
    response = client.patch(f"/api/v1/admin/users/{personas.alice.id}", json={"is_active": False}, headers=auth)
    assert response.json()["error"] == "You cannot deactivate yourself. Ask another admin to do it."
    assert user_row(db, personas.alice.email).is_active


def test_a_missing_user_is_a_json_404(client: TestClient, db: Database, personas: Personas) -> None:
    auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
    response = client.get("/api/v1/admin/users/424242", headers=auth)
    assert response.status_code == 404
    assert response.json()["error"] == "There is no user 424242."


def test_an_admin_cannot_deactivate_themselves(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.alice)
    post_form(client, f"/admin/users/{personas.mark.id}/role", {"role": "admin"})
    response = post_form(client, f"/admin/users/{personas.alice.id}/active", {"active": "false"})
    assert "You cannot deactivate yourself." in client.get(response.headers["location"]).text
    assert user_row(db, personas.alice.email).is_active


def test_an_admin_who_demotes_themselves_lands_on_the_home_page(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    post_form(client, f"/admin/users/{personas.mark.id}/role", {"role": "admin"})
    response = post_form(client, f"/admin/users/{personas.alice.id}/role", {"role": "marketer"})
    assert response.headers["location"] == "/admin"
    home = client.get("/admin").text
    assert "alice@example.com is now Marketer." in home
    assert ">Users</a>" not in home
