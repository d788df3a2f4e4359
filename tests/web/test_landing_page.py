"""The conversational landing page: a live dialogue opened full-page at /chat/{site}/{dialogue} wears the site's
look and loads the widget on an inline element; the conversations it starts record the channel `landing_page`."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.sites import appearance
from overture.sites.models import Site

from support import example, publish

URL = "/api/v1/widget/conversations"


def test_the_page_wears_the_sites_look_and_opens_the_dialogue_inline(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    with db.write() as session:
        site = session.scalars(select(Site).where(Site.key == "www")).one()
        appearance.save(session, site, {"bot_name": "Fernbot", "colors": {"header": "#0b3d2e"}})
    page = client.get("/chat/www/newsletter")
    assert page.status_code == 200
    assert '<script src="/widget.js" data-site="www" async></script>' in page.text
    assert 'data-overture-inline="newsletter" data-overture-channel="landing_page"' in page.text
    assert "--ov-header:#0b3d2e;" in page.text and "<h1>Blog — newsletter sign-up</h1>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_an_unknown_wrong_site_or_unpublished_dialogue_is_a_clear_404(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    with db.write() as session:
        session.add(Site(key="shop", name="Shop", origins=[], blocked_email_domains=[]))
    for path in ("/chat/www/nope", "/chat/nope/newsletter", "/chat/shop/newsletter"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "There is no conversation at" in page.text and "data-overture-inline" not in page.text
    assert client.get("/chat/www/Bad%20Key").status_code == 422


def test_a_conversation_started_on_the_landing_page_records_its_channel(client: TestClient, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    body = {"dialogue": "newsletter", "site": "www", "page_url": "http://testserver/chat/www/newsletter"}
    assert client.post(URL, json={**body, "channel": "landing_page"}).status_code == 201
    assert client.post(URL, json=body).status_code == 201
    refused = client.post(URL, json={**body, "channel": "billboard"})
    assert refused.status_code == 422 and "channel" in refused.text
    with db.read() as session:
        triggered = session.scalars(select(Activity).where(Activity.type == "dialogue.triggered")).all()
    assert sorted(str(a.attributes.get("channel")) for a in triggered) == ["None", "landing_page"]
