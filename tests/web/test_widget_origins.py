"""Which pages may use a site's conversations: every widget call checks the calling page's origin against the
site's allowed origins (403, nothing written, nothing readable by that page), CORS answers name only allowed
origins, and a site with chat switched off starts no new conversation while running ones may finish."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import Person, VisitorIdentity
from overture.sites import service as sites

from support import example, publish

URL = "/api/v1/widget/conversations"
ALLOWED = "https://www.example.com"
OTHER = "https://evil.test"
ERROR_SHAPE = {"ok", "error", "errors", "status"}


@pytest.fixture(autouse=True)
def www_allows_example_com(db: Database) -> None:
    """Site "www" (the example dialogues') allows https://www.example.com, as an admin would set it."""
    with db.write() as session:
        sites.update(session, sites.get(session, "www"), sites.SiteChanges(origins=[ALLOWED]))


def set_chat(db: Database, site: str, enabled: bool) -> None:
    with db.write() as session:
        sites.update(session, sites.get(session, site), sites.SiteChanges(chat_enabled=enabled))


def start(client: TestClient, origin: str | None, **body: Any) -> httpx2.Response:
    payload = {"dialogue": "newsletter", "page_url": f"{origin or ALLOWED}/blog/a-post", **body}
    return client.post(URL, json=payload, headers={"Origin": origin} if origin else {})


def written(db: Database) -> dict[str, int]:
    """How many rows a conversation start would write."""
    with db.read() as session:
        return {
            table.__name__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Conversation, Person, VisitorIdentity, Activity)
        }


def assert_refused(response: httpx2.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_SHAPE and body["status"] == status
    assert error in body["error"]


# --- starting ----------------------------------------------------------------------------------------------------


def test_a_page_of_an_origin_the_site_does_not_allow_cannot_start_a_conversation_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    response = start(client, OTHER)
    assert_refused(response, 403, f"Pages of {OTHER} may not use site 'www'. Add the origin")
    assert "access-control-allow-origin" not in response.headers
    assert written(db) == {"Conversation": 0, "Person": 0, "VisitorIdentity": 0, "Activity": 0}


def test_a_page_of_an_allowed_origin_starts_and_may_read_the_answer(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    response = start(client, ALLOWED)
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["vary"] == "Origin"


def test_an_allowed_page_naming_a_page_address_of_another_origin_is_refused(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    response = start(client, ALLOWED, page_url=f"{OTHER}/pricing")
    assert_refused(response, 403, f"Pages of {OTHER} may not use site 'www'")
    assert written(db)["Conversation"] == 0


def test_overtures_own_pages_may_use_every_site(client: TestClient, db: Database) -> None:
    """The demo website and the admin's preview are served by Overture itself (base URL http://testserver)."""
    publish(db, example("newsletter.yaml"))
    response = start(client, "http://testserver")
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == "http://testserver"


def test_a_call_without_an_origin_header_is_a_script_and_is_not_checked_like_the_visit_call(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    response = client.post(URL, json={"dialogue": "newsletter", "page_url": f"{OTHER}/blog/a-post"})
    assert response.status_code == 201, response.text
    assert "access-control-allow-origin" not in response.headers


# --- every call on a running conversation ------------------------------------------------------------------------

CALLS = [
    ("GET", "", None),
    ("POST", "/replies", {"step": 0, "choice": "0"}),
    ("POST", "/back", {"step": 0}),
    ("POST", "/restart", {"step": 0}),
    ("POST", "/meeting", {"step": 0, "start": "2026-03-16T10:00:00+00:00"}),
    ("POST", "/dismiss", None),
    ("POST", "/links", {"url": "https://example.com/newsletter/latest"}),
]


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=[path or "/resume" for _, path, _ in CALLS])
def test_every_call_on_a_conversation_from_a_page_its_site_does_not_allow_is_refused_and_changes_nothing(
    client: TestClient, db: Database, method: str, path: str, body: dict[str, Any] | None
) -> None:
    publish(db, example("newsletter.yaml"))
    started = start(client, ALLOWED).json()
    before = written(db)
    response = client.request(
        method,
        f"{URL}/{started['conversation_id']}{path}",
        json=body,
        headers={"Origin": OTHER, "X-Conversation-Token": started["token"]},
    )
    assert_refused(response, 403, f"Pages of {OTHER} may not use site 'www'")
    assert "access-control-allow-origin" not in response.headers
    assert written(db) == before
    with db.read() as session:
        row = session.scalar(select(Conversation).where(Conversation.public_id == started["conversation_id"]))
        assert row is not None and (row.step, row.status) == (0, "active")


def test_an_error_found_before_the_site_is_known_is_readable_only_by_pages_a_site_allows(client: TestClient) -> None:
    bad = {"dialogue": "no such key!"}
    allowed = client.post(URL, json=bad, headers={"Origin": ALLOWED})
    other = client.post(URL, json=bad, headers={"Origin": OTHER})
    assert (allowed.status_code, other.status_code) == (422, 422)
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-origin" not in other.headers


# --- the browser's preflight -------------------------------------------------------------------------------------


def preflight(client: TestClient, path: str, origin: str) -> httpx2.Response:
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})


@pytest.mark.parametrize("path", [URL, f"{URL}/c_abc/replies", "/api/v1/widget/visit", "/api/v1/widget/identify"])
def test_a_preflight_from_an_allowed_origin_names_that_origin(client: TestClient, path: str) -> None:
    response = preflight(client, path, ALLOWED)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["vary"] == "Origin"
    assert "x-conversation-token" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize("path", [URL, f"{URL}/c_abc/replies", "/api/v1/widget/visit", "/api/v1/widget/identify"])
def test_a_preflight_from_an_origin_no_site_allows_names_no_origin(client: TestClient, path: str) -> None:
    response = preflight(client, path, OTHER)
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


# --- chat switched off ---------------------------------------------------------------------------------------------


def test_with_chat_switched_off_no_new_conversation_starts_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    set_chat(db, "www", False)
    response = start(client, ALLOWED)
    assert_refused(response, 409, "Chat is switched off for site 'www' (Configuration > Sites)")
    assert response.headers["access-control-allow-origin"] == ALLOWED, "the widget may read why"
    assert written(db) == {"Conversation": 0, "Person": 0, "VisitorIdentity": 0, "Activity": 0}


def test_with_chat_switched_off_a_running_conversation_goes_on_to_its_end(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    started = start(client, ALLOWED).json()
    set_chat(db, "www", False)
    headers = {"Origin": ALLOWED, "X-Conversation-Token": started["token"]}
    conversation = f"{URL}/{started['conversation_id']}"

    asked = client.post(f"{conversation}/replies", json={"step": 0, "choice": "0"}, headers=headers)
    assert asked.status_code == 200, asked.text
    done = client.post(f"{conversation}/replies", json={"step": 1, "text": "ada@example.com"}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"


def test_with_chat_switched_off_starting_again_gives_back_the_running_conversation(
    client: TestClient, db: Database
) -> None:
    publish(db, example("newsletter.yaml"))
    started = start(client, ALLOWED).json()
    set_chat(db, "www", False)
    again = start(client, ALLOWED, visitor_id=started["visitor_id"])
    assert again.status_code == 201, again.text
    assert again.json()["conversation_id"] == started["conversation_id"]


# --- reusable flows opened on their own --------------------------------------------------------------------------


def test_a_flow_opened_on_its_own_follows_the_site_the_widget_names(client: TestClient, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    set_chat(db, "www", False)
    assert_refused(start(client, ALLOWED, dialogue="qualify", site="www"), 409, "Chat is switched off for site 'www'")
    assert_refused(start(client, OTHER, dialogue="qualify", site="www"), 403, f"Pages of {OTHER} may not use site")
    set_chat(db, "www", True)
    assert start(client, ALLOWED, dialogue="qualify", site="www").status_code == 201


def test_a_flow_opened_without_a_site_needs_a_site_that_allows_the_page_with_chat_on(
    client: TestClient, db: Database
) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    refused = start(client, OTHER, dialogue="qualify")
    assert_refused(refused, 403, f"Pages of {OTHER} may not use the reusable flow 'qualify'")
    set_chat(db, "www", False)
    assert_refused(start(client, ALLOWED, dialogue="qualify"), 409, "Chat is switched off for site 'www'")
    assert written(db)["Conversation"] == 0


def test_a_site_the_widget_names_that_does_not_exist_is_named(client: TestClient, db: Database) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    assert_refused(start(client, None, dialogue="qualify", site="shop"), 404, "There is no site 'shop'")


# --- every widget route's answers, errors included -----------------------------------------------------------------

PAGE = f"{ALLOWED}/pricing"
SHOP = "https://shop.example.com"
# (route, method, path, body, status): an error of each widget router found before the call's site is known (an
# unknown conversation is a 401: the token cannot match it).
ERRORS = [
    ("visit-422", "POST", "/api/v1/widget/visit", {"site": "www"}, 422),
    ("visit-404", "POST", "/api/v1/widget/visit", {"site": "nope", "url": PAGE}, 404),
    ("conversations-422", "POST", URL, {"dialogue": "no such key!"}, 422),
    ("conversations-401", "GET", f"{URL}/c_nope", None, 401),
    ("identify-422", "POST", "/api/v1/widget/identify", {"site": "www"}, 422),
    ("identify-404", "POST", "/api/v1/widget/identify", {"site": "nope", "email": "a@b.io", "signature": "00"}, 404),
    ("avatar-404", "GET", "/api/v1/widget/sites/nope/avatar", None, 404),
]


@pytest.mark.parametrize(("origin", "readable_by"), [(ALLOWED, ALLOWED), (OTHER, None)], ids=["allowed", "refused"])
@pytest.mark.parametrize(("method", "path", "body", "status"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_an_error_of_every_widget_router_is_readable_only_by_pages_a_site_allows(
    client: TestClient,
    origin: str,
    readable_by: str | None,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    response = client.request(method, path, json=body, headers={"Origin": origin, "X-Conversation-Token": "t"})
    assert response.status_code == status, response.text
    assert set(response.json()) == ERROR_SHAPE
    assert response.headers.get("access-control-allow-origin") == readable_by
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/widget/visit", {"site": "www", "url": f"{SHOP}/"}),
        ("/api/v1/widget/identify", {"site": "www", "email": "a@b.io", "signature": "00"}),
    ],
    ids=["visit", "identify"],
)
def test_a_page_another_site_allows_reads_nothing_of_the_refusal_of_this_one(
    client: TestClient, db: Database, path: str, body: dict[str, Any]
) -> None:
    with db.write() as session:
        sites.create(session, "shop", sites.SiteChanges(name="Shop", origins=[SHOP]), datetime(2026, 1, 5, tzinfo=UTC))
    response = client.post(path, json=body, headers={"Origin": SHOP})
    assert_refused(response, 403, f"Pages of {SHOP} may not use site 'www'. Add the origin")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
