"""Signing in and out of the admin: clear errors, no hint whether an email exists, throttling, CSRF, cookies."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient

from overture.db import utcnow
from overture.settings import Settings
from overture.web.app import create_app

from support import PASSWORD, Personas, csrf_from, post_form, sign_in


def attempt(client: TestClient, email: str, password: str) -> object:
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": csrf_from(client)})


def test_the_admin_sends_a_stranger_to_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/users"
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "Sign in to Overture" in page.text


def test_signing_in_shows_the_shell_with_the_areas_of_the_role(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    home = client.get("/admin")
    assert home.status_code == 200
    for label in (
        "Dialogues",
        "Configuration",
        "Calendar",
        "Meetings",
        "Routing",
        "People",
        "Conversations",
        "Reports",
        "Integrations",
        "Users",
        "Outbox",
    ):
        assert f">{label}</a>" in home.text
    assert "alice@example.com" in home.text


def test_an_agent_sees_only_calendar_and_meetings(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.bob)
    home = client.get("/admin").text
    assert ">Calendar</a>" in home and ">Meetings</a>" in home
    assert ">Dialogues</a>" not in home and ">Users</a>" not in home


def test_sign_in_returns_to_the_page_asked_for(client: TestClient, personas: Personas) -> None:
    token = csrf_from(client)
    response = client.post(
        "/admin/login",
        data={"email": "ALICE@example.com", "password": PASSWORD, "next": "/admin/users", "csrf_token": token},
    )
    assert response.headers["location"] == "/admin/users"


def test_sign_in_never_redirects_to_another_site(client: TestClient, personas: Personas) -> None:
    for target in ("https://evil.example.com/", "//evil.example.com/admin", "/admin\\@evil"):
        client.cookies.clear()
        data = {"email": personas.alice.email, "password": PASSWORD, "next": target, "csrf_token": csrf_from(client)}
        assert client.post("/admin/login", data=data).headers["location"] == "/admin"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client: TestClient, personas: Personas) -> None:
    wrong_password = attempt(client, personas.alice.email, "not the password")
    unknown_email = attempt(client, "nobody@example.com", PASSWORD)
    deactivated = attempt(client, personas.carol.email, PASSWORD)
    for response in (wrong_password, unknown_email, deactivated):
        assert response.status_code == 401
        assert "The email or password is not right." in response.text
    assert client.get("/admin").status_code == 303, "still signed out"


def test_repeated_failures_from_one_address_are_slowed_down(client: TestClient, personas: Personas) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(5):
            assert attempt(client, personas.alice.email, "wrong").status_code == 401
        slowed = attempt(client, personas.alice.email, PASSWORD)
        assert slowed.status_code == 429, "even the right password waits"
        assert "Too many failed sign-ins. Try again in" in slowed.text
        assert int(slowed.headers["retry-after"]) >= 1

        clock.shift(timedelta(seconds=3))
        assert attempt(client, personas.alice.email, "wrong").status_code == 401
        assert attempt(client, personas.alice.email, PASSWORD).status_code == 429, "the wait grows"
        longer = int(attempt(client, personas.alice.email, PASSWORD).headers["retry-after"])
        assert longer > 2

        clock.shift(timedelta(seconds=longer))
        assert attempt(client, personas.alice.email, PASSWORD).status_code == 303


def test_an_hour_without_failures_forgives(client: TestClient, personas: Personas) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(7):
            attempt(client, personas.alice.email, "wrong")
            clock.shift(timedelta(minutes=1))
        clock.shift(timedelta(hours=1, seconds=1))
        assert attempt(client, personas.alice.email, "wrong").status_code == 401, "counted afresh, not 429"


def test_signing_out_ends_the_session(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    response = post_form(client, "/admin/logout", {})
    assert response.status_code == 303
    assert client.get("/admin").status_code == 303


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)
    refused = client.post("/admin/users", data={"email": "new@example.com", "role": "agent"})
    assert refused.status_code == 403
    assert "This form has expired or did not come from this site" in refused.text
    forged = client.post("/admin/users", data={"email": "new@example.com", "role": "agent", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "new@example.com" not in client.get("/admin/users").text


def test_the_sign_in_form_itself_needs_its_csrf_token(client: TestClient, personas: Personas) -> None:
    response = client.post("/admin/login", data={"email": personas.alice.email, "password": PASSWORD})
    assert response.status_code == 403


def test_the_session_cookie_is_httponly_and_samesite_lax(client: TestClient, personas: Personas) -> None:
    client.get("/admin/login")
    cookie = client.post(
        "/admin/login",
        data={"email": personas.alice.email, "password": PASSWORD, "csrf_token": csrf_from(client)},
    ).headers["set-cookie"]
    assert "overture_session=" in cookie
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower(), "plain http in tests"


def test_the_session_cookie_is_secure_when_the_base_url_is_https(settings: Settings, personas: Personas) -> None:
    settings.base_url = "https://chat.example.com"
    with TestClient(create_app(settings, start_jobs=False), base_url="https://testserver") as client:
        cookie = client.get("/admin/login").headers["set-cookie"]
        assert "secure" in cookie.lower()
        assert client.get("/admin/login").headers["strict-transport-security"].startswith("max-age=")


def test_admin_pages_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/admin/login").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_changing_the_password_signs_out_other_sessions(app: object, personas: Personas) -> None:
    with TestClient(app, follow_redirects=False) as laptop, TestClient(app, follow_redirects=False) as phone:  # type: ignore[arg-type]
        sign_in(laptop, personas.mark)
        sign_in(phone, personas.mark)
        changed = post_form(
            laptop,
            "/admin/account/password",
            {"current_password": PASSWORD, "new_password": "a new long password", "confirm": "a new long password"},
            page="/admin/account",
        )
        assert changed.status_code == 303
        assert laptop.get("/admin").status_code == 200, "the session that changed it goes on"
        assert phone.get("/admin").status_code == 303, "the other one is signed out"


def test_a_wrong_current_password_changes_nothing(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    response = post_form(
        client,
        "/admin/account/password",
        {"current_password": "wrong", "new_password": "a new long password", "confirm": "a new long password"},
        page="/admin/account",
    )
    assert response.status_code == 422
    assert "The current password is not right." in response.text
    client.cookies.clear()
    sign_in(client, personas.mark)


def test_a_too_short_new_password_is_explained(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    response = post_form(
        client,
        "/admin/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
        page="/admin/account",
    )
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.text
