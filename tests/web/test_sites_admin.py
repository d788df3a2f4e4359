"""The Sites pages and their API: origins, the chat switch, email security, language order, snippet, delete; and
the Configuration landing page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from overture.db import Database
from overture.sites import service as sites
from overture.sites.models import Site

from support import Personas, example, post_form, publish, sign_in, token_for

PAGE = "/admin/configuration/sites"
API = "/api/v1/admin/sites"
SNIPPET = '<script src="http://testserver/widget.js" data-site="shop" async></script>'


def auth(db: Database, persona: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}  # type: ignore[arg-type]


def site_row(db: Database, key: str) -> Site | None:
    with db.read() as session:
        return sites.find(session, key)


# --- API ------------------------------------------------------------------------------------------------------------


def test_a_marketer_adds_reads_changes_and_deletes_a_site_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    body = {"key": "shop", "name": "Main website", "origins": ["https://WWW.example.com/", "https://*.example.com"]}
    added = client.post(API, json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["origins"] == ["https://www.example.com", "https://*.example.com"]
    assert added.json()["snippet"] == SNIPPET
    keys = [s["key"] for s in client.get(API, headers=headers).json()]
    assert keys[0] == "default" and "shop" in keys

    changed = client.patch(
        f"{API}/shop",
        json={"chat_enabled": False, "blocked_email_domains": ["Rival.com"], "language_order": ["page"]},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    read = client.get(f"{API}/shop", headers=headers).json()
    assert (read["chat_enabled"], read["blocked_email_domains"], read["language_order"]) == (
        False,
        ["rival.com"],
        ["page"],
    )
    assert read["name"] == "Main website", "what is not sent stays"

    deleted = client.delete(f"{API}/shop", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["key"] == "shop"
    assert client.get(f"{API}/shop", headers=headers).status_code == 404


def test_api_refusals_name_every_bad_setting(client: TestClient, db: Database, personas: Personas) -> None:
    headers = auth(db, personas.alice)
    bad = client.post(
        API, json={"key": "Bad Key", "name": "X", "origins": ["http://www.example.com", "https://ok.com/path"]},
        headers=headers,
    )  # fmt: skip
    assert bad.status_code == 422
    assert [e["path"] for e in bad.json()["errors"]] == ["key", "origins.0", "origins.1"]
    taken = client.post(API, json={"key": "default", "name": "Again"}, headers=headers)
    assert taken.status_code == 409 and taken.json()["error"] == "A site with the key 'default' exists already."
    wrong_source = client.patch(f"{API}/default", json={"language_order": ["cookie"]}, headers=headers)
    assert wrong_source.status_code == 422
    empty_message = client.patch(f"{API}/default", json={"blocked_email_message": ""}, headers=headers)
    assert empty_message.status_code == 422
    assert client.patch(f"{API}/nowhere", json={}, headers=headers).status_code == 404
    default = client.delete(f"{API}/default", headers=headers)
    assert default.status_code == 409 and "default site cannot be deleted" in default.json()["error"]


def test_a_site_a_dialogue_names_cannot_be_deleted(client: TestClient, db: Database, personas: Personas) -> None:
    headers = auth(db, personas.alice)
    client.post(API, json={"key": "shop", "name": "Main"}, headers=headers)
    publish(db, example("newsletter.yaml") | {"site": "shop"})
    refused = client.delete(f"{API}/shop", headers=headers)
    assert refused.status_code == 409
    assert "these dialogues name it: newsletter" in refused.json()["error"]
    assert site_row(db, "shop") is not None


def test_an_agent_may_not_use_the_sites_api(client: TestClient, db: Database, personas: Personas) -> None:
    assert client.get(API, headers=auth(db, personas.bob)).status_code == 403


# --- pages ----------------------------------------------------------------------------------------------------------


def test_the_configuration_page_leads_to_sites_and_fields(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    page = client.get("/admin/configuration").text
    assert 'href="/admin/configuration/sites"' in page and 'href="/admin/configuration/fields"' in page
    assert 'href="/admin/configuration" aria-current="page"' in page
    assert "Nothing here yet" not in page


def test_a_site_is_added_from_the_list_and_shows_its_snippet(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    assert "Default site" in client.get(PAGE).text
    added = post_form(client, PAGE, {"key": "shop", "name": "Main website"}, PAGE)
    assert added.status_code == 303 and added.headers["location"] == f"{PAGE}/shop"
    page = client.get(f"{PAGE}/shop").text
    assert "The site &#39;Main website&#39; is added." in page
    assert (
        "&lt;script src=&#34;http://testserver/widget.js&#34; data-site=&#34;shop&#34; async&gt;&lt;/script&gt;" in page
    )
    assert 'data-copy="snippet"' in page and '<script src="/admin/static/copy.js" defer></script>' in page
    assert client.get("/admin/static/copy.js").status_code == 200


def test_a_bad_new_site_is_explained_and_keeps_the_form(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    response = post_form(client, PAGE, {"key": "default", "name": "Another"}, PAGE)
    assert response.status_code == 409 and "A site with the key &#39;default&#39; exists already." in response.text
    assert 'value="Another"' in response.text


def test_site_settings_are_saved_from_the_form(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    post_form(client, PAGE, {"key": "shop", "name": "Main"}, PAGE)
    site_page = f"{PAGE}/shop"
    saved = post_form(
        client,
        site_page,
        {
            "name": "Main website",
            "origins": "https://www.example.com\r\n\r\nhttps://*.Example.com/\r\n",
            "blocked_email_domains": "rival.com, @other.org\nthird.net",
            "block_free_email": "true",
            "blocked_email_message": "Work emails only, please.",
            "language_1": "browser",
            "language_2": "url",
            "language_3": "",
        },
        site_page,
    )
    assert saved.status_code == 303
    assert "The settings of &#39;Main website&#39; are saved." in client.get(site_page).text
    site = site_row(db, "shop")
    assert site is not None
    assert site.origins == ["https://www.example.com", "https://*.example.com"]
    assert site.blocked_email_domains == ["rival.com", "other.org", "third.net"]
    assert site.block_free_email and site.blocked_email_message == "Work emails only, please."
    assert site.language_order == ["browser", "url"]


def test_bad_site_settings_are_listed_and_nothing_is_saved(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    site_page = f"{PAGE}/default"
    response = post_form(
        client,
        site_page,
        {"name": "Renamed", "origins": "www.example.com\nhttp://shop.example.com", "blocked_email_message": "Hi",
         "language_1": "page", "language_2": "page"},
        site_page,
    )  # fmt: skip
    assert response.status_code == 422
    assert "has no scheme: write it in full, e.g. https://www.example.com." in response.text
    assert "Plain http is allowed only for localhost and 127.0.0.1." in response.text
    assert "&#39;page&#39; is listed twice." in response.text
    assert 'aria-invalid="true"' in response.text and "http://shop.example.com</textarea>" in response.text
    site = site_row(db, "default")
    assert site is not None and site.name == "Default site" and site.origins == []


def test_the_chat_switch_turns_a_site_off_and_on(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    site_page = f"{PAGE}/default"
    off = post_form(client, f"{site_page}/chat", {"enabled": "false"}, site_page)
    assert off.status_code == 303
    page = client.get(site_page).text
    assert "Chat is off for &#39;Default site&#39;" in page and "Turn chat on" in page
    site = site_row(db, "default")
    assert site is not None and not site.chat_enabled
    post_form(client, f"{site_page}/chat", {"enabled": "true"}, site_page)
    site = site_row(db, "default")
    assert site is not None and site.chat_enabled


def test_a_site_is_deleted_from_its_page_unless_a_dialogue_names_it(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    post_form(client, PAGE, {"key": "shop", "name": "Main"}, PAGE)
    post_form(client, PAGE, {"key": "blog", "name": "Blog"}, PAGE)
    publish(db, example("newsletter.yaml") | {"site": "blog"})

    refused = post_form(client, f"{PAGE}/blog/delete", {}, f"{PAGE}/blog")
    assert refused.headers["location"] == f"{PAGE}/blog"
    assert "these dialogues name it: newsletter" in client.get(f"{PAGE}/blog").text
    assert site_row(db, "blog") is not None

    deleted = post_form(client, f"{PAGE}/shop/delete", {}, f"{PAGE}/shop")
    assert deleted.headers["location"] == PAGE
    assert "The site &#39;Main&#39; is deleted." in client.get(PAGE).text
    assert site_row(db, "shop") is None
    assert "Delete this site" not in client.get(f"{PAGE}/default").text


def test_site_forms_need_the_csrf_token(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    response = client.post(f"{PAGE}/default/chat", data={"enabled": "false"})
    assert response.status_code == 403
    site = site_row(db, "default")
    assert site is not None and site.chat_enabled
