"""Admin API: the Conversations area. Everything the Conversations page does: the filtered list paged by cursor, its
CSV, and one conversation with its transcript, person, company, fields, goals and meetings (docs/conversations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from overture.conversations import inbox
from overture.conversations.inbox import ConversationDetail, ConversationPage
from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ConversationsApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["conversations"], responses=API_ERROR_RESPONSES)
PublicId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$", description="The conversation's id.")]
Outcome = Literal["engaged", "completed", "goal", "meeting", "dropped"]


def filters(
    dialogue: Annotated[
        str | None, Query(max_length=80, pattern=KEY_PATTERN, description="Only this dialogue's (its key).")
    ] = None,
    outcome: Annotated[Outcome | None, Query(description="Only those that came to this outcome.")] = None,
    page: Annotated[
        str | None, Query(max_length=200, description="Only those started on a page whose address contains this.")
    ] = None,
    first: Annotated[
        date | None, Query(alias="from", description="Started on or after this day (YYYY-MM-DD, in `zone`).")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="Started on or before this day (in `zone`).")] = None,
    zone: Annotated[str, Query(max_length=64, description="The IANA time zone of the days; default UTC.")] = "UTC",
    q: Annotated[
        str | None, Query(max_length=200, description="Words matched by prefix: name, email, company name or domain.")
    ] = None,
) -> inbox.Filters:
    """The list's filters as the query names them (for the list and its CSV)."""
    return inbox.Filters(dialogue=dialogue, outcome=outcome, page=page, first=first, last=last, zone=zone, q=q)


Filters = Annotated[inbox.Filters, Depends(filters)]


@router.get("/conversations", summary="Conversations, newest first, with filters, paged by cursor")
def list_conversations(
    session: DbSession,
    _: ConversationsApiUser,
    chosen: Filters,
    cursor: Annotated[str | None, Query(max_length=200, description="The `next` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_PAGE)] = inbox.PAGE_SIZE,
) -> ConversationPage:
    return inbox.list_conversations(session, chosen, cursor=cursor, limit=limit)


@router.get(
    "/conversations.csv",
    summary="Every conversation of the filter as CSV (times in UTC), streamed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_conversations(
    request: Request, session: DbSession, _: ConversationsApiUser, chosen: Filters
) -> StreamingResponse:
    inbox.check(session, chosen)
    return csv_response(request, chosen)


def csv_response(request: Request, chosen: inbox.Filters) -> StreamingResponse:
    """The CSV of the filters, streamed from a session of its own (the request's closes before the body is sent)."""
    db = request.app.state.context.db

    def lines() -> Iterator[str]:
        with db.read() as session:
            yield from inbox.export_csv(session, chosen)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="conversations-{utcnow():%Y%m%d}.csv"'},
    )


@router.get(
    "/conversations/{public_id}", summary="One conversation: transcript, person, company, fields, goals, meetings"
)
def get_conversation(session: DbSession, _: ConversationsApiUser, public_id: PublicId) -> ConversationDetail:
    return inbox.get(session, public_id, utcnow())
