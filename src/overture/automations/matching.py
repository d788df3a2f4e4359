"""Does an activity trigger an automation? Its type, then its attributes, then the person's and company's fields and
past activities (the audience grammar, evaluated as a dialogue's audience is: targeting/conditions.py). Each test
says in a sentence why it fails, for the Automations page's test against a recent activity."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.automations.schemas import AttributeFilter
from overture.dialogues.document import Condition
from overture.dialogues.models import Dialogue
from overture.targeting import conditions
from overture.visits.selector_cache import SelectorCache
from overture.visits.service import visitor_facts_of

# Activities name dialogues by id: the keys come from the targeting picture, kept per process and re-read when a
# dialogue is published (as for the visit call).
_TARGETING = SelectorCache()


def attribute_values(session: Session, activity: Activity) -> dict[str, Any]:
    """What an activity's attribute filters read: its attributes, and `dialogue`, its dialogue's key."""
    values = dict(activity.attributes or {})
    if activity.dialogue_id is not None:
        dialogue = session.get(Dialogue, activity.dialogue_id)
        values["dialogue"] = dialogue.key if dialogue is not None else None
    return values


def why_attributes_fail(filters: list[AttributeFilter], values: Mapping[str, Any]) -> str | None:
    """The first filter the attributes do not meet, in a sentence; None when all hold."""
    for test in filters:
        actual = values.get(test.name)
        if not conditions.compare(actual, test.op, test.value):
            needs = test.op if test.value is None else f"{test.op} {test.value}"
            shown = "empty" if conditions.is_empty(actual) else repr(actual)
            return f"Its {test.name} is {shown}, needs {needs}."
    return None


def why_condition_fails(session: Session, condition: Condition, person_id: int | None, now: datetime) -> str | None:
    """Which part of `condition` the activity's person does not meet, in a sentence; None when it holds."""
    if person_id is None:
        return "The activity has no person, so the condition on the person cannot hold."
    connection = session.connection()
    facts = visitor_facts_of(connection, _TARGETING, person_id, now)
    return conditions.why_not(condition, facts, now)


def why_not(
    session: Session,
    activity: Activity,
    activity_type: str,
    filters: list[AttributeFilter],
    condition: Condition | None,
    now: datetime,
) -> str | None:
    """Why `activity` does not trigger an automation of this trigger; None when it does."""
    if activity.type != activity_type:
        return f"It is a {activity.type} activity; the automation waits for {activity_type}."
    failed = why_attributes_fail(filters, attribute_values(session, activity))
    if failed is None and condition is not None:
        failed = why_condition_fails(session, condition, activity.person_id, now)
    return failed
