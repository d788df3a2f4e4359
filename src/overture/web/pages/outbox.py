"""The Outbox page: every message Overture sent or would have sent, with its body and attachments."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from overture.db import Wake, utcnow, wake_after_commit
from overture.errors import Conflict
from overture.mail import service as mail
from overture.web.deps import DbSession, RowId
from overture.web.guards import OutboxPageUser
from overture.web.pages.forms import refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()
PAGE_SIZE = 50


@router.get("/admin/outbox")
def outbox_page(
    request: Request, session: DbSession, user: OutboxPageUser, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> Response:
    messages, total = mail.list_messages(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    smtp = request.app.state.context.settings.smtp_configured
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "admin/outbox.html", user, messages=messages, total=total, page=page, pages=pages, smtp=smtp)


@router.get("/admin/outbox/{message_id}")
def message_page(request: Request, session: DbSession, user: OutboxPageUser, message_id: RowId) -> Response:
    return render(request, "admin/outbox_message.html", user, message=mail.get_message(session, message_id))


@router.get("/admin/outbox/{message_id}/attachments/{attachment_id}")
def attachment(session: DbSession, user: OutboxPageUser, message_id: RowId, attachment_id: RowId) -> Response:
    item = mail.get_attachment(session, message_id, attachment_id)
    safe_name = item.filename.replace('"', "").replace("\r", "").replace("\n", "")
    return Response(
        item.content,
        media_type=item.content_type.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
    )


@router.post("/admin/outbox/{message_id}/retry")
def retry(request: Request, session: DbSession, user: OutboxPageUser, message_id: RowId) -> Response:
    try:
        mail.retry_message(session, message_id, utcnow())
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"/admin/outbox/{message_id}")
    wake_after_commit(session, Wake.mail)
    return succeeded(request, "The message is queued again.", f"/admin/outbox/{message_id}")
