"""Shared page helpers: render a template with the signed-in user, flash a message, redirect after a POST."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRouter

from overture.users.models import User
from overture.web.deps import csrf_protect


def page_router() -> APIRouter:
    """A router for admin pages: kept out of the OpenAPI document, CSRF-checked on every unsafe method."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def render(request: Request, template: str, user: User | None, status: int = 200, **context: Any) -> Response:
    flashes = request.session.pop("flash", [])
    templates = request.app.state.context.templates
    response: Response = templates.TemplateResponse(
        request, template, {"user": user, "flashes": flashes, **context}, status_code=status
    )
    return response


def flash(request: Request, message: str, kind: str = "info", link: tuple[str, str] | None = None) -> None:
    """Shows `message` once, on the next page rendered, with an optional (url, label) link after it."""
    item = {"message": message, "kind": kind}
    if link:
        item.update(link_url=link[0], link_label=link[1])
    request.session.setdefault("flash", []).append(item)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def succeeded(request: Request, message: str, url: str) -> RedirectResponse:
    """The answer to a form that worked (post, redirect, get): goes to `url`, which shows `message` once."""
    flash(request, message, "success")
    return redirect(url)


def safe_next(target: str | None) -> str:
    """Only our own admin pages are allowed as a place to return to after sign-in."""
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"
