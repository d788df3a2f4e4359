"""A site that requires consent: the admin turns it on (page and API), the snippet then tells the loader, and no
widget call that records a visitor (the visit, a conversation's start, identify) records anything without the
visitor's consent, whoever calls (a scripted client skips the widget's own gate)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from overture.conversations.models import Conversation
from overture.db import Database
from overture.people.models import PageView, Person
from overture.sites import service as sites
from overture.sites.models import Site

from support import Personas, post_form, publish, sign_in, token_for

PAGE = "/admin/configuration/sites"
SNIPPET = "&lt;script src=&#34;http://testserver/widget.js&#34; data-site=&#34;www&#34;{} async&gt;&lt;/script&gt;"
CONSENT = " data-consent=&#34;required&#34;"


def require_consent(db: Database, key: str = "www") -> None:
    with db.write() as session:
        site = session.scalar(select(Site).where(Site.key == key))
        assert site is not None
        site.require_consent = True


def rows(db: Database) -> tuple[int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(PageView)) or 0,
        )


def test_the_site_page_turns_consent_on_and_the_snippet_says_so(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    page = f"{PAGE}/www"
    assert SNIPPET.format("") in client.get(page).text
    form = {"name": "Example website", "blocked_email_message": "Work emails only.", "require_consent": "true"}
    assert post_form(client, page, form, page).status_code == 303
    shown = client.get(page).text
    assert "The snippet changed: paste it again." in shown
    assert SNIPPET.format(CONSENT) in shown
    assert 'name="require_consent" value="true" aria-describedby="consent-hint" checked' in shown
    post_form(client, page, {"name": "Example website", "blocked_email_message": "Work emails only."}, page)
    assert SNIPPET.format("") in client.get(page).text, "unticked: consent is no longer required"


def test_the_admin_api_reads_and_changes_the_consent_requirement(
    client: TestClient, db: Database, personas: Personas
) -> None:
    auth = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}
    changed = client.patch("/api/v1/admin/sites/www", json={"require_consent": True}, headers=auth)
    assert changed.status_code == 200, changed.text
    read = client.get("/api/v1/admin/sites/www", headers=auth).json()
    assert read["require_consent"] is True
    assert 'data-consent="required"' in read["snippet"]


def test_without_consent_the_visit_is_refused_and_nothing_is_recorded(client: TestClient, db: Database) -> None:
    require_consent(db)
    refused = client.post("/api/v1/widget/visit", json={"site": "www", "url": "https://www.example.com/"})
    assert refused.status_code == 403
    assert "requires the visitor's consent" in refused.json()["error"]
    assert rows(db) == (0, 0)
    body = {"site": "www", "url": "https://www.example.com/", "consent": True}
    given = client.post("/api/v1/widget/visit", json=body)
    assert given.status_code == 200, given.text
    assert rows(db) == (1, 1)


def test_a_site_without_the_requirement_records_visits_as_before(client: TestClient, db: Database) -> None:
    answer = client.post("/api/v1/widget/visit", json={"site": "www", "url": "https://www.example.com/"})
    assert answer.status_code == 200
    assert rows(db) == (1, 1)


HELLO: dict[str, Any] = {
    "key": "hello",
    "name": "Hello",
    "site": "www",
    "flow": {"start": "hi", "cards": {"hi": {"say": "Hi!", "end": True}}},
}


def conversations(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Conversation)) or 0


def test_a_scripted_start_without_consent_is_refused_and_records_nothing(client: TestClient, db: Database) -> None:
    publish(db, HELLO)
    require_consent(db)
    start = {"dialogue": "hello", "site": "www", "page_url": "https://www.example.com/"}
    refused = client.post("/api/v1/widget/conversations", json=start)
    assert refused.status_code == 403
    assert "requires the visitor's consent" in refused.json()["error"]
    assert (rows(db), conversations(db)) == ((0, 0), 0)
    given = client.post("/api/v1/widget/conversations", json={**start, "consent": True})
    assert given.status_code == 201, given.text
    assert conversations(db) == 1


def test_identify_without_consent_is_refused_and_records_nothing(client: TestClient, db: Database) -> None:
    with db.write() as session:
        site = sites.get(session, "www")
        sites.update(session, site, sites.SiteChanges(origins=["https://www.example.com"]))
        secret = site.identify_secret
    require_consent(db)
    signature = hmac.new(secret.encode(), b"ada@example.com", hashlib.sha256).hexdigest()
    body = {"site": "www", "email": "ada@example.com", "signature": signature}
    origin = {"Origin": "https://www.example.com"}
    refused = client.post("/api/v1/widget/identify", json=body, headers=origin)
    assert refused.status_code == 403
    assert "requires the visitor's consent" in refused.json()["error"]
    assert rows(db) == (0, 0)
    given = client.post("/api/v1/widget/identify", json={**body, "consent": True}, headers=origin)
    assert given.status_code == 200, given.text
    assert rows(db) == (1, 0)
