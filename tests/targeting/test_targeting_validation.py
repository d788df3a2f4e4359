"""Validation of the targeting parts of a dialogue: activity conditions (fields, operators, values, within_days)
and page patterns that would take too long to match."""

from __future__ import annotations

from typing import Any

import pytest

from overture.dialogues.validation import validate
from overture.errors import Problem
from overture.people.fields import FieldSchema

FIELDS = FieldSchema.builtin()


def problems(**parts: Any) -> list[Problem]:
    data = {"key": "demo", "name": "Demo", "flow": {"start": "hi", "cards": {"hi": {"say": "Hi", "end": True}}}}
    _, found = validate({**data, **parts}, fields=FIELDS)
    return found


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "activity.goal_reached", "op": "contains", "value": "demo_booked"},
        {"field": "activity.meeting_booked", "op": "is_not_empty"},
        {"field": "activity.engaged", "op": "contains", "value": "pricing-demo", "within_days": 30},
        {"field": "activity.completed", "op": "in", "value": ["a", "b"]},
        {"field": "activity.dismissed", "op": "in_last_days", "value": 7},
        {"field": "activity.link_clicked", "op": "not_equals", "value": "https://example.com/guide.pdf"},
    ],
)
def test_good_activity_conditions_are_accepted(condition: dict[str, Any]) -> None:
    assert problems(audience=condition) == []


ALLOWED = "contains, equals, in, in_last_days, is_empty, is_not_empty, not_equals, not_in"


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (
            {"field": "activity.goal_reachd", "op": "is_empty"},
            Problem(
                "audience.field",
                "activity.goal_reachd is not an activity field. Did you mean activity.goal_reached? Use one of "
                "activity.triggered, activity.engaged, activity.completed, activity.dismissed, activity.goal_reached, "
                "activity.meeting_booked, activity.link_clicked, activity.field_captured, "
                "activity.marketo.visited_web_page, activity.marketo.filled_out_form, activity.marketo.clicked_link, "
                "activity.marketo.opened_email, activity.marketo.clicked_email, "
                "activity.marketo.changed_program_status.",
            ),
        ),
        (
            {"field": "activity.engaged", "op": "gte", "value": 3},
            Problem("audience.op", f"'gte' does not work on activity.engaged: use one of {ALLOWED}."),
        ),
        (
            {"field": "activity.engaged", "op": "is", "value": 3},
            Problem("audience.op", f"'is' is not an operator: use one of {ALLOWED}."),
        ),
        (
            {"field": "activity.engaged", "op": "contains"},
            Problem("audience.value", "The operator 'contains' on activity.engaged needs one of its dialogue keys."),
        ),
        (
            {"field": "activity.goal_reached", "op": "in", "value": "demo"},
            Problem("audience.value", "The operator 'in' on activity.goal_reached needs a list of goal names."),
        ),
        (
            {"field": "activity.engaged", "op": "in_last_days", "value": "week"},
            Problem("audience.value", "'in_last_days' needs a whole number of days, not 'week'."),
        ),
        (
            {"field": "activity.meeting_booked", "op": "is_empty", "value": "x"},
            Problem("audience.value", "The operator 'is_empty' takes no value: remove value."),
        ),
        (
            {"field": "company.employees", "op": "gte", "value": 3, "within_days": 30},
            Problem("audience.within_days", "within_days works on activity fields only, like activity.engaged."),
        ),
    ],
)
def test_bad_activity_conditions_are_refused(condition: dict[str, Any], problem: Problem) -> None:
    assert problems(audience=condition) == [problem]


def test_within_days_must_be_a_positive_number_of_days() -> None:
    found = problems(audience={"field": "activity.engaged", "op": "is_not_empty", "within_days": 0})
    assert [problem.path for problem in found] == ["audience.within_days"]


@pytest.mark.parametrize("pattern", ["(a|aa)*b", "(.|/)*x", ".*.*.*=", "(a|a)*$"])
def test_a_page_pattern_that_takes_too_long_is_refused(pattern: str) -> None:
    assert problems(pages={"include": [{"url_regex": pattern}]}) == [
        Problem("pages.include.0.url_regex", "This pattern takes too long to match long addresses: make it simpler.")
    ]


@pytest.mark.parametrize("pattern", [".*pricing.*", r"^https://[^/]+/(en|fr)/.*$", r"/blog/\d+-[a-z-]+$"])
def test_everyday_page_patterns_are_accepted(pattern: str) -> None:
    assert problems(pages={"include": [{"url_regex": pattern}]}) == []
