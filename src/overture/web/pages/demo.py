"""The demo website served by `overture demo` at /demo: pages of a fictional company, where the widget will show."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str) -> Response:
    response: Response = request.app.state.context.templates.TemplateResponse(request, template, {})
    return response


@router.get("/demo")
def demo_home(request: Request) -> Response:
    return _page(request, "demo/index.html")


@router.get("/demo/pricing")
def demo_pricing(request: Request) -> Response:
    return _page(request, "demo/pricing.html")
