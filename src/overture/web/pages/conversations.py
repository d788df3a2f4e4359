"""The Conversations page: every conversation, newest first, the moment it starts, filtered by dialogue, outcome,
page, days and a person or company search, paged by cursor and exported as CSV; a conversation's page shows its
transcript with its person, company, fields captured, goals and meeting (docs/conversations.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from overture.conversations import inbox
from overture.db import utcnow
from overture.errors import InvalidInput, Problem
from overture.users.roles import Area, can_open
from overture.web.api.admin_conversations import csv_response
from overture.web.deps import DbSession
from overture.web.guards import ConversationsPageUser
from overture.web.pages.forms import refuse
from overture.web.pages.meetings import local_time, viewer_zone
from overture.web.pages.rendering import page_router, render

router = page_router()
PAGE = "/admin/conversations"
PublicId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
Text = Annotated[str, Query(max_length=200)]
FILTER_NAMES = ("dialogue", "outcome", "page", "from", "to", "zone", "q")


def chosen_filters(
    dialogue: Annotated[str, Query(max_length=80)] = "",
    outcome: Annotated[str, Query(max_length=20)] = "",
    page: Text = "",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    zone: Annotated[str, Query(max_length=64)] = "",
    q: Text = "",
) -> dict[str, str]:
    """The filters as the list's form sends them, kept as typed (for the page, its pager and its CSV)."""
    values = (dialogue, outcome, page, first, last, zone, q)
    return {name: value.strip() for name, value in zip(FILTER_NAMES, values, strict=True)}


Chosen = Annotated[dict[str, str], Depends(chosen_filters)]


def _day(text: str, name: str, problems: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(name, "use a date such as 2026-03-10."))
        return None


def _filters(chosen: dict[str, str], zone: str) -> inbox.Filters:
    """The filters typed into the form. Raises InvalidInput for a date that is not one (the rest is checked by the
    inbox with the database)."""
    problems: list[Problem] = []
    first, last = _day(chosen["from"], "from", problems), _day(chosen["to"], "to", problems)
    if problems:
        raise InvalidInput("The conversation filters are not valid.", problems)
    return inbox.Filters(
        dialogue=chosen["dialogue"] or None,
        outcome=chosen["outcome"] or None,
        page=chosen["page"] or None,
        first=first,
        last=last,
        zone=chosen["zone"] or zone,
        q=chosen["q"] or None,
    )


@router.get(PAGE)
def conversations_page(
    request: Request,
    session: DbSession,
    user: ConversationsPageUser,
    chosen: Chosen,
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    zone = viewer_zone(session, user)
    keep = {key: value for key, value in chosen.items() if value}
    error, problems, found = None, {}, None
    try:
        filters = _filters(chosen, zone)
        found = inbox.list_conversations(session, filters, cursor=cursor or None)
        zone = filters.zone
    except InvalidInput as exc:
        refused = refuse(session, exc, chosen)
        error, problems = refused.message, refused.problems
    return render(
        request,
        "admin/conversations.html",
        user,
        status=422 if error else 200,
        conversations=found.items if found else [],
        chosen=chosen,
        filtered=bool(keep),
        error=error,
        problems=problems,
        dialogues=inbox.dialogue_choices(session),
        outcomes=inbox.OUTCOME_LABELS,
        zone=zone,
        shown=local_time(zone),
        csv_url=f"{PAGE}.csv" + (f"?{urlencode(keep)}" if keep else ""),
        next_url=f"?{urlencode({**keep, 'cursor': found.next})}" if found and found.next else None,
        first_url=f"?{urlencode(keep)}" if cursor else None,
    )


@router.get(PAGE + ".csv")
def conversations_csv(request: Request, session: DbSession, user: ConversationsPageUser, chosen: Chosen) -> Response:
    filters = _filters(chosen, viewer_zone(session, user))
    inbox.check(session, filters)
    return csv_response(request, filters)


@router.get(PAGE + "/{public_id}")
def conversation_page(
    request: Request, session: DbSession, user: ConversationsPageUser, public_id: PublicId
) -> Response:
    zone = viewer_zone(session, user)
    return render(
        request,
        "admin/conversation.html",
        user,
        conversation=inbox.get(session, public_id, utcnow()),
        outcomes=inbox.OUTCOME_LABELS,
        zone=zone,
        shown=local_time(zone),
        meetings_open=can_open(user.role, Area.meetings),
        people_open=can_open(user.role, Area.people),
    )
