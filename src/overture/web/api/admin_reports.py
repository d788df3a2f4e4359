"""Admin API: reports. The dashboard, and a dialogue's figures, by day, its funnel and its breakdowns
(docs/reports.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from overture.analytics import rollups
from overture.analytics.breakdowns import breakdown
from overture.analytics.dashboard import dashboard
from overture.analytics.dialogue_report import dialogue_report
from overture.analytics.schemas import Breakdown, Dashboard, DialogueReport
from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.web.deps import Context, DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ReportsApiUser

router = APIRouter(prefix="/api/v1/admin/reports", tags=["reports"], responses=API_ERROR_RESPONSES)
First = Annotated[date | None, Query(alias="from", description="The first day counted (YYYY-MM-DD, in `zone`).")]
Last = Annotated[date | None, Query(alias="to", description="The last day counted (YYYY-MM-DD, in `zone`).")]
Zone = Annotated[
    str | None, Query(max_length=64, description="The IANA time zone of the days, e.g. Europe/Paris; default UTC.")
]
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The dialogue's or flow's key.")]


@router.get(
    "/dialogues/{key}",
    summary="A dialogue's figures, by day, and its funnel",
    response_model=DialogueReport,
    response_model_by_alias=True,
)
def dialogue(
    session: DbSession,
    _: ReportsApiUser,
    key: DialogueKey,
    context: Context,
    first: First = None,
    last: Last = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="One version only; default: all.")] = None,
    zone: Zone = None,
) -> DialogueReport:
    """Counted as docs/reports.md says; by default the last 30 days ending today in `zone`."""
    now = utcnow()
    _up_to_date(session, context, now)
    return dialogue_report(session, key, first=first, last=last, version=version, zone=zone, now=now)


@router.get(
    "/dialogues/{key}/breakdowns",
    summary="A dialogue's conversations by page, UTM source or campaign, company, known and anonymous visitors, "
    "or channel",
    response_model=Breakdown,
    response_model_by_alias=True,
)
def dialogue_breakdown(
    session: DbSession,
    _: ReportsApiUser,
    key: DialogueKey,
    by: Annotated[str, Query(max_length=20, description="page, utm_source, utm_campaign, company, known or channel.")],
    first: First = None,
    last: Last = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="One version only; default: all.")] = None,
    zone: Zone = None,
) -> Breakdown:
    """The conversations started in the period, grouped as docs/reports.md says (read from the conversations, not
    the rollups); the period as the report's."""
    return breakdown(session, key, by=by, first=first, last=last, version=version, zone=zone, now=utcnow())


@router.get(
    "/dashboard",
    summary="Every dialogue's figures, by day, the top dialogues and pages, meetings by agent and dialogue",
    response_model=Dashboard,
    response_model_by_alias=True,
)
def dashboard_figures(
    session: DbSession, _: ReportsApiUser, context: Context, first: First = None, last: Last = None, zone: Zone = None
) -> Dashboard:
    """Counted as docs/reports.md says; by default the last 30 days ending today in `zone`."""
    now = utcnow()
    _up_to_date(session, context, now)
    return dashboard(session, first=first, last=last, zone=zone, now=now)


def _up_to_date(session: Session, context: Context, now: datetime) -> None:
    """Counts what was recorded since the rollups' last run. The request's transaction ends first (it holds the
    sign-in's note of the token used): on SQLite it would go on seeing the database as it was before the count."""
    session.commit()
    rollups.refresh(context.db, now)
