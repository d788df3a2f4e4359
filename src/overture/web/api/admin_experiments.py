"""Admin API: a dialogue's experiment. Its report (each variant's figures, interval and the verdict) and promoting
a variant to be the flow (docs/experiments.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from overture.analytics.experiment_schemas import ExperimentReport, Promoted, PromoteRequest
from overture.analytics.experiments import experiment_report
from overture.conversations.scenarios import scenario_check
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.promotion import promote
from overture.people.service import field_schema
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import DialoguesApiUser, ReportsApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["experiments"], responses=API_ERROR_RESPONSES)
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The dialogue's key.")]


@router.get(
    "/reports/dialogues/{key}/experiment",
    summary="A dialogue's experiment: each variant's figures, interval and the verdict",
)
def report(session: DbSession, _: ReportsApiUser, key: DialogueKey) -> ExperimentReport:
    """The experiment the live version runs, else the last one a version ran; 404 when it never ran one."""
    return experiment_report(session, key)


@router.post(
    "/dialogues/{key}/experiment/promote",
    summary="Publish the next version with a variant as the flow and no experiment",
)
def promote_variant(session: DbSession, user: DialoguesApiUser, key: DialogueKey, body: PromoteRequest) -> Promoted:
    """Allowed before the verdict too (the report says whether the result is clear). 422 for an unknown variant,
    409 when the live version runs no experiment or the draft has changes that are not published."""
    dialogue = dialogues.get(session, key)
    version = promote(
        session, dialogue, body.variant, fields=field_schema(session), now=utcnow(), user_id=user.id,
        checks=[scenario_check],
    )  # fmt: skip
    return Promoted(dialogue=key, variant=body.variant, version=version.number, published_at=version.published_at)
