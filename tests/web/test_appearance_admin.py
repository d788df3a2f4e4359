"""The Appearance admin: the API (GET/PUT appearance, PUT/DELETE avatar, identify secret), the page (every setting,
contrast warnings beside the colours, avatar upload and removal, the preview) and the identify secret on the site
page. Configuration area: marketers and admins; agents are refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from overture.db import Database
from overture.sites import service as sites

from support import Personas, csrf_from, post_form, sign_in, token_for

API = "/api/v1/admin/sites/www"
PAGE = "/admin/configuration/sites/www/appearance"
GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


def auth(db: Database, persona: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}  # type: ignore[arg-type]


def stored(db: Database) -> dict[str, object]:
    with db.read() as session:
        return dict(sites.get(session, "www").appearance)


# --- API ---------------------------------------------------------------------------------------------------------


def test_a_marketer_reads_and_replaces_the_appearance_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    first = client.get(f"{API}/appearance", headers=headers).json()
    assert first["appearance"]["bot_name"] == "Assistant" and first["contrast_warnings"] == []
    body = {
        "bot_name": "Ada",
        "colors": {"header_text": "#777777", "header": "#ffffff"},
        "launcher": {"position": "bottom-left"},
    }
    saved = client.put(f"{API}/appearance", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["appearance"]["launcher"]["position"] == "bottom-left"
    assert saved.json()["contrast_warnings"][0].startswith("The header's text (#777777) on the header (#ffffff)")
    assert stored(db)["bot_name"] == "Ada"


def test_an_appearance_saved_before_version_2_keeps_its_look_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.write() as session:  # as version 1 stored it: one text colour for every element
        sites.get(session, "www").appearance = {"colors": {"header": "#0b3d91", "text": "#ffffff"}}
    answer = client.get(f"{API}/appearance", headers=auth(db, personas.mark)).json()
    assert answer["appearance"]["version"] == 2
    assert answer["appearance"]["colors"]["header_text"] == answer["appearance"]["colors"]["buttons_text"] == "#ffffff"
    assert any(w.startswith("The button text (#ffffff) on the buttons") for w in answer["contrast_warnings"])


def test_a_bad_appearance_is_refused_with_every_problem_and_nothing_changes(
    client: TestClient, db: Database, personas: Personas
) -> None:
    response = client.put(
        f"{API}/appearance", json={"corner_radius": 500, "colors": {"header": "red"}}, headers=auth(db, personas.mark)
    )
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"corner_radius", "colors.header"}
    assert stored(db) == {}


def test_the_avatar_is_uploaded_and_removed_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    uploaded = client.put(f"{API}/avatar", files={"file": ("a.gif", GIF, "image/gif")}, headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["avatar_url"].startswith("http://testserver/api/v1/widget/sites/www/avatar?v=")
    refused = client.put(f"{API}/avatar", files={"file": ("a.txt", b"hello", "image/png")}, headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["path"] == "avatar"
    assert client.delete(f"{API}/avatar", headers=headers).json()["avatar_url"] is None
    assert client.delete(f"{API}/avatar", headers=headers).status_code == 404


def nested_svg(levels: int) -> bytes:
    """A square SVG whose elements go `levels` deep: the <svg> and groups inside groups around one circle."""
    groups = levels - 2
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        + b"<g>" * groups
        + b'<circle cx="32" cy="32" r="30"/>'
        + b"</g>" * groups
        + b"</svg>"
    )


def test_an_svg_avatar_nested_too_deeply_is_refused_saying_so(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    deep = nested_svg(20_000)  # 140 KB, under the size limit; thousands of levels exhausted the stack (a 500)

    refused = client.put(f"{API}/avatar", files={"file": ("deep.svg", deep, "image/svg+xml")}, headers=headers)

    assert refused.status_code == 422
    message = (
        "The SVG is nested too deeply: its elements go more than 100 levels deep. "
        "Flatten its groups and upload it again."
    )
    assert refused.json()["errors"] == [{"path": "avatar", "message": message}]
    assert client.get(f"{API}/appearance", headers=headers).json()["avatar_url"] is None
    kept = client.put(f"{API}/avatar", files={"file": ("ok.svg", nested_svg(100), "image/svg+xml")}, headers=headers)
    assert kept.status_code == 200
    too_deep = client.put(
        f"{API}/avatar", files={"file": ("no.svg", nested_svg(101), "image/svg+xml")}, headers=headers
    )
    assert too_deep.status_code == 422


def test_an_svg_avatar_nested_too_deeply_is_refused_on_the_page(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    refused = client.post(
        "/admin/configuration/sites/www/avatar",
        data={"csrf_token": csrf_from(client, PAGE)},
        files={"avatar": ("deep.svg", nested_svg(20_000), "image/svg+xml")},
    )
    assert refused.status_code == 303
    assert "The SVG is nested too deeply" in client.get(PAGE).text


def test_the_identify_secret_is_read_and_rotated_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.alice)
    old = client.get(f"{API}/identify-secret", headers=headers).json()["identify_secret"]
    new = client.post(f"{API}/identify-secret", headers=headers).json()["identify_secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", new) and new != old
    assert client.get(f"{API}/identify-secret", headers=headers).json()["identify_secret"] == new


def test_an_agent_may_not_see_or_change_the_appearance_or_the_secret(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.bob)
    assert client.get(f"{API}/appearance", headers=headers).status_code == 403
    assert client.put(f"{API}/appearance", json={}, headers=headers).status_code == 403
    assert client.post(f"{API}/identify-secret", headers=headers).status_code == 403
    assert client.get(f"{API}/identify-secret").status_code == 401


# --- pages -------------------------------------------------------------------------------------------------------


def form(**changes: str) -> dict[str, str]:
    values = {
        "header_label": "Talk to us", "bot_name": "Ada", "font.family": "system", "font.name": "", "font.url": "",
        "corner_radius": "8", "launcher.position": "bottom-left", "launcher.offset_x": "24", "launcher.offset_y": "30",
        "launcher.icon": "wave", "z_index": "1000", "teaser.text": "Hello!", "teaser.desktop": "true",
        "response_delay_ms": "1200", "sound": "chime", "privacy_policy_url": "https://www.example.com/privacy",
        "colors.header": "#dbe7f7", "colors.bot_bubble": "#eef1f5", "colors.visitor_bubble": "#d4e4ff",
        "colors.buttons": "#c9dcff", "colors.text": "#1b2330", "colors.background": "#ffffff",
        "colors.launcher": "#1f5fbf",
    }  # fmt: skip
    return {**values, **changes}


def test_a_marketer_saves_every_setting_from_the_appearance_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    page = client.get(PAGE)
    assert page.status_code == 200 and 'name="colors.header"' in page.text and "<iframe" in page.text
    response = post_form(client, PAGE, form(), page=PAGE)
    assert response.status_code == 303  # type: ignore[attr-defined]
    saved = stored(db)
    assert saved["bot_name"] == "Ada" and saved["sound"] == "chime" and saved["z_index"] == 1000
    assert saved["launcher"] == {"position": "bottom-left", "offset_x": 24, "offset_y": 30, "icon": "wave"}
    assert saved["teaser"] == {"text": "Hello!", "desktop": True, "mobile": False}
    assert saved["font"] == {"family": "system", "name": None, "url": None}
    assert 'value="Talk to us"' in client.get(PAGE).text


def test_the_page_shows_each_problem_beside_its_setting_and_keeps_what_was_typed(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    response = client.post(
        PAGE, data={**form(corner_radius="90", **{"font.family": "web"}), "csrf_token": csrf_from(client, PAGE)}
    )
    assert response.status_code == 422
    assert 'id="corner_radius-problem" class="problem">Use a number from 0 to 32.' in response.text
    assert "web font needs its family name" in response.text
    assert 'value="90"' in response.text
    assert stored(db) == {}


def test_low_contrast_is_warned_about_beside_the_pair(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    post_form(client, PAGE, form(**{"colors.header_text": "#999999"}), page=PAGE)
    page = client.get(PAGE).text
    assert (
        'data-element="header" aria-live="polite">⚠ The header\'s text (#999999) on the header (#dbe7f7) has a '
        "contrast of 2.27:1, below the 4.5:1 that WCAG 2.1 AA asks for" in page.replace("&#39;", "'")
    )
    assert stored(db)["colors"]["header_text"] == "#999999"  # type: ignore[index]


def test_an_automatic_text_colour_is_saved_as_automatic_and_shown_as_its_colour(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    fields = form(**{"colors.header": "#0b3d91", "colors.header_text": "#123456", "auto.colors.header_text": "true"})
    post_form(client, PAGE, fields, page=PAGE)
    assert stored(db)["colors"]["header_text"] is None  # type: ignore[index]
    page = client.get(PAGE).text
    assert 'name="colors.header_text" value="#ffffff"' in page
    assert 'name="auto.colors.header_text" value="true" data-automatic="colors.header_text" checked' in page


def test_the_check_answers_the_widgets_appearance_and_the_warnings_of_the_form_without_saving(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    dark = form(**{"colors.header": "#0b3d91", "auto.colors.header_text": "true", "header_label": "Talk to sales"})
    answer = post_form(client, f"{PAGE}/check", dark, page=PAGE).json()  # type: ignore[attr-defined]
    assert answer["ok"] is True and answer["contrast"] == {}
    assert answer["appearance"]["header_label"] == "Talk to sales"
    assert answer["appearance"]["colors"]["header_text"] == "#ffffff"
    assert answer["appearance"]["colors"]["bot_bubble_text"] == "#1b2330"
    unreadable = post_form(client, f"{PAGE}/check", form(**{"colors.buttons_text": "#c0d0f0"}), page=PAGE)
    assert list(unreadable.json()["contrast"]) == ["buttons"]  # type: ignore[attr-defined]
    refused = post_form(client, f"{PAGE}/check", form(corner_radius="90"), page=PAGE)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert refused.json()["errors"] == [  # type: ignore[attr-defined]
        {"path": "corner_radius", "message": "Use a number from 0 to 32."}
    ]
    assert stored(db) == {}


def test_an_avatar_is_uploaded_shown_and_removed_on_the_page(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    token = csrf_from(client, PAGE)
    uploaded = client.post(
        "/admin/configuration/sites/www/avatar",
        data={"csrf_token": token},
        files={"avatar": ("a.gif", GIF, "image/gif")},
    )
    assert uploaded.status_code == 303
    assert '<img src="/api/v1/widget/sites/www/avatar?v=' in client.get(PAGE).text
    refused = client.post(
        "/admin/configuration/sites/www/avatar",
        data={"csrf_token": token},
        files={"avatar": ("big.svg", b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 1"/>', "image/svg+xml")},
    )
    assert refused.status_code == 303 and "not square" in client.get(PAGE).text
    post_form(client, "/admin/configuration/sites/www/avatar/delete", {}, page=PAGE)
    assert "No avatar: the widget shows the bot" in client.get(PAGE).text


def test_the_preview_page_runs_the_real_widget_and_may_be_framed_by_overture_only(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    preview = client.get(f"{PAGE}/preview")
    assert preview.status_code == 200
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    sample, widget = preview.text.index("/admin/static/appearance_preview.js"), preview.text.index("/widget.js")
    assert sample < widget, "the sample conversation's script runs before the widget asks anything"
    assert '<script src="/widget.js" data-site="www" async></script>' in preview.text
    assert "frame-ancestors 'none'" in client.get(PAGE).headers["content-security-policy"]
    assert client.get(f"{PAGE}/preview?show=teaser").status_code == 200
    assert client.get(f"{PAGE}/preview?show=everything").status_code == 422


def test_the_site_page_shows_the_identify_secret_and_rotates_it(
    client: TestClient, db: Database, personas: Personas
) -> None:
    with db.read() as session:
        old = sites.get(session, "www").identify_secret
    sign_in(client, personas.mark)
    site_page = "/admin/configuration/sites/www"
    assert old in client.get(site_page).text
    response = post_form(client, f"{site_page}/identify-secret", {}, page=site_page)
    assert response.status_code == 303  # type: ignore[attr-defined]
    with db.read() as session:
        new = sites.get(session, "www").identify_secret
    assert new != old and new in client.get(site_page).text


def test_an_agent_cannot_open_the_appearance_page(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.bob)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/preview").status_code == 403
    assert client.post(f"{PAGE}/check", data={"csrf_token": csrf_from(client, "/admin")}).status_code == 403
