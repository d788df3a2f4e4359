"""The audience fields of Marketo activities (activity.marketo.*): validation accepts them with the operators and
within_days of the other activity fields and names them when one is misspelt; `contains` finds a text within the
names Marketo gives (email names, page addresses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from overture.dialogues.document import Condition
from overture.dialogues.validation import validate
from overture.errors import Problem
from overture.people.fields import ACTIVITY_FIELDS, FieldSchema
from overture.targeting.conditions import compile_condition, evaluate
from overture.targeting.facts import ActivityFact, VisitorFacts

NOW = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def problems(audience: dict[str, Any]) -> list[Problem]:
    data = {"key": "demo", "name": "Demo", "flow": {"start": "hi", "cards": {"hi": {"say": "Hi", "end": True}}}}
    _, found = validate({**data, "audience": audience}, fields=FieldSchema.builtin())
    return found


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "activity.marketo.clicked_email", "op": "contains", "value": "Webinar", "within_days": 7},
        {"field": "activity.marketo.opened_email", "op": "in_last_days", "value": 30},
        {"field": "activity.marketo.visited_web_page", "op": "contains", "value": "/pricing", "within_days": 14},
        {"field": "activity.marketo.filled_out_form", "op": "in", "value": ["Contact Us", "Demo Request"]},
        {"field": "activity.marketo.clicked_link", "op": "is_not_empty"},
        {"field": "activity.marketo.changed_program_status", "op": "equals", "value": "Spring Webinar / Attended"},
    ],
)
def test_conditions_on_marketo_activities_are_accepted(condition: dict[str, Any]) -> None:
    assert problems(condition) == []


def test_a_misspelt_marketo_activity_field_is_named_with_the_field_meant_and_every_activity_field() -> None:
    [problem] = problems({"field": "activity.marketo.clicked_emial", "op": "contains", "value": "Webinar"})
    assert problem.path == "audience.field"
    assert problem.message.startswith(
        "activity.marketo.clicked_emial is not an activity field. Did you mean activity.marketo.clicked_email?"
    )
    assert all(name in problem.message for name in ACTIVITY_FIELDS)


def test_a_condition_on_a_marketo_activity_names_what_its_values_are_when_the_value_is_missing() -> None:
    assert problems({"field": "activity.marketo.filled_out_form", "op": "equals"}) == [
        Problem(
            "audience.value", "The operator 'equals' on activity.marketo.filled_out_form needs one of its form names."
        )
    ]


def holds(condition: dict[str, Any], facts: list[ActivityFact]) -> bool:
    parsed = CONDITION.validate_python(condition)
    walked = evaluate(parsed, {}, now=NOW, activities=facts)
    assert compile_condition(parsed)(VisitorFacts(activities=facts), NOW) is walked
    return walked


def test_contains_finds_the_text_within_an_email_name_in_the_days_asked_for() -> None:
    clicked = [ActivityFact("marketo.clicked_email", "Spring Webinar Invite.Email 1", NOW - timedelta(days=3))]
    webinar = {"field": "activity.marketo.clicked_email", "op": "contains", "value": "webinar"}
    assert holds({**webinar, "within_days": 7}, clicked) is True
    assert holds({**webinar, "within_days": 2}, clicked) is False
    assert holds({**webinar, "value": "Newsletter"}, clicked) is False
    assert holds({**webinar, "op": "equals"}, clicked) is False, "equals takes the whole name"
