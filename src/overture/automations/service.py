"""Keeping automations (checked whole on every save: the trigger's activity, filters and condition, each action by
its kind), trying one against a recent activity without doing anything, and reading their runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overture.activities import feed
from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.automations import actions, matching
from overture.automations.models import Automation, AutomationRun
from overture.automations.schemas import (
    ActionResult,
    AttributeFilter,
    AutomationIn,
    AutomationOut,
    PreviewOut,
    RecentActivity,
    RunOut,
    RunPage,
    Trigger,
)
from overture.dialogues.document import Condition
from overture.dialogues.validation import parse_audience
from overture.errors import InvalidInput, NotFound, Problem
from overture.people.directory import display_name
from overture.people.models import Person
from overture.people.service import company_of, field_schema

CONSUMER = "automations"  # its name in the activity feed
RUNS_PAGE = 50
_CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def activity_types() -> list[str]:
    """The activities an automation can wait for."""
    return [kind.value for kind in ActivityType]


@dataclass(frozen=True)
class Checked:
    """An automation as the runner uses it: the trigger's parts parsed, each action with its kind."""

    id: int
    name: str
    activity_type: str
    created_at: datetime
    filters: list[AttributeFilter]
    condition: Condition | None
    actions: list[tuple[actions.ActionKind, actions.Params]]


def loaded(automation: Automation) -> Checked:
    """A stored automation, parsed again (it was checked when saved)."""
    return Checked(
        automation.id,
        automation.name,
        automation.activity_type,
        automation.created_at,
        [AttributeFilter.model_validate(item) for item in automation.attributes],
        _CONDITION.validate_python(automation.condition) if automation.condition is not None else None,
        [actions.parse(item) for item in automation.actions],
    )


def _check(
    session: Session, given: AutomationIn, own_id: int | None, *, naming: bool = True
) -> tuple[Condition | None, list[dict[str, Any]]]:
    """Every problem of `given`, each at its path (its name too, unless `naming` is off: a preview); raises
    InvalidInput listing them. Returns the condition and the actions as they are stored."""
    problems: list[Problem] = []
    name = given.name.strip()
    if not name and naming:
        problems.append(Problem("name", "Give the automation a name."))
    elif naming:
        taken = session.scalar(select(Automation.id).where(Automation.name_key == name.casefold()))
        if taken is not None and taken != own_id:
            problems.append(Problem("name", f"An automation named {name} exists already: choose another name."))
    if given.trigger.activity not in activity_types():
        problems.append(
            Problem("trigger.activity", f"'{given.trigger.activity}' is not an activity: use one of "
                    f"{', '.join(activity_types())}.")
        )  # fmt: skip
    for i, test in enumerate(given.trigger.attributes):
        problems += _filter_problems(test, f"trigger.attributes.{i}")
    condition = None
    if given.trigger.where is not None:
        condition, found = parse_audience(given.trigger.where, fields=field_schema(session))
        problems += [Problem(f"trigger.{problem.path}", problem.message) for problem in found]
    stored = []
    for i, action in enumerate(given.actions):
        data = action.model_dump()
        try:
            kind, params = actions.parse(data)
        except ValueError as error:
            problems.append(Problem(f"actions.{i}", str(error)))
            continue
        problems += [Problem(f"actions.{i}", message) for message in kind.check(session, params)]
        stored.append({"type": kind.type, **params.model_dump(mode="json")})
    if problems:
        count = len(problems)
        raise InvalidInput(f"The automation has {count} problem{'s' if count != 1 else ''}.", problems)
    return condition, stored


def _filter_problems(test: AttributeFilter, path: str) -> list[Problem]:
    if test.op in ("is_empty", "is_not_empty"):
        return [] if test.value is None else [Problem(f"{path}.value", f"'{test.op}' takes no value: remove it.")]
    if test.op in ("in", "not_in"):
        if not isinstance(test.value, list) or not test.value:
            return [Problem(f"{path}.value", f"'{test.op}' needs a list of values, like [demo, pricing].")]
        return []
    if test.value is None or isinstance(test.value, list | dict):
        return [Problem(f"{path}.value", f"'{test.op}' needs one value.")]
    return []


def _write(automation: Automation, given: AutomationIn, condition: Condition | None, stored: list[dict[str, Any]],
           now: datetime) -> None:  # fmt: skip
    automation.name = given.name.strip()
    automation.name_key = automation.name.casefold()
    automation.description = given.description.strip()
    automation.enabled = given.enabled
    automation.activity_type = given.trigger.activity
    automation.attributes = [test.model_dump(mode="json") for test in given.trigger.attributes]
    automation.condition = (
        _CONDITION.dump_python(condition, mode="json", by_alias=True, exclude_none=True) if condition else None
    )
    automation.actions = stored
    automation.updated_at = now


def create(session: Session, given: AutomationIn, now: datetime) -> Automation:
    """Saves a new automation; it acts on activities recorded from now on, not on the past."""
    condition, stored = _check(session, given, None)
    automation = Automation(created_at=now)
    _write(automation, given, condition, stored, now)
    session.add(automation)
    session.flush()
    feed.begin(session, CONSUMER, now)
    return automation


def update(session: Session, automation: Automation, given: AutomationIn, now: datetime) -> None:
    condition, stored = _check(session, given, automation.id)
    _write(automation, given, condition, stored, now)
    session.flush()


def set_enabled(session: Session, automation: Automation, enabled: bool, now: datetime) -> None:
    automation.enabled = enabled
    automation.updated_at = now


def delete(session: Session, automation: Automation) -> None:
    """Deletes the automation and its runs' log; what its runs did stays done."""
    session.delete(automation)


def get(session: Session, automation_id: int) -> Automation:
    automation = session.get(Automation, automation_id)
    if automation is None:
        raise NotFound(f"There is no automation with id {automation_id}.")
    return automation


def all_automations(session: Session) -> list[Automation]:
    return list(session.scalars(select(Automation).order_by(Automation.name_key)))


def as_input(automation: Automation) -> AutomationIn:
    """The automation as it was written (for its form and the API)."""
    return AutomationIn.model_validate(
        {
            "name": automation.name,
            "description": automation.description,
            "enabled": automation.enabled,
            "trigger": {
                "activity": automation.activity_type,
                "attributes": automation.attributes,
                "where": automation.condition,
            },
            "actions": automation.actions,
        }
    )


def public(session: Session, automation: Automation) -> AutomationOut:
    counts = dict(
        session.execute(
            select(AutomationRun.status, func.count())
            .where(AutomationRun.automation_id == automation.id)
            .group_by(AutomationRun.status)
        ).all()
    )
    return AutomationOut(
        id=automation.id,
        name=automation.name,
        description=automation.description,
        enabled=automation.enabled,
        trigger=Trigger(
            activity=automation.activity_type,
            attributes=[AttributeFilter.model_validate(item) for item in automation.attributes],
            where=automation.condition,
        ),
        actions=automation.actions,
        runs=sum(counts.values()),
        failed_runs=counts.get("failed", 0),
        created_at=automation.created_at,
        updated_at=automation.updated_at,
    )


# --- trying one out -------------------------------------------------------------------------------------------------


def preview(session: Session, given: AutomationIn, activity_id: int, now: datetime, base_url: str) -> PreviewOut:
    """Whether the activity would trigger the automation as written, and what each action would do: nothing is
    written (the actions' plans run in a savepoint rolled back)."""
    condition, stored = _check(session, given, None, naming=False)
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(f"There is no activity {activity_id} (purged, or a wrong id).")
    filters = list(given.trigger.attributes)
    why = matching.why_not(session, activity, given.trigger.activity, filters, condition, now)
    if why is not None:
        return PreviewOut(matches=False, why_not=why, actions=[])
    person = session.get(Person, activity.person_id) if activity.person_id is not None else None
    run = actions.Run(session, now, 0, given.name, activity, person, company_of(session, person) if person else None,
                      base_url)  # fmt: skip
    said = []
    savepoint = session.begin_nested()  # an integration's plan that writes by mistake keeps nothing
    try:
        for index, data in enumerate(stored):
            kind, params = actions.parse(data)
            run.index = index
            said.append(kind.plan(run, params))
    finally:
        savepoint.rollback()
    return PreviewOut(matches=True, why_not=None, actions=said)


def recent_activities(session: Session, activity_type: str | None, limit: int = 20) -> list[RecentActivity]:
    """The newest activities (of one type), to try an automation against."""
    query = select(Activity).order_by(Activity.id.desc()).limit(limit)
    if activity_type:
        query = query.where(Activity.type == activity_type)
    found = list(session.scalars(query))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_({a.person_id for a in found})))}
    return [
        RecentActivity(
            id=activity.id,
            type=activity.type,
            occurred_at=activity.occurred_at,
            person_id=activity.person_id,
            person=display_name(people[activity.person_id]) if activity.person_id in people else "Anonymous visitor",
            summary=actions.summary(session, activity),
        )
        for activity in found
    ]


# --- the log ----------------------------------------------------------------------------------------------------------


def runs(
    session: Session, *, automation_id: int | None = None, person_id: int | None = None, cursor: str | None = None,
    limit: int = RUNS_PAGE,
) -> RunPage:  # fmt: skip
    """Runs, newest first, of one automation or one person; paged by `cursor` (the last id of the page before)."""
    query = select(AutomationRun, Automation.name).join(Automation, Automation.id == AutomationRun.automation_id)
    if automation_id is not None:
        query = query.where(AutomationRun.automation_id == automation_id)
    if person_id is not None:
        query = query.where(AutomationRun.person_id == person_id)
    if cursor is not None:
        if not cursor.isdigit() or int(cursor) > 2_147_483_647:  # a row id, never past PostgreSQL's integer
            raise InvalidInput("The cursor is not one this list gave.", [Problem("cursor", "Not a cursor.")])
        query = query.where(AutomationRun.id < int(cursor))
    rows = session.execute(query.order_by(AutomationRun.id.desc()).limit(limit + 1)).all()
    items = [
        RunOut(
            id=run.id,
            automation_id=run.automation_id,
            automation=name,
            activity_id=run.activity_id,
            person_id=run.person_id,
            status=run.status,
            inputs=run.inputs,
            results=[ActionResult.model_validate(result) for result in run.results],
            ran_at=run.ran_at,
        )
        for run, name in rows[:limit]
    ]
    return RunPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)
