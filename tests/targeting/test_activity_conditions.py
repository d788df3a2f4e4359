"""Audience conditions over the visitor's activities (activity.*), compiled conditions, and the sentences that say
which part of an audience failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from overture.dialogues.document import Condition
from overture.targeting.conditions import compile_condition, evaluate, why_not
from overture.targeting.facts import ActivityFact

from .facts import NOW, visitor

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
ACTIVITIES = [
    ActivityFact("goal.reached", "demo_booked", NOW - timedelta(days=40)),
    ActivityFact("dialogue.engaged", "pricing-demo", NOW - timedelta(days=10)),
    ActivityFact("dialogue.engaged", "newsletter", NOW - timedelta(days=90)),
    ActivityFact("link.clicked", "https://example.com/guide.pdf", NOW - timedelta(hours=2)),
]


def holds(data: dict[str, Any], activities: list[ActivityFact] = ACTIVITIES, **fields: Any) -> bool:
    condition = CONDITION.validate_python(data)
    values = {f"person.{name}": value for name, value in fields.items()}
    walked = evaluate(condition, values, now=NOW, activities=activities)
    compiled = compile_condition(condition)(visitor(values, activities), NOW)
    assert walked is compiled  # the selector's closures agree with the plain evaluator
    return walked


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # has reached goal X
        ({"field": "activity.goal_reached", "op": "contains", "value": "demo_booked"}, True),
        ({"field": "activity.goal_reached", "op": "contains", "value": "webinar"}, False),
        ({"field": "activity.goal_reached", "op": "equals", "value": "DEMO_BOOKED"}, True),
        ({"field": "activity.goal_reached", "op": "not_equals", "value": "demo_booked"}, False),
        # has a meeting
        ({"field": "activity.meeting_booked", "op": "is_not_empty"}, False),
        ({"field": "activity.meeting_booked", "op": "is_empty"}, True),
        # engaged with dialogue Y in the last N days
        ({"field": "activity.engaged", "op": "contains", "value": "pricing-demo", "within_days": 30}, True),
        ({"field": "activity.engaged", "op": "contains", "value": "pricing-demo", "within_days": 7}, False),
        ({"field": "activity.engaged", "op": "contains", "value": "newsletter", "within_days": 30}, False),
        ({"field": "activity.engaged", "op": "contains", "value": "newsletter"}, True),
        ({"field": "activity.engaged", "op": "in", "value": ["webinar", "pricing-demo"]}, True),
        ({"field": "activity.engaged", "op": "not_in", "value": ["webinar", "pricing-demo"]}, False),
        ({"field": "activity.engaged", "op": "not_in", "value": ["webinar"]}, True),
        ({"field": "activity.engaged", "op": "is_not_empty", "within_days": 5}, False),
        # in_last_days: any such activity in the last N days
        ({"field": "activity.engaged", "op": "in_last_days", "value": 30}, True),
        ({"field": "activity.engaged", "op": "in_last_days", "value": 5}, False),
        ({"field": "activity.link_clicked", "op": "in_last_days", "value": 1}, True),
        ({"field": "activity.link_clicked", "op": "contains", "value": "https://example.com/guide.pdf"}, True),
        ({"field": "activity.completed", "op": "is_empty"}, True),
        ({"field": "activity.field_captured", "op": "contains", "value": "person.email"}, False),
    ],
)
def test_activity_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition) is expected


def test_activities_in_the_future_do_not_count_within_a_window() -> None:
    later = [ActivityFact("dialogue.engaged", "pricing-demo", NOW + timedelta(days=1))]
    condition = {"field": "activity.engaged", "op": "is_not_empty", "within_days": 30}
    assert holds(condition, later) is False


def test_person_email_is_empty_targets_anonymous_visitors() -> None:
    condition = {"field": "person.email", "op": "is_empty"}
    assert holds(condition) is True
    assert holds(condition, email="ann@example.com") is False


def test_trees_mix_fields_and_activities() -> None:
    condition = {
        "all": [
            {"field": "person.email", "op": "is_not_empty"},
            {"not": {"field": "activity.meeting_booked", "op": "is_not_empty"}},
            {"any": [{"field": "activity.goal_reached", "op": "contains", "value": "demo_booked"}]},
        ]
    }
    assert holds(condition, email="ann@example.com") is True
    assert holds(condition) is False


def reason(data: dict[str, Any], fields: dict[str, Any] | None = None) -> str | None:
    return why_not(CONDITION.validate_python(data), visitor(fields, ACTIVITIES), NOW)


def test_why_an_audience_fails_reads_as_a_sentence() -> None:
    employees = {"field": "company.employees", "op": "gte", "value": 200}
    assert reason(employees, {"company.employees": 120}) == "company.employees is 120, needs gte 200"
    assert reason(employees, {}) == "company.employees is empty, needs gte 200"
    assert reason(employees, {"company.employees": 500}) is None
    engaged = {"field": "activity.engaged", "op": "contains", "value": "webinar", "within_days": 30}
    assert reason(engaged) == (
        "activity.engaged is pricing-demo in the last 30 days, needs contains webinar within 30 days"
    )
    meeting = {"field": "activity.meeting_booked", "op": "is_not_empty"}
    assert reason(meeting) == "activity.meeting_booked has none, needs is_not_empty"
    both = {"any": [employees, meeting]}
    assert reason(both, {"company.employees": 120}) == (
        "none of these holds: company.employees is 120, needs gte 200; activity.meeting_booked has none, "
        "needs is_not_empty"
    )
    assert reason({"not": {"field": "person.email", "op": "is_empty"}}) == (
        "person.email is_empty holds, and the rule says it must not"
    )


def test_an_unknown_operator_is_refused_when_compiling() -> None:
    with pytest.raises(ValueError, match="Unknown operator 'is'"):
        compile_condition(CONDITION.validate_python({"field": "person.email", "op": "is", "value": "x"}))
