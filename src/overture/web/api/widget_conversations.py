"""Widget API: conversations. Public (no admin token): the conversation's own token, sent in a header and never a
cookie, proves who may continue it; every call checks the calling page against the conversation's site."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Header, Path, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from overture.conversations import engine, meeting_steps
from overture.conversations import service as conversations
from overture.conversations.schemas import (
    ConversationOut,
    LinkClick,
    MeetingBooked,
    MeetingOffer,
    OfferedDay,
    PickTime,
    ReplyIn,
    StartConversation,
    Step,
    events_of,
)
from overture.db import utcnow
from overture.scheduling import booking
from overture.scheduling.clock import load_zone
from overture.scheduling.picker import slot_picker
from overture.sites.service import KEY_PATTERN as SITE_KEY_PATTERN
from overture.web.api import widget_access as access
from overture.web.api.widget_router import widget_router
from overture.web.context import AppContext
from overture.web.deps import Context
from overture.web.shared_transaction import in_shared_transaction, shared_transaction

Changed = TypeVar("Changed")
router = widget_router("/conversations")


class StartIn(StartConversation):
    site: str | None = Field(
        default=None,
        max_length=80,
        pattern=SITE_KEY_PATTERN,
        description="The site of the page (the snippet's data-site). A reusable flow opened on its own belongs to "
        "it (its allowed origins and chat switch apply); without it, to any site that allows the page. A dialogue "
        "always belongs to its own `site:`.",
    )
    consent: bool = Field(
        default=False,
        description="The visitor consented (the widget sends true only then); a site that requires consent refuses "
        "a start without it (403).",
    )


ConversationId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="From the start answer.")]
Token = Annotated[
    str,
    Header(alias="X-Conversation-Token", max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="From the start."),
]


def _out(
    view: conversations.View,
    *,
    transcript: bool = False,
    status_code: int = 200,
    earlier: conversations.View | None = None,
    offer: MeetingOffer | None = None,
) -> Response:
    """The answer, serialised here: the model is built from our own objects, so FastAPI's second validation of
    it (one more trip through the thread pool on every reply) would only cost time. `earlier` is a step taken
    just before in the same call (its messages and events come first)."""
    messages = [*(earlier.turn.messages if earlier else []), *view.turn.messages]
    if view.notice:
        messages.append(engine.BotMessage(text=view.notice, card=view.turn.expected.card or "", kind="notice"))
    out = ConversationOut(
        conversation_id=view.conversation.public_id,
        visitor_id=view.conversation.visitor_id or "",
        token=view.token or (earlier.token if earlier else None),
        step=view.conversation.step,
        status=view.conversation.status,
        messages=messages,
        expected=view.turn.expected,
        transcript=view.turn.state.transcript if transcript else None,
        events=events_of([*(earlier.turn.effects if earlier else []), *view.turn.effects]),
        meeting=offer,
        booked=_booked_out(view),
    )
    return Response(out.model_dump_json(), status_code=status_code, media_type="application/json")


def _booked_out(view: conversations.View) -> MeetingBooked | None:
    if view.booked is None:
        return None
    meeting, zone = view.booked.meeting, view.booked.meeting.visitor_zone
    local = load_zone(zone)
    return MeetingBooked(
        start=meeting.starts_at.astimezone(local),
        end=meeting.ends_at.astimezone(local),
        zone=zone,
        agent_name=view.booked.agent.name,
        email=view.person.contact_email or "",
    )


def _offer_out(offer: booking.Offer, zone: str) -> MeetingOffer:
    picker = slot_picker(offer.slots, zone)
    days = [OfferedDay(date=day.day, times=[time.local for time in day.times]) for day in picker.days]
    minutes = int(offer.duration.total_seconds() // 60)
    return MeetingOffer(zone=zone, duration_minutes=minutes, agent_name=offer.agent_name, days=days)


async def _answer(
    context: AppContext,
    view: conversations.View,
    token: str,
    now: datetime,
    *,
    transcript: bool = False,
    status_code: int = 200,
) -> Response:
    """The answer to the widget; when the conversation waits for a meeting time, with the times to offer
    (`meeting_steps.with_times`, in the thread pool: it may read calendars)."""
    if view.offer_for is None:  # the common case answers without a trip through the thread pool
        return _out(view, transcript=transcript, status_code=status_code)
    answered = await run_in_threadpool(
        meeting_steps.with_times, context.calendar_world, shared_transaction(context), view, token, now
    )
    return _answered(answered, transcript=transcript, status_code=status_code)


def _answered(answered: meeting_steps.Answered, *, transcript: bool = False, status_code: int = 200) -> Response:
    view = answered.view
    offer = _offer_out(answered.offer, view.conversation.time_zone or "UTC") if answered.offer else None
    return _out(view, transcript=transcript, status_code=status_code, earlier=answered.earlier, offer=offer)


@router.post(
    "",
    status_code=201,
    response_model=ConversationOut,
    summary="Start (or pick up) the visitor's conversation with a dialogue or a reusable flow",
)
async def start(request: Request, context: Context, body: StartIn) -> Response:
    """Refused (403) for a page its site does not allow, and (409) while the site's chat is switched off, unless
    the visitor's conversation with the dialogue is running: then it is given back."""
    now, caller = utcnow(), access.Caller.of(request, context, body.page_url)

    def work(session: Session) -> conversations.View:
        access.check_start(context, session, caller, body.dialogue, body.site, body.visitor_id, body.consent)
        view = conversations.start(
            session,
            dialogue_key=body.dialogue,
            visitor_id=body.visitor_id,
            page_url=body.page_url,
            language=body.language,
            languages=body.languages,
            region=body.region,
            now=now,
            time_zone=body.time_zone,
            channel=body.channel,
        )
        return view

    view = await in_shared_transaction(context, work)
    return await _answer(context, view, view.token or "", now, transcript=view.turn.messages == [], status_code=201)


async def _checked(
    request: Request, context: AppContext, conversation_id: str, change: Callable[[Session], Changed]
) -> Changed:
    """`change` in the shared writing transaction, once the calling page may use the conversation's site (403,
    nothing written, otherwise)."""
    caller = access.Caller.of(request, context)

    def work(session: Session) -> Changed:
        access.check_conversation(context, session, caller, conversation_id)
        return change(session)

    return await in_shared_transaction(context, work)


@router.get(
    "/{conversation_id}", response_model=ConversationOut, summary="The conversation as it stands (after a page reload)"
)
async def resume(request: Request, context: Context, conversation_id: ConversationId, token: Token) -> Response:
    caller = access.Caller.of(request, context)

    def work() -> conversations.View:
        with context.db.read() as session:
            access.check_conversation(context, session, caller, conversation_id)
            view = conversations.resume(session, conversation_id, token)
            session.expunge_all()
            return view

    view = await run_in_threadpool(work)
    return await _answer(context, view, token, utcnow(), transcript=True)


@router.post("/{conversation_id}/replies", response_model=ConversationOut, summary="Answer the question waiting")
async def reply(
    request: Request, context: Context, conversation_id: ConversationId, token: Token, body: ReplyIn
) -> Response:
    answer, now = engine.Reply(choice=body.choice, text=body.text), utcnow()
    view = await _checked(request, context, conversation_id, lambda session: conversations.reply(
        session, conversation_id, token, body.step, answer, now, body.time_zone))  # fmt: skip
    return await _answer(context, view, token, now)


@router.post(
    "/{conversation_id}/meeting",
    response_model=ConversationOut,
    summary="Book the meeting time the visitor picked",
    description="Books one of the offered times. If it was just taken, the answer repeats the question with a "
    "notice and fresh times (same expected kind, a new step); if nobody can meet at all, the dialogue goes on.",
)
async def pick_time(
    request: Request, context: Context, conversation_id: ConversationId, token: Token, body: PickTime
) -> Response:
    now, caller = utcnow(), access.Caller.of(request, context)

    def read(work: Callable[[Session], booking.BookingRequest]) -> booking.BookingRequest:
        with context.db.read() as session:
            access.check_conversation(context, session, caller, conversation_id)
            return work(session)

    answered = await run_in_threadpool(
        meeting_steps.pick_time, context.calendar_world, read, shared_transaction(context),
        conversation_id, token, body.step, body.start, now, body.time_zone,
    )  # fmt: skip
    return _answered(answered)


# A move of the visitor that takes no answer, as the service names it: (session, public id, token, step, now).
Move = Callable[[Session, str, str, int, datetime], conversations.View]


async def _stepped(
    request: Request, context: AppContext, conversation_id: str, token: str, step: int, move: Move
) -> Response:
    """`move` (`conversations.back`, `conversations.restart`) made at `step` in the shared writing transaction,
    answered like a reply."""
    now = utcnow()
    view = await _checked(request, context, conversation_id, lambda session: move(
        session, conversation_id, token, step, now))  # fmt: skip
    return await _answer(context, view, token, now)


@router.post("/{conversation_id}/back", response_model=ConversationOut, summary="Undo the last answer")
async def back(
    request: Request, context: Context, conversation_id: ConversationId, token: Token, body: Step
) -> Response:
    return await _stepped(request, context, conversation_id, token, body.step, conversations.back)


@router.post("/{conversation_id}/restart", response_model=ConversationOut, summary="Start over from the first card")
async def restart(
    request: Request, context: Context, conversation_id: ConversationId, token: Token, body: Step
) -> Response:
    return await _stepped(request, context, conversation_id, token, body.step, conversations.restart)


@router.post(
    "/{conversation_id}/dismiss", response_model=ConversationOut, summary="The visitor closed the conversation"
)
async def dismiss(request: Request, context: Context, conversation_id: ConversationId, token: Token) -> Response:
    now = utcnow()
    return await _checked(request, context, conversation_id, lambda session: _out(
        conversations.dismiss(session, conversation_id, token, now)))  # fmt: skip


@router.post("/{conversation_id}/links", status_code=204, summary="The visitor opened a link the bot showed")
async def link_clicked(
    request: Request, context: Context, conversation_id: ConversationId, token: Token, body: LinkClick
) -> None:
    now = utcnow()
    await _checked(request, context, conversation_id, lambda session: conversations.link_clicked(
        session, conversation_id, token, body.url, now))  # fmt: skip
