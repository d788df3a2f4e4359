"""The widget side: `POST /api/v1/widget/identify` (signed or refused), the avatar at its stable address with an
ETag, and the appearance in the visit answer (from the targeting cache, changes seen after a save)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import FastAPI
from fastapi.testclient import TestClient

from overture.db import Database, utcnow
from overture.people import service as people
from overture.sites import appearance as appearances
from overture.sites import avatars
from overture.sites import service as sites

GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
PAGE = "https://www.example.com/pricing"


def allow_example_origin(db: Database) -> str:
    with db.write() as session:
        site = sites.get(session, "www")
        sites.update(session, site, sites.SiteChanges(origins=["https://www.example.com"]))
        return site.identify_secret


def sign(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.lower().encode(), hashlib.sha256).hexdigest()


def visit(client: TestClient) -> dict[str, object]:
    response = client.post("/api/v1/widget/visit", json={"site": "www", "url": PAGE})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def email_of(db: Database, visitor_id: str) -> str | None:
    with db.read() as session:
        person = people.by_visitor_id(session, visitor_id)
        return person.email if person else None


# --- identify ----------------------------------------------------------------------------------------------------


def test_a_signed_identify_from_an_allowed_page_links_the_visitor_to_the_email(
    client: TestClient, db: Database
) -> None:
    secret = allow_example_origin(db)
    visitor_id = visit(client)["visitor_id"]
    response = client.post(
        "/api/v1/widget/identify",
        json={
            "site": "www",
            "visitor_id": visitor_id,
            "email": "Ada@Acme.io",
            "signature": sign(secret, "Ada@Acme.io"),
        },
        headers={"Origin": "https://www.example.com"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"visitor_id": visitor_id}
    assert response.headers["access-control-allow-origin"] == "https://www.example.com"
    assert email_of(db, str(visitor_id)) == "ada@acme.io"


def test_an_unsigned_identify_is_refused_with_401_and_a_clear_message(client: TestClient, db: Database) -> None:
    allow_example_origin(db)
    visitor_id = str(visit(client)["visitor_id"])
    response = client.post("/api/v1/widget/identify", json={"site": "www", "visitor_id": visitor_id, "email": "a@b.io"})
    assert response.status_code == 401
    assert response.json()["ok"] is False and "needs a signature" in response.json()["error"]
    assert email_of(db, visitor_id) is None


def test_a_wrongly_signed_identify_is_refused_and_writes_nothing(client: TestClient, db: Database) -> None:
    secret = allow_example_origin(db)
    visitor_id = str(visit(client)["visitor_id"])
    forged = {"site": "www", "visitor_id": visitor_id, "email": "ceo@acme.io", "signature": sign(secret, "me@acme.io")}
    response = client.post("/api/v1/widget/identify", json=forged)
    assert response.status_code == 401 and "does not match" in response.json()["error"]
    assert email_of(db, visitor_id) is None


def test_identify_from_a_page_the_site_does_not_allow_is_refused(client: TestClient, db: Database) -> None:
    secret = allow_example_origin(db)
    body = {"site": "www", "email": "ada@acme.io", "signature": sign(secret, "ada@acme.io")}
    response = client.post("/api/v1/widget/identify", json=body, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_identify_for_an_unknown_site_is_not_found(client: TestClient) -> None:
    response = client.post("/api/v1/widget/identify", json={"site": "nope", "email": "a@b.io", "signature": "00"})
    assert response.status_code == 404


# --- the avatar and the visit answer -----------------------------------------------------------------------------


def test_the_avatar_is_served_publicly_with_an_etag_and_answers_304_when_unchanged(
    client: TestClient, db: Database
) -> None:
    assert client.get("/api/v1/widget/sites/www/avatar").status_code == 404
    with db.write() as session:
        sha = avatars.upload(session, sites.get(session, "www"), GIF, utcnow()).sha256
    response = client.get("/api/v1/widget/sites/www/avatar")
    assert response.status_code == 200 and response.content == GIF
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["etag"] == f'"{sha}"'
    assert "sandbox" in response.headers["content-security-policy"]
    again = client.get("/api/v1/widget/sites/www/avatar", headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304 and again.content == b""


def test_the_visit_answer_carries_the_full_appearance_with_defaults(client: TestClient) -> None:
    appearance = visit(client)["appearance"]
    assert appearance == appearances.WidgetAppearance().model_dump(mode="json")  # automatic colours worked out
    assert appearance["colors"]["header_text"] == "#1b2330" and appearance["avatar_url"] is None


def test_a_saved_appearance_and_avatar_reach_the_visit_answer(app: FastAPI, client: TestClient, db: Database) -> None:
    visit(client)  # the cache is built
    with db.write() as session:
        site = sites.get(session, "www")
        appearances.save(session, site, {"bot_name": "Ada", "colors": {"launcher": "#FF0000"}})
        sha = avatars.upload(session, site, GIF, utcnow()).sha256
    app.state.context.selector_cache.forget()  # instead of waiting out the one-second check
    appearance = visit(client)["appearance"]
    assert isinstance(appearance, dict)
    assert appearance["bot_name"] == "Ada" and appearance["colors"]["launcher"] == "#ff0000"
    assert appearance["avatar_url"] == f"http://testserver/api/v1/widget/sites/www/avatar?v={sha[:16]}"
    assert client.get(appearance["avatar_url"]).content == GIF


def test_the_visit_answer_draws_the_launcher_icon_in_the_colour_that_reads_on_the_launcher(
    app: FastAPI, client: TestClient, db: Database
) -> None:
    launcher = visit(client)["appearance"]["launcher"]
    assert launcher["ink"] == "#ffffff" and launcher["icon_path"].startswith("M4 4h16")  # white chat bubble on blue
    with db.write() as session:
        chosen = {"colors": {"launcher": "#ffee00"}, "launcher": {"icon": "sparkle"}}
        appearances.save(session, sites.get(session, "www"), chosen)
    app.state.context.selector_cache.forget()  # instead of waiting out the one-second check
    launcher = visit(client)["appearance"]["launcher"]
    assert launcher["icon"] == "sparkle" and launcher["ink"] == "#111111"
    assert launcher["icon_path"].startswith("M12 2l2.5 7.5")
