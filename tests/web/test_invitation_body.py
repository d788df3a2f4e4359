"""A site's meeting invitation body, edited on the Sites page and through the API: the default, the tokens, a live
preview with a sample meeting, mistakes shown with their line and never saved, and the saved body in the invitation
a visitor gets."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from overture.db import Database
from overture.mail.invitation import DEFAULT_BODY, TOKENS
from overture.mail.models import OutboxMessage
from overture.scheduling import notices
from overture.sites import service as sites
from scheduling.rows import BASE_URL, SECRET_KEY, make_agent, make_meeting, make_person

from support import Persona, Personas, csrf_from, post_form, sign_in, token_for

PAGE = "/admin/configuration/sites/default"
API = "/api/v1/admin/sites/default/invitation-body"
GOOD = "Bonjour {{ visitor_name }},\n\n{{ agent_name }} vous attend le {{ start_time }}.\n\nAnnuler : {{ cancel_link }}"
BROKEN = "Hello {{ visitor_name }},\n\nSee you {{ start_time }\n"
UNKNOWN_TOKEN = "Hello {{ visitor_name }},\n{{ visitr_name }}\n"


def auth(db: Database, persona: Persona) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, persona)}"}


def stored_body(db: Database) -> str | None:
    with db.read() as session:
        return sites.get(session, "default").invitation_body


def textarea(page: str) -> str:
    match = re.search(r'<textarea id="invitation_body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no invitation body editor on the page"
    return html.unescape(match.group(1))


def preview_frame(page: str) -> str:
    match = re.search(r'<iframe title="Preview of the invitation email" sandbox srcdoc="([^"]*)"', page)
    assert match, "no preview on the page"
    return html.unescape(match.group(1))


# --- API ------------------------------------------------------------------------------------------------------------


def test_a_marketer_reads_sets_and_resets_the_invitation_body_through_the_api(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)
    first = client.get(API, headers=headers).json()
    assert (first["body"], first["default_body"], first["tokens"]) == (None, DEFAULT_BODY, TOKENS)

    saved = client.put(API, json={"body": GOOD}, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["body"] == GOOD == stored_body(db)

    reset = client.put(API, json={"body": None}, headers=headers)
    assert reset.json()["body"] is None and stored_body(db) is None


def test_a_body_with_a_mistake_is_refused_with_its_line_and_nothing_is_saved(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.alice)
    client.put(API, json={"body": GOOD}, headers=headers)

    refused = client.put(API, json={"body": BROKEN}, headers=headers)

    assert refused.status_code == 422
    answer = refused.json()
    assert answer["ok"] is False
    assert answer["errors"] == [{"path": "invitation_body", "message": "Line 3: unexpected '}'."}]
    assert stored_body(db) == GOOD


def test_the_api_preview_renders_a_sample_meeting_or_names_the_line_of_the_mistake(
    client: TestClient, db: Database, personas: Personas
) -> None:
    headers = auth(db, personas.mark)

    shown = client.post(f"{API}/preview", json={"body": GOOD}, headers=headers).json()
    assert shown["problem"] is None
    assert shown["text"].startswith("Bonjour Chloé Martin,\n\nRita Rep vous attend le Tuesday 12 March 2030 at 14:00")
    assert '<a href="https://overture.example.com/meetings/sample/cancel" style="' in shown["html"]

    wrong = client.post(f"{API}/preview", json={"body": UNKNOWN_TOKEN}, headers=headers).json()
    assert wrong["text"] is None and wrong["html"] is None
    assert wrong["problem"] == {"message": "'visitr_name' is undefined", "line": 2}
    assert stored_body(db) is None, "a preview saves nothing"


def test_an_agent_may_not_change_the_invitation_body(client: TestClient, db: Database, personas: Personas) -> None:
    answer = client.put(API, json={"body": GOOD}, headers=auth(db, personas.bob))
    assert answer.status_code == 403
    assert stored_body(db) is None


# --- the Sites page ---------------------------------------------------------------------------------------------


def test_the_site_page_shows_the_default_body_its_tokens_and_a_preview(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)

    page = client.get(PAGE).text

    assert textarea(page) == DEFAULT_BODY
    assert "This site sends the default body" in page
    for token in TOKENS:
        assert f"<code>{{{{ {token} }}}}</code>" in page
    frame = preview_frame(page)
    assert "<p>Hello Chloé,</p>" in frame
    assert "Rita Rep is looking forward to meeting you on Tuesday 12 March 2030 at 14:00 CET (Europe/Paris)" in frame
    assert '<script src="/admin/static/invitation_preview.js" defer></script>' in page
    assert client.get("/admin/static/invitation_preview.js").status_code == 200


def test_a_body_saved_from_the_page_is_the_one_a_visitor_gets(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)

    saved = post_form(client, f"{PAGE}/invitation", {"invitation_body": GOOD.replace("\n", "\r\n")}, PAGE)

    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert stored_body(db) == GOOD, "the browser's line ends are made plain"
    page = client.get(PAGE).text
    assert textarea(page) == GOOD
    assert "Use the default body" in page
    with db.write() as session:
        meeting = make_meeting(
            session,
            make_agent(session, "rita@example.com", "Rita Rep"),
            datetime(2026, 3, 10, 15, tzinfo=UTC),
            person=make_person(session, "chloe@customer.example", "Chloé", "Martin"),
            site_key="default",
        )
        notices.queue_booked(
            session, meeting, base_url=BASE_URL, secret_key=SECRET_KEY, transcript=[], now=datetime.now(UTC)
        )
        invitation = session.query(OutboxMessage).filter(OutboxMessage.kind == "imip_request").one()
        assert invitation.text_body.startswith("Bonjour Chloé Martin,\n\nRita Rep vous attend le Tuesday 10 March")


def test_a_mistake_is_shown_at_its_line_next_to_the_editor_and_nothing_is_saved(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.alice)

    answer = post_form(client, f"{PAGE}/invitation", {"invitation_body": BROKEN}, PAGE)

    assert answer.status_code == 422  # type: ignore[attr-defined]
    page = answer.text  # type: ignore[attr-defined]
    assert '<p id="invitation-error" class="problem" role="alert">Line 3: unexpected &#39;}&#39;.</p>' in page
    assert 'aria-invalid="true"' in re.search(r'<textarea id="invitation_body"[^>]*>', page).group(0)  # type: ignore[union-attr]
    assert textarea(page) == BROKEN, "what was typed is kept, to be fixed"
    assert '<span class="line">3</span> See you {{ start_time }' in html.unescape(page)
    assert stored_body(db) is None


def test_the_live_preview_answers_with_the_preview_block_only_and_saves_nothing(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)
    token = csrf_from(client, PAGE)

    good = client.post(f"{PAGE}/invitation/preview?fragment=true", data={"invitation_body": GOOD, "csrf_token": token})
    wrong = client.post(
        f"{PAGE}/invitation/preview?fragment=true", data={"invitation_body": UNKNOWN_TOKEN, "csrf_token": token}
    )

    assert good.status_code == 200 and good.text.lstrip().startswith('<div id="invitation-preview"')
    assert "<html" not in good.text
    assert 'data-problem="false"' in good.text
    assert "<p>Bonjour Chloé Martin,</p>" in preview_frame(good.text)
    assert 'data-problem="true"' in wrong.text
    assert "Line 2: &#39;visitr_name&#39; is undefined" in wrong.text
    assert '<span class="line">2</span> {{ visitr_name }}' in html.unescape(wrong.text)
    assert stored_body(db) is None


def test_without_javascript_the_preview_button_shows_the_page_with_the_typed_body(
    client: TestClient, db: Database, personas: Personas
) -> None:
    sign_in(client, personas.mark)

    page = post_form(client, f"{PAGE}/invitation/preview", {"invitation_body": GOOD}, PAGE).text  # type: ignore[attr-defined]

    assert textarea(page) == GOOD
    assert "<p>Bonjour Chloé Martin,</p>" in preview_frame(page)
    assert stored_body(db) is None


def test_the_default_button_goes_back_to_the_default_body(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)
    post_form(client, f"{PAGE}/invitation", {"invitation_body": GOOD}, PAGE)

    post_form(client, f"{PAGE}/invitation", {"invitation_body": GOOD, "use_default": "true"}, PAGE)

    assert stored_body(db) is None
    assert textarea(client.get(PAGE).text) == DEFAULT_BODY


def test_the_preview_html_cannot_run_in_the_admin_page(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.mark)
    body = 'Hi {{ visitor_name }} <script>alert("x")</script> {{ "<b>bold</b>" }}'

    page = post_form(client, f"{PAGE}/invitation/preview", {"invitation_body": body}, PAGE).text  # type: ignore[attr-defined]

    assert "<script>alert" not in page, "the body's text is escaped in the page"
    frame = preview_frame(page)
    assert "&lt;script&gt;" in frame and "&lt;b&gt;bold&lt;/b&gt;" in frame
    assert re.search(r"<iframe [^>]*\bsandbox\b", page), "the preview frame runs no script and has no origin"


def test_invitation_forms_need_the_csrf_token(client: TestClient, db: Database, personas: Personas) -> None:
    sign_in(client, personas.mark)

    answer = client.post(f"{PAGE}/invitation", data={"invitation_body": GOOD})

    assert answer.status_code == 403
    assert stored_body(db) is None
