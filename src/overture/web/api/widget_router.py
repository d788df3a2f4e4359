"""The widget API's one CORS decision. Every widget route is made by `widget_router`, whose route class decides
which page may read each answer, errors included (a 422 names what to fix, a 409 says why nothing starts):

- an answer the route gave is for an allowed page: each call checks its own site (`widget_access`), so the
  calling page may read it;
- an error found before the site was known (a body that does not parse, an unknown site or conversation, a failure
  of ours) is readable by pages some site (or Overture itself) allows;
- a page its site refuses (`OriginRefused`) reads nothing, not even the refusal.

`Access-Control-Allow-Origin` repeats the calling page's origin, never `*`, with `Vary: Origin`. The browser's
preflight cannot know the site yet: it answers as for an error found before the site was known. No cookie is
read: the conversation's token, sent in a header, is what authorises a call on a conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from overture.web.api import widget_access as access
from overture.web.context import AppContext
from overture.web.deps import Context
from overture.web.errors import API_ERROR_RESPONSES

PREFIX = "/api/v1/widget"
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type, X-Conversation-Token",
    "Access-Control-Max-Age": "600",
}


async def _allowed_by_some_site(context: AppContext, origin: str) -> bool:
    return await run_in_threadpool(access.allowed_by_some_site, context, origin)


class CrossOriginRoute(APIRoute):
    """A widget route whose every answer, errors included, carries the CORS decision of this module."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_with_cors(request: Request) -> Response:
            refused = False
            try:
                response = await handler(request)
            except Exception as exc:
                # Rendered here rather than by the app, so the error answer gets its CORS headers too.
                refused = isinstance(exc, access.OriginRefused)
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
            origin, context = request.headers.get("origin"), request.app.state.context
            if origin:
                response.headers["Vary"] = "Origin"
                if not refused and (response.status_code < 400 or await _allowed_by_some_site(context, origin)):
                    response.headers["Access-Control-Allow-Origin"] = origin
            return response

        return answer_with_cors


def widget_router(path: str = "") -> APIRouter:
    """A router for widget routes under /api/v1/widget`path`: public, in the OpenAPI document's widget section,
    every answer with this module's CORS decision."""
    return APIRouter(prefix=PREFIX + path, tags=["widget"], responses=API_ERROR_RESPONSES, route_class=CrossOriginRoute)


# The preflight decides for itself (it knows no site), so it is a plain route rather than a CrossOriginRoute.
preflights = APIRouter(prefix=PREFIX)


@preflights.options("/{path:path}", include_in_schema=False)
async def preflight(request: Request, context: Context, path: str) -> Response:
    """A browser asks before its first JSON call from a site's page. The answer names the page's origin only when
    a site (or Overture itself) allows it; the call itself then checks the page against its own site."""
    origin = request.headers.get("origin")
    if not origin or not await _allowed_by_some_site(context, origin):
        return Response(status_code=204, headers={"Vary": "Origin"})
    return Response(
        status_code=204, headers={"Access-Control-Allow-Origin": origin, **PREFLIGHT_HEADERS, "Vary": "Origin"}
    )
