"""Admin sessions end on the server: a cookie copied by an attacker stops working at sign-out, at a new password,
at deactivation and at the session's absolute end; and a password link stops working when the password changes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from overture.cli import main
from overture.db import utcnow
from overture.web.app import SESSION_COOKIE

from support import PASSWORD, Persona, Personas, csrf_from, post_form, sign_in

NEW_PASSWORD = "a new long password"


@pytest.fixture(autouse=True)
def _app_running(client: TestClient) -> None:
    """The app's lifespan runs around each test, so the browsers made here leave no database connection open."""


def browser(app: FastAPI, cookie: str | None = None) -> TestClient:
    """Another browser on the same server; with `cookie`, one that replays a copied session cookie."""
    return TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: cookie} if cookie else None)


def signed_in(app: FastAPI, persona: Persona) -> TestClient:
    client = browser(app)
    sign_in(client, persona)
    return client


def refused(client: TestClient) -> bool:
    """True when the admin sends this browser to the sign-in page instead of showing it the home page."""
    response = client.get("/admin")
    return response.status_code == 303 and response.headers["location"].startswith("/admin/login")


def test_a_cookie_copied_before_signing_out_is_refused_after(app: FastAPI, personas: Personas) -> None:
    victim = signed_in(app, personas.alice)
    copied = victim.cookies[SESSION_COOKIE]
    assert browser(app, copied).get("/admin").status_code == 200, "the copy works while the session lives"
    assert post_form(victim, "/admin/logout", {}).status_code == 303
    assert refused(browser(app, copied))
    assert refused(victim)


def test_a_new_password_from_the_account_page_ends_every_other_session_and_old_copies(
    app: FastAPI, personas: Personas
) -> None:
    laptop, phone = signed_in(app, personas.mark), signed_in(app, personas.mark)
    copied = laptop.cookies[SESSION_COOKIE]
    changed = post_form(
        laptop,
        "/admin/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/admin/account",
    )
    assert changed.status_code == 303
    assert laptop.get("/admin").status_code == 200, "the browser that changed it goes on, with a fresh session"
    assert refused(phone)
    assert refused(browser(app, copied)), "the cookie the laptop had before the change is dead"


def test_setting_a_password_through_a_link_ends_every_session(app: FastAPI, personas: Personas) -> None:
    admin, bobs_phone = signed_in(app, personas.alice), signed_in(app, personas.bob)
    link = password_link(admin, personas.bob)
    assert use_password_link(browser(app), link).status_code == 303
    assert refused(bobs_phone)


def test_a_password_set_by_an_admin_on_the_command_line_ends_every_session(
    app: FastAPI, personas: Personas, database_url: str, tmp_path: Path
) -> None:
    bobs_phone = signed_in(app, personas.bob)
    result = CliRunner().invoke(
        main,
        ["users", "password", personas.bob.email, "--password-stdin"],
        env={"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")},
        input=NEW_PASSWORD + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert refused(bobs_phone)


def test_a_deactivated_users_session_stays_dead_after_reactivation(app: FastAPI, personas: Personas) -> None:
    admin, bobs_browser = signed_in(app, personas.alice), signed_in(app, personas.bob)
    copied = bobs_browser.cookies[SESSION_COOKIE]
    post_form(admin, f"/admin/users/{personas.bob.id}/active", {"active": "false"})
    assert refused(bobs_browser)
    post_form(admin, f"/admin/users/{personas.bob.id}/active", {"active": "true"})
    assert refused(browser(app, copied)), "reactivating does not revive what deactivation ended"


def test_a_session_used_all_the_time_still_ends_twelve_hours_after_sign_in(app: FastAPI, personas: Personas) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = signed_in(app, personas.alice)
        for _ in range(11):
            clock.shift(timedelta(hours=1))
            assert client.get("/admin").status_code == 200, "each use refreshes the cookie, not the session's end"
        clock.shift(timedelta(minutes=59, seconds=59))
        assert client.get("/admin").status_code == 200
        clock.shift(timedelta(seconds=1))
        assert refused(client)


def test_a_session_left_unused_for_two_hours_ends(app: FastAPI, personas: Personas) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        client = signed_in(app, personas.alice)
        clock.shift(timedelta(hours=1, minutes=59))
        assert client.get("/admin").status_code == 200
        clock.shift(timedelta(hours=2))
        assert refused(client)


def test_signing_in_again_starts_a_new_session_and_ends_the_one_before(app: FastAPI, personas: Personas) -> None:
    client = signed_in(app, personas.alice)
    before = client.cookies[SESSION_COOKIE]
    again = {"email": personas.alice.email, "password": PASSWORD, "csrf_token": csrf_from(client, "/admin")}
    assert client.post("/admin/login", data=again).status_code == 303
    assert client.cookies[SESSION_COOKIE] != before
    assert refused(browser(app, before))
    assert client.get("/admin").status_code == 200


# --- password links -----------------------------------------------------------------------------------------


def password_link(admin: TestClient, persona: Persona) -> str:
    """Sends a password link from the Users page, as an admin does; returns its path."""
    response = post_form(admin, f"/admin/users/{persona.id}/password-link", {})
    assert response.status_code == 200
    match = re.search(r"http://testserver(/admin/reset/[\w-]+)", response.text)
    assert match, "the page shows the link"
    return match.group(1)


def use_password_link(client: TestClient, path: str) -> object:
    return client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_from(client)})


def test_of_two_password_links_only_the_first_used_works(app: FastAPI, personas: Personas) -> None:
    admin = signed_in(app, personas.alice)
    first, second = password_link(admin, personas.bob), password_link(admin, personas.bob)
    assert use_password_link(browser(app), second).status_code == 303
    stale = browser(app).get(first)
    assert stale.status_code == 404
    assert "the password was changed since it was sent" in stale.text
    attacker = browser(app)
    assert attacker.post(first, data={"password": "attacker password", "confirm": "attacker password",
                                      "csrf_token": csrf_from(attacker)}).status_code == 404  # fmt: skip


def test_a_password_link_sent_before_the_user_changed_the_password_is_refused(app: FastAPI, personas: Personas) -> None:
    link = password_link(signed_in(app, personas.alice), personas.mark)
    mark = signed_in(app, personas.mark)
    changed = post_form(
        mark,
        "/admin/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        page="/admin/account",
    )
    assert changed.status_code == 303
    assert browser(app).get(link).status_code == 404
    assert use_password_link(browser(app), link).status_code == 404


def test_a_link_sent_after_the_change_works(app: FastAPI, personas: Personas) -> None:
    admin = signed_in(app, personas.alice)
    assert use_password_link(browser(app), password_link(admin, personas.bob)).status_code == 303
    assert use_password_link(browser(app), password_link(admin, personas.bob)).status_code == 303
