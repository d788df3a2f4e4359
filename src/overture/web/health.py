"""/healthz: 200 when the database answers, 503 when it does not (for load balancers and monitors)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Is this process able to serve?")
def healthz(request: Request) -> JSONResponse:
    if request.app.state.context.db.ping():
        return JSONResponse({"ok": True, "database": "ok"})
    return JSONResponse(
        {"ok": False, "error": "The database does not answer.", "errors": [], "status": 503, "database": "down"},
        status_code=503,
    )
