"""Conditions over field values: every operator of people/fields.py, with the empty and mixed-type cases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from overture.dialogues.document import Condition
from overture.people.fields import ALL_OPERATORS
from overture.targeting.conditions import compare, evaluate, is_empty

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


def condition(data: dict[str, Any]) -> Condition:
    return CONDITION.validate_python(data)


# (value of the field, operator, value of the condition, expected outcome)
CASES: list[tuple[Any, str, Any, bool]] = [
    (None, "is_empty", None, True),
    ("  ", "is_empty", None, True),
    ([], "is_empty", None, True),
    ("a", "is_empty", None, False),
    (0, "is_empty", None, False),
    (None, "is_not_empty", None, False),
    ("a", "is_not_empty", None, True),
    ("Software", "equals", "software", True),
    (" Software ", "equals", "SOFTWARE", True),
    ("Software", "equals", "Fintech", False),
    (200, "equals", "200", True),
    (200, "equals", 200.0, True),
    (True, "equals", True, True),
    (True, "equals", 1, False),
    (None, "equals", "x", False),
    ("2026-01-01", "equals", date(2026, 1, 1), True),
    ("Software", "not_equals", "software", False),
    ("Software", "not_equals", "Fintech", True),
    (None, "not_equals", "x", True),
    ("fintech", "in", ["Software", "Fintech"], True),
    ("Retail", "in", ["Software", "Fintech"], False),
    (None, "in", ["Software"], False),
    (["a", "b"], "in", ["B"], True),
    ("Retail", "not_in", ["Software", "Fintech"], True),
    ("Software", "not_in", ["Software", "Fintech"], False),
    (None, "not_in", ["Software"], True),
    ("bob@Example.com", "contains", "example", True),
    ("bob@example.com", "contains", "acme", False),
    (["SEO", "Ads"], "contains", "seo", True),
    (None, "contains", "x", False),
    ("+33 6 12", "starts_with", "+33", True),
    ("Director of Sales", "starts_with", "director", True),
    ("Head of Sales", "starts_with", "director", False),
    ("bob@Example.COM", "ends_with", "@example.com", True),
    ("bob@example.org", "ends_with", "@example.com", False),
    (250, "gt", 200, True),
    (200, "gt", 200, False),
    ("1,200", "gt", 1000, True),
    (None, "gt", 0, False),
    ("lots", "gt", 0, False),
    (True, "gt", 0, False),
    (200, "gte", 200, True),
    (199, "gte", 200, False),
    (10, "lt", 11, True),
    (None, "lt", 11, False),
    (11, "lte", 11, True),
    (12, "lte", 11, False),
    (50, "between", [10, 50], True),
    (9, "between", [10, 50], False),
    (None, "between", [10, 50], False),
    ("2026-03-01", "between", ["2026-02-01", "2026-04-01"], True),
    ("2026-01-01", "before", "2026-02-01", True),
    ("2026-03-01", "before", "2026-02-01", False),
    (None, "before", "2026-02-01", False),
    ("2026-03-01T10:00:00Z", "after", "2026-02-01", True),
    (datetime(2026, 1, 1, tzinfo=UTC), "after", "2026-02-01", False),
    ("2026-03-10T00:00:00+00:00", "in_last_days", 30, True),
    ("2026-01-01", "in_last_days", 30, False),
    ("2026-03-14", "in_last_days", 7, True),
    (None, "in_last_days", 30, False),
    ("not a date", "in_last_days", 30, False),
]


@pytest.mark.parametrize(("actual", "op", "expected", "outcome"), CASES)
def test_each_operator_gives_the_documented_outcome(actual: Any, op: str, expected: Any, outcome: bool) -> None:
    assert compare(actual, op, expected, now=NOW) is outcome


def test_every_operator_of_the_field_schema_is_covered() -> None:
    assert {op for _, op, _, _ in CASES} == ALL_OPERATORS


def test_a_field_condition_reads_the_dotted_field_from_the_values() -> None:
    rule = condition({"field": "company.employees", "op": "gte", "value": 200})
    assert evaluate(rule, {"company.employees": 500})
    assert not evaluate(rule, {"company.employees": 50})
    assert not evaluate(rule, {})


def test_all_any_and_not_nest() -> None:
    rule = condition(
        {
            "all": [
                {"field": "person.email", "op": "is_empty"},
                {"any": [{"field": "company.industry", "op": "in", "value": ["Software", "Fintech"]}]},
                {"not": {"field": "company.country", "op": "equals", "value": "FR"}},
            ]
        }
    )
    assert evaluate(rule, {"company.industry": "software", "company.country": "DE"})
    assert not evaluate(rule, {"company.industry": "software", "company.country": "fr"})
    assert not evaluate(rule, {"person.email": "a@b.co", "company.industry": "software"})
    assert not evaluate(rule, {"company.industry": "Retail"})


def test_an_unknown_operator_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Unknown operator 'near'"):
        evaluate(condition({"field": "company.name", "op": "near", "value": "x"}), {"company.name": "x"})


def test_between_without_two_bounds_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="two bounds"):
        compare(5, "between", [1], now=NOW)


def test_in_last_days_needs_now() -> None:
    with pytest.raises(ValueError, match="current time"):
        compare("2026-03-10", "in_last_days", 30)


def test_a_naive_now_is_taken_as_utc() -> None:
    assert compare("2026-03-10T00:00:00Z", "in_last_days", 30, now=NOW.replace(tzinfo=None))


def test_is_empty_treats_zero_and_false_as_known_values() -> None:
    assert not is_empty(0)
    assert not is_empty(False)
    assert is_empty({})
