"""Widget API: conversations. Public (no admin token): the conversation's own token proves who may continue it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.schemas import ConversationOut, LinkClick, ReplyIn, StartConversation, Step, events_of
from overture.db import utcnow
from overture.web.deps import Context, DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.shared_transaction import in_shared_transaction


class CrossOriginRoute(APIRoute):
    """Lets the page that called read the answer, errors included (a 422 names what to fix). The conversation's
    token, sent in a header and never a cookie, is what authorises a call, so this grants a page nothing more."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                render = next(
                    (
                        request.app.exception_handlers[kind]
                        for kind in type(exc).__mro__
                        if kind in request.app.exception_handlers
                    ),
                    None,
                )
                if render is None:
                    raise
                response = await render(request, exc)
            origin = request.headers.get("origin")
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            return response

        return answer_with_cors


router = APIRouter(
    prefix="/api/v1/widget/conversations",
    tags=["widget"],
    responses=API_ERROR_RESPONSES,
    route_class=CrossOriginRoute,
)
ConversationId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="From the start answer.")]
Token = Annotated[
    str,
    Header(alias="X-Conversation-Token", max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="From the start."),
]


def _out(view: conversations.View, *, transcript: bool = False, status_code: int = 200) -> Response:
    """The answer, serialised here: the model is built from our own objects, so FastAPI's second validation of
    it (one more trip through the thread pool on every reply) would only cost time."""
    out = ConversationOut(
        conversation_id=view.conversation.public_id,
        visitor_id=view.conversation.visitor_id or "",
        token=view.token,
        step=view.conversation.step,
        status=view.conversation.status,
        messages=view.turn.messages,
        expected=view.turn.expected,
        transcript=view.turn.state.transcript if transcript else None,
        events=events_of(view.turn.effects),
    )
    return Response(out.model_dump_json(), status_code=status_code, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=ConversationOut,
    summary="Start (or pick up) the visitor's conversation with a dialogue or a reusable flow",
)
async def start(context: Context, body: StartConversation) -> Response:
    now = utcnow()

    def work(session: Session) -> Response:
        view = conversations.start(
            session,
            dialogue_key=body.dialogue,
            visitor_id=body.visitor_id,
            page_url=body.page_url,
            language=body.language,
            languages=body.languages,
            region=body.region,
            now=now,
        )
        return _out(view, transcript=view.turn.messages == [], status_code=201)

    return await in_shared_transaction(context, work)


@router.get(
    "/{conversation_id}", response_model=ConversationOut, summary="The conversation as it stands (after a page reload)"
)
def resume(session: DbSession, conversation_id: ConversationId, token: Token) -> Response:
    return _out(conversations.resume(session, conversation_id, token), transcript=True)


@router.post("/{conversation_id}/replies", response_model=ConversationOut, summary="Answer the question waiting")
async def reply(context: Context, conversation_id: ConversationId, token: Token, body: ReplyIn) -> Response:
    answer, now = engine.Reply(choice=body.choice, text=body.text), utcnow()
    return await in_shared_transaction(
        context, lambda session: _out(conversations.reply(session, conversation_id, token, body.step, answer, now))
    )


@router.post("/{conversation_id}/back", response_model=ConversationOut, summary="Undo the last answer")
async def back(context: Context, conversation_id: ConversationId, token: Token, body: Step) -> Response:
    now = utcnow()
    return await in_shared_transaction(
        context, lambda session: _out(conversations.back(session, conversation_id, token, body.step, now))
    )


@router.post("/{conversation_id}/restart", response_model=ConversationOut, summary="Start over from the first card")
async def restart(context: Context, conversation_id: ConversationId, token: Token, body: Step) -> Response:
    now = utcnow()
    return await in_shared_transaction(
        context, lambda session: _out(conversations.restart(session, conversation_id, token, body.step, now))
    )


@router.post(
    "/{conversation_id}/dismiss", response_model=ConversationOut, summary="The visitor closed the conversation"
)
async def dismiss(context: Context, conversation_id: ConversationId, token: Token) -> Response:
    now = utcnow()
    return await in_shared_transaction(
        context, lambda session: _out(conversations.dismiss(session, conversation_id, token, now))
    )


@router.post("/{conversation_id}/links", status_code=204, summary="The visitor opened a link the bot showed")
async def link_clicked(context: Context, conversation_id: ConversationId, token: Token, body: LinkClick) -> None:
    now = utcnow()
    await in_shared_transaction(
        context, lambda session: conversations.link_clicked(session, conversation_id, token, body.url, now)
    )
