"""OutboxApiUser API: the mail outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from overture.mail import service as mail
from overture.mail.schemas import MessagePage, MessagePublic
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import OutboxApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["outbox"], responses=API_ERROR_RESPONSES)


@router.get("/outbox", summary="Messages sent or kept, newest first")
def list_messages(
    session: DbSession,
    _: OutboxApiUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> MessagePage:
    messages, total = mail.list_messages(session, limit=limit, offset=offset)
    return MessagePage(total=total, items=[MessagePublic.model_validate(m) for m in messages])


@router.get("/outbox/{message_id}", summary="One message with its body and attachments")
def get_message(session: DbSession, _: OutboxApiUser, message_id: RowId) -> MessagePublic:
    return MessagePublic.model_validate(mail.get_message(session, message_id))
