"""Evaluating a condition (DESIGN.md section 4: `{field, op, value}`, `all`, `any`, `not`) over what is known of a
visitor: field values keyed by dotted name, and (for audiences) their past activities. Pure: time comes in as `now`.

The rules, so that branches and audiences behave the same everywhere:
- a field is *empty* when it is missing, None, a blank string or an empty list;
- text comparisons ignore case and surrounding spaces;
- numbers given as text ("250") compare as numbers; booleans are never numbers;
- dates and date-times may be given as `date`/`datetime` or ISO 8601 text; a naive date-time is taken as UTC;
- an empty or incomparable value never matches an ordering operator (gt, gte, lt, lte, between, before, after,
  in_last_days) nor a positive text operator (equals, in, contains, starts_with, ends_with); the negative operators
  (not_equals, not_in) are the exact negation of their positive twin, so they match an empty value.

Activity fields (`activity.engaged`, `activity.goal_reached`... see people/fields.py ACTIVITY_FIELDS) read the
visitor's activities of one type, limited to the last `within_days` days when the condition says so. Their value is
the list of the activities' names (dialogue keys, goal names...): `equals`/`in` hold when one name matches,
`contains` when one name contains the text, `not_equals`/`not_in` when none matches, `is_empty`/`is_not_empty`
test whether there is any, and `in_last_days N` holds when one happened in the last N days.

Two ways in: `evaluate` walks a condition (conversations' branches, explanations); `compile_condition` turns one into
a closure once, for the selector's hot path. `why_not` says in a sentence which part of a condition failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from overture.dialogues.document import AllOf, AnyOf, Condition, FieldCondition, NotOf
from overture.people.fields import ACTIVITY_FIELDS
from overture.targeting.facts import ActivityFact, VisitorFacts

# A compiled condition: does it hold for this visitor at this time?
Test = Callable[[VisitorFacts, datetime], bool]


def evaluate(
    condition: Condition,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
    activities: Sequence[ActivityFact] = (),
) -> bool:
    """True when `condition` holds over `values` (and `activities`, for activity fields). `now` (aware) is needed
    by `in_last_days` and `within_days` only.

    Raises ValueError for an operator that does not exist, a value of the wrong shape for its operator (e.g.
    `between` without two bounds), or `in_last_days` without `now`: validation rejects those documents first.
    """
    match condition:
        case AllOf(all=parts):
            return all(evaluate(part, values, now=now, activities=activities) for part in parts)
        case AnyOf(any=parts):
            return any(evaluate(part, values, now=now, activities=activities) for part in parts)
        case NotOf(not_=part):
            return not evaluate(part, values, now=now, activities=activities)
        case FieldCondition(field=name, op=op, value=expected) if name in ACTIVITY_FIELDS:
            facts = _recent(_of_type(activities, ACTIVITY_FIELDS[name]), condition.within_days, now)
            return _activity_compare(facts, op, expected, now)
        case FieldCondition(field=name, op=op, value=expected):
            return compare(values.get(name), op, expected, now=now)
    raise ValueError(f"Not a condition: {condition!r}.")


def compile_condition(condition: Condition) -> Test:
    """The condition as a closure over (visitor, now), built once; it holds exactly when `evaluate` would.
    Raises ValueError for an unknown operator, at compile time."""
    match condition:
        case AllOf(all=parts):
            tests = tuple(compile_condition(part) for part in parts)

            def all_of(visitor: VisitorFacts, now: datetime) -> bool:
                for test in tests:
                    if not test(visitor, now):
                        return False
                return True

            return all_of
        case AnyOf(any=parts):
            tests = tuple(compile_condition(part) for part in parts)

            def any_of(visitor: VisitorFacts, now: datetime) -> bool:
                for test in tests:
                    if test(visitor, now):
                        return True
                return False

            return any_of
        case NotOf(not_=part):
            inner = compile_condition(part)
            return lambda visitor, now: not inner(visitor, now)
        case FieldCondition(field=name, op=op, value=expected) if name in ACTIVITY_FIELDS:
            kind, days = ACTIVITY_FIELDS[name], condition.within_days
            _operator(op)
            return lambda visitor, now: _activity_compare(_recent(visitor.of_type(kind), days, now), op, expected, now)
        case FieldCondition(field=name, op=op, value=expected):
            apply = _operator(op)
            return lambda visitor, now: apply(visitor.fields.get(name), expected, now)
    raise ValueError(f"Not a condition: {condition!r}.")


def is_empty(value: Any) -> bool:
    """Missing, None, blank text or an empty list: what `is_empty` matches and `skip_if_known` treats as unknown."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    return False


def compare(actual: Any, op: str, expected: Any, *, now: datetime | None = None) -> bool:
    """Applies one operator to a field's value. Raises ValueError as `evaluate` does."""
    return _operator(op)(actual, expected, now)


def _operator(op: str) -> Callable[[Any, Any, datetime | None], bool]:
    try:
        return _OPERATORS[op]
    except KeyError:
        raise ValueError(f"Unknown operator '{op}'.") from None


def _between(actual: Any, expected: Any) -> bool:
    low, high = _pair(expected)
    return _order(actual, low, lambda sign: sign >= 0) and _order(actual, high, lambda sign: sign <= 0)


_OPERATORS: dict[str, Callable[[Any, Any, datetime | None], bool]] = {
    "is_empty": lambda actual, expected, now: is_empty(actual),
    "is_not_empty": lambda actual, expected, now: not is_empty(actual),
    "equals": lambda actual, expected, now: _equals(actual, expected),
    "not_equals": lambda actual, expected, now: not _equals(actual, expected),
    "in": lambda actual, expected, now: _in(actual, expected),
    "not_in": lambda actual, expected, now: not _in(actual, expected),
    "contains": lambda actual, expected, now: _contains(actual, expected),
    "starts_with": lambda actual, expected, now: _text_test(actual, expected, str.startswith),
    "ends_with": lambda actual, expected, now: _text_test(actual, expected, str.endswith),
    "gt": lambda actual, expected, now: _order(actual, expected, lambda sign: sign > 0),
    "gte": lambda actual, expected, now: _order(actual, expected, lambda sign: sign >= 0),
    "lt": lambda actual, expected, now: _order(actual, expected, lambda sign: sign < 0),
    "lte": lambda actual, expected, now: _order(actual, expected, lambda sign: sign <= 0),
    "between": lambda actual, expected, now: _between(actual, expected),
    "before": lambda actual, expected, now: _dates(actual, expected, lambda sign: sign < 0),
    "after": lambda actual, expected, now: _dates(actual, expected, lambda sign: sign > 0),
    "in_last_days": lambda actual, expected, now: _in_last_days(actual, expected, now),
}


# --- activities ------------------------------------------------------------------------------------------------


def _of_type(activities: Sequence[ActivityFact], kind: str) -> tuple[ActivityFact, ...]:
    return tuple(sorted((fact for fact in activities if fact.type == kind), key=lambda fact: fact.at, reverse=True))


def _recent(facts: tuple[ActivityFact, ...], days: int | None, now: datetime | None) -> tuple[ActivityFact, ...]:
    """The facts (newest first) of the last `days` days; all of them when `days` is None."""
    if days is None:
        return facts
    if now is None:
        raise ValueError("within_days needs the current time.")
    since = now - timedelta(days=days)
    return tuple(fact for fact in facts if since <= fact.at <= now)


def _activity_compare(facts: tuple[ActivityFact, ...], op: str, expected: Any, now: datetime | None) -> bool:
    if op == "in_last_days":
        return any(_in_last_days(fact.at, expected, now) for fact in facts)
    if op == "contains":
        # Within a name, as on a text field: "Webinar" finds the email "Spring Webinar Invite.Email 1".
        return any(_text_test(fact.name, expected, str.__contains__) for fact in facts)
    return compare([fact.name for fact in facts], op, expected, now=now)


# --- explanations ----------------------------------------------------------------------------------------------


def why_not(condition: Condition, visitor: VisitorFacts, now: datetime) -> str | None:
    """None when `condition` holds for the visitor; else the part that fails, in a sentence a marketer reads:
    "company.employees is 120, needs gte 200"."""
    match condition:
        case AllOf(all=parts):
            return next((reason for part in parts if (reason := why_not(part, visitor, now))), None)
        case AnyOf(any=parts):
            reasons = [why_not(part, visitor, now) for part in parts]
            if any(reason is None for reason in reasons):
                return None
            return "none of these holds: " + "; ".join(reason for reason in reasons if reason)
        case NotOf(not_=part):
            if why_not(part, visitor, now) is not None:
                return None
            return f"{describe(part)} holds, and the rule says it must not"
        case FieldCondition():
            if compile_condition(condition)(visitor, now):
                return None
            return f"{condition.field} {_shown_actual(condition, visitor, now)}, needs {_shown_test(condition)}"
    raise ValueError(f"Not a condition: {condition!r}.")


def describe(condition: Condition) -> str:
    """The condition in words: "company.employees gte 200", "all of (...)"."""
    match condition:
        case AllOf(all=parts):
            return "all of (" + "; ".join(describe(part) for part in parts) + ")"
        case AnyOf(any=parts):
            return "any of (" + "; ".join(describe(part) for part in parts) + ")"
        case NotOf(not_=part):
            return f"not ({describe(part)})"
        case FieldCondition():
            return f"{condition.field} {_shown_test(condition)}"
    raise ValueError(f"Not a condition: {condition!r}.")


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_show(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _shown_test(condition: FieldCondition) -> str:
    shown = condition.op if condition.value is None else f"{condition.op} {_show(condition.value)}"
    if condition.within_days is not None:
        shown += f" within {condition.within_days} days"
    return shown


def _shown_actual(condition: FieldCondition, visitor: VisitorFacts, now: datetime) -> str:
    if condition.field in ACTIVITY_FIELDS:
        facts = _recent(visitor.of_type(ACTIVITY_FIELDS[condition.field]), condition.within_days, now)
        when = f" in the last {condition.within_days} days" if condition.within_days is not None else ""
        if not facts:
            return f"has none{when}"
        return f"is {_show(list(dict.fromkeys(fact.name for fact in facts)))}{when}"
    actual = visitor.fields.get(condition.field)
    return "is empty" if is_empty(actual) else f"is {_show(actual)}"


# --- equality and text -----------------------------------------------------------------------------------------


def _number(value: Any) -> float | int | None:
    """The value as a number, or None. Text such as "1,200" or " 250 " counts; booleans do not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or len(text) > 40:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _text(value: Any) -> str | None:
    """The value as case-folded text for comparisons, or None when it is empty or not scalar."""
    if is_empty(value) or isinstance(value, list | tuple | dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def _equals(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list | tuple):
        return any(_equals(item, expected) for item in actual)
    if is_empty(actual) or is_empty(expected):
        return False
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _text(actual) == _text(expected)
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    left_date, right_date = _moment(actual), _moment(expected)
    if left_date is not None and right_date is not None:
        return _sign(left_date, right_date) == 0
    return _text(actual) == _text(expected)


def _in(actual: Any, expected: Any) -> bool:
    options = expected if isinstance(expected, list | tuple) else [expected]
    return any(_equals(actual, option) for option in options)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list | tuple):
        return any(_equals(item, expected) for item in actual)
    return _text_test(actual, expected, str.__contains__)


def _text_test(actual: Any, expected: Any, test: Any) -> bool:
    left, right = _text(actual), _text(expected)
    if left is None or right is None:
        return False
    return bool(test(left, right))


# --- order: numbers and dates ----------------------------------------------------------------------------------


def _pair(expected: Any) -> tuple[Any, Any]:
    if isinstance(expected, list | tuple) and len(expected) == 2:
        return expected[0], expected[1]
    raise ValueError("between needs two bounds, e.g. [10, 50].")


def _sign(left: Any, right: Any) -> int:
    return int(left > right) - int(left < right)


def _order(actual: Any, expected: Any, accept: Any) -> bool:
    if is_empty(actual) or is_empty(expected):
        return False
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return bool(accept(_sign(left, right)))
    return _dates(actual, expected, accept)


def _moment(value: Any) -> date | datetime | None:
    """The value as a date or an aware date-time, or None when it is neither."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not 8 <= len(value.strip()) <= 40:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _comparable(left: date | datetime, right: date | datetime) -> tuple[Any, Any]:
    """A date against a date-time compares as two dates (the day of the date-time in UTC)."""
    if isinstance(left, datetime) and not isinstance(right, datetime):
        return left.astimezone(UTC).date(), right
    if isinstance(right, datetime) and not isinstance(left, datetime):
        return left, right.astimezone(UTC).date()
    return left, right


def _dates(actual: Any, expected: Any, accept: Any) -> bool:
    left, right = _moment(actual), _moment(expected)
    if left is None or right is None:
        return False
    return bool(accept(_sign(*_comparable(left, right))))


def _in_last_days(actual: Any, expected: Any, now: datetime | None) -> bool:
    if now is None:
        raise ValueError("in_last_days needs the current time.")
    days = _number(expected)
    if days is None or days < 0:
        raise ValueError("in_last_days needs a number of days, e.g. 30.")
    moment = _moment(actual)
    if moment is None:
        return False
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    since = now - timedelta(days=days)
    if isinstance(moment, datetime):
        return since <= moment <= now
    return since.astimezone(UTC).date() <= moment <= now.astimezone(UTC).date()
