"""Running automations: the activity feed's consumer `automations` (activities/feed.py).

A batch of activities is read, each enabled automation waiting for an activity's type is tried on it, and a
matching one runs its actions; the run's record (unique per automation and activity), the actions' writes and the
feed's checkpoint commit in one transaction. So a crash or a kill anywhere before that commit does nothing (the
batch is read again and run once), and after it everything is done: an action is never run twice and never
dropped. Each action runs in a savepoint: one that fails is rolled back and logged, and the others still run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities import feed
from overture.activities.models import Activity
from overture.automations import actions, matching
from overture.automations.models import Automation, AutomationRun
from overture.automations.service import CONSUMER, Checked, loaded
from overture.db import Database
from overture.people.directory import display_name
from overture.people.models import Person
from overture.people.service import company_of

log = structlog.get_logger(__name__)


def run_due(db: Database, now: datetime, base_url: str, *, again: bool = False) -> int:
    """Runs the automations on the activities recorded since the last read, a batch per transaction; `again` (the
    periodic run) reads the feed's look-back window once more. Returns the runs made."""
    made = 0
    while True:
        with db.write() as session:
            batch = feed.read(session, CONSUMER, now, again=again)
            made += run_batch(session, batch.activities, now, base_url)
            feed.advance(session, batch, now)
        again = False
        if not batch.more:
            return made


def run_batch(session: Session, activities: list[Activity], now: datetime, base_url: str) -> int:
    waiting: dict[str, list[Checked]] = defaultdict(list)
    for stored in session.scalars(select(Automation).where(Automation.enabled.is_(True))):
        try:
            waiting[stored.activity_type].append(loaded(stored))
        except ValueError:
            log.warning("automation_unreadable", automation=stored.id)  # saved by an older version: skipped
    if not waiting:
        return 0
    # What ran already (the feed's look-back reads activities again): run once.
    done = {
        (automation_id, activity_id)
        for automation_id, activity_id in session.execute(
            select(AutomationRun.automation_id, AutomationRun.activity_id).where(
                AutomationRun.activity_id.in_([activity.id for activity in activities])
            )
        )
    }
    made = 0
    for activity in activities:
        for automation in waiting.get(activity.type, []):
            if (automation.id, activity.id) not in done and _should_run(session, automation, activity, now):
                _run(session, automation, activity, now, base_url)
                made += 1
    return made


def _should_run(session: Session, automation: Checked, activity: Activity, now: datetime) -> bool:
    if activity.occurred_at < automation.created_at:
        return False  # an automation acts on what happens after it is made, not on the past
    attributes = activity.attributes or {}
    if attributes.get("source") == "automation" and attributes.get("source_ref") == str(automation.id):
        return False  # its own doing: an automation never triggers itself
    reason = matching.why_not(
        session, activity, automation.activity_type, automation.filters, automation.condition, now
    )
    return reason is None


def _run(session: Session, automation: Checked, activity: Activity, now: datetime, base_url: str) -> None:
    person = session.get(Person, activity.person_id) if activity.person_id is not None else None
    run = actions.Run(session, now, automation.id, automation.name, activity, person,
                      company_of(session, person) if person is not None else None, base_url)  # fmt: skip
    results: list[dict[str, Any]] = []
    for index, (kind, params) in enumerate(automation.actions):
        run.index = index
        try:
            with session.begin_nested():
                said = kind.act(run, params)
            results.append({"action": kind.type, "status": "done", "said": said})
        except actions.ActionFailed as error:
            results.append({"action": kind.type, "status": "failed", "said": str(error)})
    failed = any(result["status"] == "failed" for result in results)
    session.add(
        AutomationRun(
            automation_id=automation.id,
            activity_id=activity.id,
            person_id=activity.person_id,
            status="failed" if failed else "done",
            inputs=_inputs(session, activity, person),
            results=results,
            ran_at=now,
        )
    )
    session.flush()


def _inputs(session: Session, activity: Activity, person: Person | None) -> dict[str, Any]:
    return {
        "activity": {
            "type": activity.type,
            "occurred_at": activity.occurred_at.isoformat(),
            "attributes": dict(activity.attributes or {}),
            "summary": actions.summary(session, activity),
        },
        "person": None if person is None else {"id": person.id, "name": display_name(person),
                                              "email": person.email},
    }  # fmt: skip
