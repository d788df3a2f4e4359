"""Evaluating a condition (DESIGN.md section 4: `{field, op, value}`, `all`, `any`, `not`) over the field values a
conversation knows. Pure: values are plain JSON-like data keyed by dotted field name, time comes in as `now`.

The rules, so that branches and audiences behave the same everywhere:
- a field is *empty* when it is missing, None, a blank string or an empty list;
- text comparisons ignore case and surrounding spaces;
- numbers given as text ("250") compare as numbers; booleans are never numbers;
- dates and date-times may be given as `date`/`datetime` or ISO 8601 text; a naive date-time is taken as UTC;
- an empty or incomparable value never matches an ordering operator (gt, gte, lt, lte, between, before, after,
  in_last_days) nor a positive text operator (equals, in, contains, starts_with, ends_with); the negative operators
  (not_equals, not_in) are the exact negation of their positive twin, so they match an empty value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from overture.dialogues.document import AllOf, AnyOf, Condition, FieldCondition, NotOf


def evaluate(condition: Condition, values: Mapping[str, Any], *, now: datetime | None = None) -> bool:
    """True when `condition` holds over `values`. `now` (aware) is needed only by `in_last_days`.

    Raises ValueError for an operator that does not exist, a value of the wrong shape for its operator (e.g.
    `between` without two bounds), or `in_last_days` without `now`: validation rejects those documents first.
    """
    match condition:
        case AllOf(all=parts):
            return all(evaluate(part, values, now=now) for part in parts)
        case AnyOf(any=parts):
            return any(evaluate(part, values, now=now) for part in parts)
        case NotOf(not_=part):
            return not evaluate(part, values, now=now)
        case FieldCondition(field=name, op=op, value=expected):
            return compare(values.get(name), op, expected, now=now)
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
    match op:
        case "is_empty":
            return is_empty(actual)
        case "is_not_empty":
            return not is_empty(actual)
        case "equals":
            return _equals(actual, expected)
        case "not_equals":
            return not _equals(actual, expected)
        case "in":
            return _in(actual, expected)
        case "not_in":
            return not _in(actual, expected)
        case "contains":
            return _contains(actual, expected)
        case "starts_with":
            return _text_test(actual, expected, str.startswith)
        case "ends_with":
            return _text_test(actual, expected, str.endswith)
        case "gt":
            return _order(actual, expected, lambda sign: sign > 0)
        case "gte":
            return _order(actual, expected, lambda sign: sign >= 0)
        case "lt":
            return _order(actual, expected, lambda sign: sign < 0)
        case "lte":
            return _order(actual, expected, lambda sign: sign <= 0)
        case "between":
            low, high = _pair(expected)
            return _order(actual, low, lambda sign: sign >= 0) and _order(actual, high, lambda sign: sign <= 0)
        case "before":
            return _dates(actual, expected, lambda sign: sign < 0)
        case "after":
            return _dates(actual, expected, lambda sign: sign > 0)
        case "in_last_days":
            return _in_last_days(actual, expected, now)
    raise ValueError(f"Unknown operator '{op}'.")


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
