"""The admin Outbox: the page and the API listing every message, its body, its attachments, and "Send again"."""

from __future__ import annotations

import html
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from overture.db import Database, utcnow
from overture.mail.models import OutboxMessage
from overture.mail.schemas import Attachment, NewMessage
from overture.mail.service import deliver_due, enqueue, get_message

from support import Personas, post_form, sign_in, token_for

INVITE = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:D\xc3\xa9mo\r\nEND:VCALENDAR\r\n"


def queue(db: Database, **fields: Any) -> int:
    data: dict[str, Any] = {"to": ["visitor@example.com"], "subject": "Your meeting", "text_body": "See you.\n"}
    with db.write() as session:
        return enqueue(session, NewMessage(**{**data, **fields})).id


def stored(db: Database, message_id: int) -> OutboxMessage:
    with db.read() as session:
        return get_message(session, message_id)


@pytest.fixture
def invitation(db: Database) -> OutboxMessage:
    """A meeting invitation with an .ics attachment, kept in the outbox because no SMTP server is configured."""
    message_id = queue(
        db,
        to=["chloe@example.com"],
        subject="Démo Overture — mardi 10 h",
        text_body="Bonjour Chloé,\nvoici votre invitation pour mardi.\n",
        html_body="<p>Bonjour Chloé</p>",
        kind="meeting_invitation",
        attachments=[Attachment(filename="invite.ics", content_type="text/calendar; method=REQUEST", content=INVITE)],
    )
    deliver_due(db, None, "Overture <overture@example.org>", utcnow())
    return stored(db, message_id)


# --- who may open the Outbox -------------------------------------------------------------------------------------


def test_an_admin_sees_each_message_with_its_recipient_subject_and_state(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    queue(db, to=["tom@example.com"], subject="Tom & Jerry <b>news</b>")
    sign_in(client, personas.alice)

    response = client.get("/admin/outbox")

    assert response.status_code == 200
    page = response.text
    assert "chloe@example.com" in page
    assert html.escape("Démo Overture — mardi 10 h") in page
    assert f'<a href="/admin/outbox/{invitation.id}">' in page
    assert "kept" in page and "pending" in page
    assert "invite.ics" in page
    assert "Tom &amp; Jerry &lt;b&gt;news&lt;/b&gt;" in page, "subjects are escaped"
    assert "No SMTP server is configured" in page
    assert page.index("Tom &amp; Jerry") < page.index("chloe@example.com"), "newest first"


def test_an_empty_outbox_says_so(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)

    response = client.get("/admin/outbox")

    assert response.status_code == 200
    assert "No messages yet." in response.text


@pytest.mark.parametrize("persona", ["mark", "bob"])
def test_roles_other_than_admin_may_not_open_the_outbox(
    client: TestClient, personas: Personas, invitation: OutboxMessage, persona: str
) -> None:
    sign_in(client, getattr(personas, persona))
    attachment = invitation.attachments[0]

    for path in (
        "/admin/outbox",
        f"/admin/outbox/{invitation.id}",
        f"/admin/outbox/{invitation.id}/attachments/{attachment.id}",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "invite.ics" not in response.text and INVITE not in response.content


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_page_and_back(
    client: TestClient, invitation: OutboxMessage
) -> None:
    response = client.get("/admin/outbox")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/outbox"

    response = client.get(f"/admin/outbox/{invitation.id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/login?next=/admin/outbox/{invitation.id}"


# --- one message ----------------------------------------------------------------------------------------------


def test_the_message_page_shows_the_text_body_and_links_the_attachment(
    client: TestClient, personas: Personas, invitation: OutboxMessage
) -> None:
    sign_in(client, personas.alice)
    attachment = invitation.attachments[0]

    response = client.get(f"/admin/outbox/{invitation.id}")

    assert response.status_code == 200
    page = response.text
    assert html.escape("Bonjour Chloé,\nvoici votre invitation pour mardi.\n") in page
    assert html.escape("<p>Bonjour Chloé</p>") in page, "the HTML body is shown as source, not rendered"
    assert f'<a href="/admin/outbox/{invitation.id}/attachments/{attachment.id}">invite.ics</a>' in page
    assert f"{len(INVITE)} bytes" in page
    assert "Send again" in page, "a kept message can be sent again"


def test_the_attachment_downloads_with_its_exact_bytes_as_an_attachment(
    client: TestClient, personas: Personas, invitation: OutboxMessage
) -> None:
    sign_in(client, personas.alice)
    attachment = invitation.attachments[0]

    response = client.get(f"/admin/outbox/{invitation.id}/attachments/{attachment.id}")

    assert response.status_code == 200
    assert response.content == INVITE
    assert response.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    assert response.headers["content-type"].startswith("text/calendar")


def test_an_attachment_is_only_found_under_its_own_message(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    other_id = queue(db, subject="Other")
    sign_in(client, personas.alice)

    response = client.get(f"/admin/outbox/{other_id}/attachments/{invitation.attachments[0].id}")

    assert response.status_code == 404
    assert INVITE not in response.content


def test_an_unknown_message_is_not_found(client: TestClient, personas: Personas) -> None:
    sign_in(client, personas.alice)

    response = client.get("/admin/outbox/999999")

    assert response.status_code == 404
    assert "There is no message 999999 in the outbox." in response.text


def test_a_sent_message_offers_no_send_again_button(client: TestClient, personas: Personas, db: Database) -> None:
    message_id = queue(db)
    sign_in(client, personas.alice)

    response = client.get(f"/admin/outbox/{message_id}")

    assert response.status_code == 200
    assert "pending" in response.text
    assert "Send again" not in response.text


# --- sending again ---------------------------------------------------------------------------------------------


def test_send_again_queues_a_kept_message_and_wakes_the_mail_worker(
    app: FastAPI, client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    sign_in(client, personas.alice)
    page = f"/admin/outbox/{invitation.id}"
    huey = app.state.context.jobs.huey
    waiting_jobs = huey.pending_count()

    response = post_form(client, f"{page}/retry", {}, page)

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == page  # type: ignore[attr-defined]
    assert stored(db, invitation.id).status == "pending"
    assert huey.pending_count() == waiting_jobs + 1, "a delivery job was queued"
    shown = client.get(page).text
    assert "The message is queued again." in shown
    assert "Send again" not in shown


def test_send_again_refuses_a_message_already_sent(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    with db.write() as session:
        session.get(OutboxMessage, invitation.id).status = "sent"  # type: ignore[union-attr]
    sign_in(client, personas.alice)
    page = f"/admin/outbox/{invitation.id}"

    response = post_form(client, f"{page}/retry", {}, page)

    assert stored(db, invitation.id).status == "sent"
    assert "only failed or kept messages can be sent again" in client.get(response.headers["location"]).text  # type: ignore[attr-defined]


def test_send_again_without_the_form_token_is_refused(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    sign_in(client, personas.alice)

    response = client.post(f"/admin/outbox/{invitation.id}/retry")

    assert response.status_code == 403
    assert stored(db, invitation.id).status == "kept"


def test_send_again_by_a_marketer_is_refused(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    sign_in(client, personas.mark)

    response = post_form(client, f"/admin/outbox/{invitation.id}/retry", {}, "/admin/account")

    assert response.status_code == 403  # type: ignore[attr-defined]
    assert stored(db, invitation.id).status == "kept"


# --- the admin API ---------------------------------------------------------------------------------------------


def test_the_api_lists_messages_newest_first_with_attachment_metadata(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    newer_id = queue(db, subject="Newer")
    token = token_for(db, personas.alice)

    response = client.get("/api/v1/admin/outbox", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [newer_id, invitation.id]
    item = body["items"][1]
    assert item["subject"] == "Démo Overture — mardi 10 h"
    assert item["to"] == ["chloe@example.com"]
    assert item["status"] == "kept"
    assert item["kind"] == "meeting_invitation"
    assert item["text_body"] == "Bonjour Chloé,\nvoici votre invitation pour mardi.\n"
    assert item["attachments"] == [
        {"id": invitation.attachments[0].id, "filename": "invite.ics", "content_type": "text/calendar; method=REQUEST"}
    ]


def test_the_api_pages_with_limit_and_offset(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    queue(db, subject="Newer")
    token = token_for(db, personas.alice)

    response = client.get("/api/v1/admin/outbox?limit=1&offset=1", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert [item["id"] for item in response.json()["items"]] == [invitation.id]


def test_the_api_returns_one_message(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    token = token_for(db, personas.alice)

    response = client.get(f"/api/v1/admin/outbox/{invitation.id}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["html_body"] == "<p>Bonjour Chloé</p>"
    assert response.json()["attachments"][0]["filename"] == "invite.ics"


def test_the_api_without_a_token_answers_401_in_the_error_shape(client: TestClient, invitation: OutboxMessage) -> None:
    response = client.get("/api/v1/admin/outbox")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body == {"ok": False, "error": body["error"], "errors": [], "status": 401}
    assert "Bearer" in body["error"]


def test_the_api_refuses_an_agent_token_with_403(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    token = token_for(db, personas.bob)

    response = client.get("/api/v1/admin/outbox", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert response.json()["status"] == 403
    assert "items" not in response.json()


def test_the_api_refuses_the_token_of_a_deactivated_user_with_401(
    client: TestClient, personas: Personas, db: Database, invitation: OutboxMessage
) -> None:
    token = token_for(db, personas.carol)

    response = client.get("/api/v1/admin/outbox", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["status"] == 401
