"""The shape of a dialogue document, in a marketer's words: pydantic's validation errors rewritten as Problems with
a dotted path (`flow.cards.greet.buttons.1.goto`) and a plain sentence ("Unknown key 'fild'. Allowed here: ...").

Paths are found by walking each error's location along the document's types, so pydantic's union tags and member
labels (`field`, `all`, `option`, `constrained-str`...) are removed exactly where pydantic inserts them and a real
key of the same name is kept.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag, ValidationError
from pydantic_core import ErrorDetails

from overture.dialogues.document import FIELD_PATTERN, KEY_PATTERN, LINK_PATTERN, LOCALE_PATTERN
from overture.errors import Problem

# What a value matching each pattern of document.py is called, and how to write one.
_PATTERNS: dict[str, tuple[str, str]] = {
    KEY_PATTERN: ("key", "use lower-case letters, digits, - and _, starting with a letter or digit (at most 80)"),
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$": (
        "card key",
        "use letters, digits, - and _, starting with a letter or digit (at most 80)",
    ),
    FIELD_PATTERN: ("field name", "write it like person.email"),
    LOCALE_PATTERN: ("language code", "write it like en, fr or pt-BR"),
    LINK_PATTERN: ("link", "start it with https://, http://, / or mailto:"),
}
_TYPE_ERRORS = {
    "string_type": "This should be a text.",
    "int_type": "This should be a whole number.",
    "int_parsing": "This should be a whole number.",
    "int_from_float": "This should be a whole number.",
    "bool_type": "This should be true or false.",
    "bool_parsing": "This should be true or false.",
    "list_type": "This should be a list.",
    "dict_type": "This should be a mapping of keys to values.",
    "date_type": "This should be a date like 2026-01-31.",
    "date_parsing": "This should be a date like 2026-01-31.",
    "date_from_datetime_parsing": "This should be a date like 2026-01-31.",
    "date_from_datetime_inexact": "This should be a date like 2026-01-31, without a time.",
}


@dataclass
class _Where:
    """Where a pydantic error is, once its `loc` has been walked along the document's types."""

    path: list[str] = field(default_factory=list)
    model: type[BaseModel] | None = None  # the model the last key was looked up in
    expected: Any = None  # the type expected where the error is
    unions: list[tuple[str, str]] = field(default_factory=list)  # (clean path, member label) of each plain union
    at_label: bool = False  # the loc ends right on a union member's label


def _members(tp: Any) -> list[Any]:
    return [arg for arg in get_args(tp) if arg is not type(None)]


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _unwrap(tp: Any, tagged: bool) -> tuple[Any, bool]:
    """Strips Annotated layers and Optional; `tagged` becomes True when a Discriminator was among the metadata."""
    while True:
        if get_origin(tp) is Annotated:
            tagged = tagged or any(isinstance(meta, Discriminator) for meta in tp.__metadata__)
            tp = get_args(tp)[0]
        elif _is_union(tp) and len(_members(tp)) == 1:
            tp = _members(tp)[0]
        else:
            return tp, tagged


def _tag(member: Any) -> str | None:
    if get_origin(member) is Annotated:
        return next((meta.tag for meta in member.__metadata__ if isinstance(meta, Tag)), None)
    return None


def _member_for_label(label: str, members: list[Any]) -> Any:
    """The member of a plain (smart) union that pydantic labels `label` in error locations."""
    for member in members:
        base, _ = _unwrap(member, False)
        if isinstance(base, type) and issubclass(base, BaseModel) and base.__name__ == label:
            return member
        origin = get_origin(base)
        if origin is not None and label.startswith(f"{getattr(origin, '__name__', '')}["):
            return member
        if base is str and label in ("str", "constrained-str"):
            return member
    return None


def _locate(loc: Sequence[int | str], root: type[BaseModel]) -> _Where:
    where = _Where()
    tp: Any = root
    tagged = False
    position = 0
    while position < len(loc):
        segment = loc[position]
        tp, tagged = _unwrap(tp, tagged)
        if _is_union(tp):
            members = _members(tp)
            if tagged:  # remove the tag pydantic inserts ("field", "all", "option", "if"...), never a real key
                member = next((m for m in members if _tag(m) == segment), None)
            else:
                member = _member_for_label(str(segment), members)
                if member is not None:
                    where.unions.append((".".join(where.path), str(segment)))
            if member is None:
                break
            position += 1
            where.at_label = not tagged and position == len(loc)
            tp, tagged = member, False
            continue
        where.at_label = False
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            where.model = tp
            name = next((n for n, f in tp.model_fields.items() if (f.alias or n) == segment), None)
            if name is None:
                break
            info = tp.model_fields[name]
            tp, tagged = info.annotation, any(isinstance(meta, Discriminator) for meta in info.metadata)
            where.path.append(str(segment))
            position += 1
        elif get_origin(tp) is list and isinstance(segment, int):
            tp, tagged = get_args(tp)[0], False
            where.path.append(str(segment))
            position += 1
        elif get_origin(tp) is dict:
            where.path.append(str(segment))
            position += 1
            if position < len(loc) and loc[position] == "[key]":  # the error is about the key itself
                position += 1
            tp, tagged = get_args(tp)[1], False
        else:
            break
    where.path.extend(str(segment) for segment in loc[position:])
    where.expected, _ = _unwrap(tp, False)
    return where


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _sentence(text: str) -> str:
    text = text.strip()
    if text.split(" ", 1)[0].isalpha():  # never "Time_on_page": a key stays as written
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else f"{text}."


def show(value: Any) -> str:
    """A value as a marketer wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _message(error: ErrorDetails, where: _Where) -> str:
    kind, ctx, given = error["type"], error.get("ctx", {}), error.get("input")
    expected = where.expected
    if kind == "missing":
        return "This is required."
    if kind == "extra_forbidden" and where.model is not None:
        return f"Unknown key '{where.path[-1]}'. Allowed here: {', '.join(_keys(where.model))}."
    if kind == "string_pattern_mismatch":
        noun, rule = _PATTERNS.get(str(ctx.get("pattern")), ("value", f"it must match {ctx.get('pattern')}"))
        return f"{show(given)} is not a valid {noun}: {rule}."
    if kind in ("model_type", "model_attributes_type") and isinstance(expected, type):
        if issubclass(expected, BaseModel):
            return f"This should be a mapping with keys such as {', '.join(_keys(expected))}."
    if kind in _TYPE_ERRORS:
        return _TYPE_ERRORS[kind]
    if kind == "string_too_long":
        return f"This is too long: at most {ctx.get('max_length')} characters."
    if kind in ("string_too_short", "too_short"):
        least = ctx.get("min_length", 1)
        return "This cannot be empty." if least == 1 else f"This needs at least {least} items."
    if kind == "too_long":
        return f"This has too many items: at most {ctx.get('max_length')}."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than"}
        words |= {"less_than_equal": "at most", "less_than": "less than"}
        limit = next(iter(ctx.values()), "")
        return f"This should be {words[kind]} {limit}."
    if kind in ("literal_error", "enum"):
        return f"{show(given)} is not allowed here: use {ctx.get('expected')}."
    if kind == "value_error":
        return _sentence(error["msg"].removeprefix("Value error, "))
    return _sentence(error["msg"])


def _describe(label: str) -> str:
    if label.startswith("dict["):
        return "one text per language ({en: ..., fr: ...})"
    if label.startswith("list["):
        return "a list"
    if label in ("str", "constrained-str"):
        return "a text"
    model = {"Goal": "a mapping with name and score"}.get(label)
    return model or f"a {label}"


def join(words: list[str], last: str = "or") -> str:
    """'a', 'a or b', 'a, b or c' (or with `last` = "and")."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def shape_problems(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Every error of `exc` (raised validating `root`) as a Problem, in order, without repeats."""
    located = [(error, _locate(error["loc"], root)) for error in exc.errors()]
    # A union member's plain wrong-type error ("not a text") says nothing when another member went deeper (the
    # value was a mapping, with a wrong key): drop it then, else merge the members into one "should be A or B".
    shallow = {
        i: where.unions[-1]
        for i, (error, where) in enumerate(located)
        if where.at_label and error["type"].endswith("_type")
    }
    deeper = {point for i, (_, where) in enumerate(located) if i not in shallow for point, _ in where.unions}
    entries: list[tuple[str, str | None]] = []  # (path, message); None: the merged message of a union at path
    merged: dict[str, list[str]] = {}
    for i, (error, where) in enumerate(located):
        if i not in shallow:
            entries.append((".".join(where.path), _message(error, where)))
        elif (point := shallow[i][0]) not in deeper:
            if point not in merged:
                entries.append((point, None))
            merged.setdefault(point, []).append(_describe(shallow[i][1]))
    result: list[Problem] = []
    for path, message in entries:
        problem = Problem(path or "document", message or f"This should be {join(merged[path])}.")
        if problem not in result:
            result.append(problem)
    return result
