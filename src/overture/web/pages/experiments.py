"""A dialogue's experiment page: each variant's figures with its 95 % interval, the verdict in words, and promoting a
variant (confirmed first when the result is not clear yet). docs/experiments.md says how it is counted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.analytics.experiment_schemas import ExperimentReport
from overture.analytics.experiments import experiment_report
from overture.conversations.scenarios import scenario_check
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.models import Dialogue
from overture.dialogues.promotion import promote
from overture.errors import Conflict, InvalidInput, NotFound
from overture.people.service import field_schema
from overture.users.models import User
from overture.users.roles import Area, can_open
from overture.web.deps import DbSession
from overture.web.guards import DialoguesPageUser, ReportsPageUser
from overture.web.pages.forms import refuse
from overture.web.pages.rendering import page_router, render, succeeded

router = page_router()
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN)]
PAGE = "/admin/reports/dialogues/{key}/experiment"
GOAL_WORDS = {"people_acquired": "people acquired", "meeting_booked": "meeting booked"}


def _bars(report: ExperimentReport) -> dict[str, dict[str, float]]:
    """Each variant's interval as positions on one scale (0 to the highest upper end), for the bar beside it."""
    top = max((variant.high or 0.0 for variant in report.variants), default=0.0) or 1.0
    return {
        variant.key: {
            "low": (variant.low or 0) / top,
            "high": (variant.high or 0) / top,
            "rate": (variant.rate or 0) / top,
        }
        for variant in report.variants
        if variant.rate is not None
    }


def _page(
    request: Request, session: Session, user: User, dialogue: Dialogue, status: int = 200, **extra: Any
) -> Response:
    try:
        report: ExperimentReport | None = experiment_report(session, dialogue.key)
    except NotFound:
        report = None
    return render(
        request,
        "admin/experiment.html",
        user,
        status=status,
        dialogue=dialogue,
        report=report,
        bars=_bars(report) if report else {},
        goal=GOAL_WORDS.get(report.goal, f"goal {report.goal}") if report else "",
        may_promote=can_open(user.role, Area.dialogues) and report is not None and report.running,
        **extra,
    )


@router.get(PAGE)
def experiment_page(request: Request, session: DbSession, user: ReportsPageUser, key: DialogueKey) -> Response:
    return _page(request, session, user, dialogues.get(session, key))


@router.post(PAGE + "/promote")
def promote_variant(
    request: Request,
    session: DbSession,
    user: DialoguesPageUser,
    key: DialogueKey,
    variant: Annotated[str, Form(max_length=80)],
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Promotes at once when `variant` is the clear winner; otherwise shows the page again asking to confirm."""
    dialogue = dialogues.get(session, key)
    try:
        report = experiment_report(session, key)
    except NotFound as exc:
        return _page(request, session, user, dialogue, status=exc.status, error=exc.message)
    if report.verdict.winner != variant and confirm != "yes":
        return _page(request, session, user, dialogue, confirming=variant)
    try:
        version = promote(session, dialogue, variant, fields=field_schema(session), now=utcnow(), user_id=user.id,
                          checks=[scenario_check])  # fmt: skip
    except (InvalidInput, Conflict) as exc:
        refused = refuse(session, exc, {})
        return _page(request, session, user, dialogues.get(session, key), status=refused.status, error=refused.sentence)
    return succeeded(
        request,
        f"Variant {variant} is the flow now: version {version.number} is published and live.",
        PAGE.format(key=key),
    )
