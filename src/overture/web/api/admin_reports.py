"""Admin API: reports. A dialogue's figures, by day, and its funnel; its breakdowns (docs/reports.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from overture.analytics.breakdowns import breakdown
from overture.analytics.dialogue_report import dialogue_report
from overture.analytics.schemas import Breakdown, DialogueReport
from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ReportsApiUser

router = APIRouter(prefix="/api/v1/admin/reports", tags=["reports"], responses=API_ERROR_RESPONSES)
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
    first: Annotated[
        date | None, Query(alias="from", description="The first day counted (YYYY-MM-DD, in `zone`).")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="The last day counted (YYYY-MM-DD, in `zone`).")] = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="One version only; default: all.")] = None,
    zone: Annotated[
        str | None, Query(max_length=64, description="The IANA time zone of the days, e.g. Europe/Paris; default UTC.")
    ] = None,
) -> DialogueReport:
    """Counted as docs/reports.md says; by default the last 30 days ending today in `zone`."""
    return dialogue_report(session, key, first=first, last=last, version=version, zone=zone, now=utcnow())


@router.get(
    "/dialogues/{key}/breakdowns",
    summary="A dialogue's conversations by page, UTM source or campaign, company, or known and anonymous visitors",
    response_model=Breakdown,
    response_model_by_alias=True,
)
def dialogue_breakdown(
    session: DbSession,
    _: ReportsApiUser,
    key: DialogueKey,
    by: Annotated[str, Query(max_length=20, description="page, utm_source, utm_campaign, company or known.")],
    first: Annotated[
        date | None, Query(alias="from", description="The first day counted (YYYY-MM-DD, in `zone`).")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="The last day counted (YYYY-MM-DD, in `zone`).")] = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="One version only; default: all.")] = None,
    zone: Annotated[
        str | None, Query(max_length=64, description="The IANA time zone of the days, e.g. Europe/Paris; default UTC.")
    ] = None,
) -> Breakdown:
    """The conversations started in the period, grouped as docs/reports.md says; the period as the report's."""
    return breakdown(session, key, by=by, first=first, last=last, version=version, zone=zone, now=utcnow())
