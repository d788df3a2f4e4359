"""Admin API: explain targeting — which dialogue a person would see on a page, and why each other one would not."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.sites.demo import demo_pages
from overture.visits.explain import explain
from overture.visits.schemas import PageUrl
from overture.web.deps import Context, DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import DialoguesApiUser

router = APIRouter(prefix="/api/v1/admin/targeting", tags=["targeting"], responses=API_ERROR_RESPONSES)


class ExplainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: PageUrl
    person_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="The person; none: a new anonymous visitor."
    )
    site: str | None = Field(
        default=None, max_length=80, pattern=KEY_PATTERN, description="Default: the site whose origins hold the URL."
    )


class VerdictOut(BaseModel):
    key: str
    site: str
    shown: bool
    reason: str = Field(description="Why it would not show (or that it is the one shown).")


class ExplainOut(BaseModel):
    site: str | None = Field(description="The site a visitor of the URL gets; null when no site's origins hold it.")
    url: str
    person_id: int | None
    continuing: str | None = Field(description="The dialogue of an engaged conversation that goes on instead.")
    dialogues: list[VerdictOut] = Field(description="Live dialogues best ranked first, then those not live.")


@router.post("/explain", summary="Which dialogue would show, and why each other one would not")
def explain_route(session: DbSession, context: Context, _: DialoguesApiUser, body: ExplainIn) -> ExplainOut:
    explained = explain(
        session.connection(),
        context.selector_cache,
        url=body.url,
        person_id=body.person_id,
        site=body.site,
        now=utcnow(),
        embedded=demo_pages(context.settings.base_url),
    )
    return ExplainOut(
        site=explained.site,
        url=explained.url,
        person_id=explained.person_id,
        continuing=explained.continuing,
        dialogues=[VerdictOut(key=v.key, site=v.site, shown=v.shown, reason=v.reason) for v in explained.verdicts],
    )
