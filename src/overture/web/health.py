"""/healthz: 200 when this process can serve, 503 when it cannot (for load balancers and monitors): when the
database does not answer, or when the process's database writer (the group committer) has stopped, which would
leave every visit and conversation write waiting."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Is this process able to serve?")
def healthz(request: Request) -> JSONResponse:
    context = request.app.state.context
    writer_problem = context.group_commit.problem()
    database = "ok" if context.db.ping() else "down"
    writer = "ok" if writer_problem is None else "stopped"
    if database == "ok" and writer == "ok":
        return JSONResponse({"ok": True, "database": "ok", "writer": "ok"})
    error = "The database does not answer." if database == "down" else writer_problem
    return JSONResponse(
        {"ok": False, "error": error, "errors": [], "status": 503, "database": database, "writer": writer},
        status_code=503,
    )
