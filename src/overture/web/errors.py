"""One error shape: JSON `{"ok": false, "error", "errors", "status"}` for the API, a page a person can act on
for everything else."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from overture.errors import OvertureError, Problem, TooManyAttempts
from overture.web.deps import SignInRequired, signed_in_user

HTTP_MESSAGES = {
    400: "The request is not valid.",
    401: "Sign in or send a valid API token.",
    403: "Your role does not give access to this.",
    404: "There is nothing at this address.",
    405: "This address does not accept this method.",
    422: "Some input is not valid.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. The error was logged; try again in a moment.",
}


class ProblemBody(BaseModel):
    path: str = Field(description="Where: a dotted path to the field or card, e.g. `flow.cards.ask_email`.")
    message: str


class ErrorBody(BaseModel):
    """The shape of every API error."""

    ok: Literal[False] = False
    error: str = Field(description="What went wrong, in a sentence a person understands.")
    errors: list[ProblemBody] = Field(description="Every problem with the input, each with its path.")
    status: int


# Declared on every API router, so the OpenAPI document describes the error answers too.
API_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (401, "No valid API token"),
        (403, "The token's user may not do this"),
        (404, "Not found"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input; `errors` lists every problem"),
    )
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/openapi.json")


def error_body(status: int, message: str, problems: list[Problem]) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": [p.as_dict() for p in problems], "status": status}


def render_error(
    request: Request, status: int, message: str, problems: list[Problem], headers: dict[str, str]
) -> Response:
    if wants_json(request):
        return JSONResponse(error_body(status, message, problems), status_code=status, headers=headers)
    context = request.app.state.context
    page: Response = context.templates.TemplateResponse(
        request,
        "admin/error.html",
        {"status": status, "message": message, "problems": problems, "user": signed_in_user(request, context.db)},
        status_code=status,
        headers=headers,
    )
    return page


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")]
        problems.append(Problem(".".join(location) or "request", str(error.get("msg", "is not valid"))))
    return problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OvertureError)
    async def _overture_error(request: Request, exc: OvertureError) -> Response:
        if isinstance(exc, SignInRequired) and not wants_json(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)
        headers = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        return render_error(request, exc.status, exc.message, exc.problems, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return render_error(request, 422, HTTP_MESSAGES[422], _validation_problems(exc), {})

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        message = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed")
            else None
        )
        message = message or HTTP_MESSAGES.get(exc.status_code, "The request could not be served.")
        return render_error(request, exc.status_code, message, [], dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        structlog.get_logger("overture.web").exception("unhandled error", path=request.url.path)
        return render_error(request, 500, HTTP_MESSAGES[500], [], {})
