"""Custom fields: admins add person and company fields to the schema, rename their labels and retire them.

The dotted name (`person.segment`) is the stable key dialogues, rules and imports use, so it never changes after the
field is added; renaming changes the label people read. Retiring hides the field from the schema (new dialogues
and imports cannot use it) but keeps every value already stored on people and companies; restoring brings it back.
Every change bumps the targeting signal, because audience rules are compiled against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture import signals
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.fields import FieldSchema, FieldSpec, FieldType
from overture.people.models import FieldDefinition

PREFIXES = ("person", "company")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
NAME_LIMIT = 80  # the column's length, prefix included
LABEL_LIMIT = 100
CHOICE_LIMIT = 100
MAX_CHOICES = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def active_specs(session: Session) -> list[FieldSpec]:
    """The custom fields in use, as field specs (retired ones are left out: their data stays on the rows)."""
    rows = session.scalars(select(FieldDefinition).where(FieldDefinition.retired_at.is_(None)))
    return [
        FieldSpec(
            row.name, FieldType(row.type), row.label, writable=row.visitor_fillable, choices=tuple(row.choices or ())
        )
        for row in rows
    ]


@dataclass(frozen=True)
class FieldEntry:
    """One row of the schema as the Fields page and the API list it: built-in (read-only) or custom."""

    name: str
    label: str
    type: str
    choices: tuple[str, ...]
    visitor_fillable: bool
    built_in: bool
    retired_at: datetime | None = None

    @property
    def status(self) -> str:
        """built-in, active or retired."""
        if self.built_in:
            return "built-in"
        return "retired" if self.retired_at is not None else "active"


def entry_of(row: FieldDefinition) -> FieldEntry:
    return FieldEntry(
        row.name, row.label, row.type, tuple(row.choices or ()), row.visitor_fillable, False, row.retired_at
    )


def all_fields(session: Session) -> list[FieldEntry]:
    """Every field: person fields, then company fields, then the read-only visit fields; within each, built-in
    fields first (in their usual order), then custom ones by name, retired ones included."""
    builtin = [
        FieldEntry(spec.name, spec.label, spec.type.value, spec.choices, spec.writable, True)
        for spec in FieldSchema.builtin().fields.values()
    ]
    custom = [entry_of(row) for row in list_custom(session)]
    order = {prefix: index for index, prefix in enumerate(PREFIXES)}

    def position(entry: FieldEntry) -> int:
        return order.get(entry.name.split(".", 1)[0], len(order))

    # sorted() is stable: built-in order is kept, custom ones (already by name) follow within their prefix.
    return sorted([*builtin, *custom], key=position)


def list_custom(session: Session) -> list[FieldDefinition]:
    return list(session.scalars(select(FieldDefinition).order_by(FieldDefinition.name)))


def find(session: Session, name: str) -> FieldDefinition | None:
    return session.scalar(select(FieldDefinition).where(FieldDefinition.name == name))


def get(session: Session, name: str) -> FieldDefinition:
    """The custom field `name`; raises Conflict for a built-in field (they cannot be changed), NotFound otherwise."""
    row = find(session, name)
    if row is not None:
        return row
    if name in FieldSchema.builtin():
        raise Conflict(f"{name} is a built-in field: it cannot be changed. Only custom fields can.")
    raise NotFound(f"There is no custom field named {name}.")


# --- checks ---------------------------------------------------------------------------------------------------------


def _check_name(name: str, problems: list[Problem]) -> str:
    name = name.strip()
    prefix, dot, key = name.partition(".")
    if not dot or prefix not in PREFIXES:
        problems.append(
            Problem("name", "A custom field belongs to a person or a company: start its name with person. or company.")
        )
    elif not KEY_PATTERN.fullmatch(key):
        problems.append(
            Problem(
                "name",
                f"After '{prefix}.', use lower-case letters, digits and _ (snake_case), starting with a letter, "
                f"e.g. {prefix}.segment.",
            )
        )
    elif len(name) > NAME_LIMIT:
        problems.append(Problem("name", f"The name is too long: use at most {NAME_LIMIT} characters."))
    elif name in FieldSchema.builtin():
        problems.append(Problem("name", f"{name} is a built-in field. Choose another name."))
    return name


def _check_label(label: str, problems: list[Problem]) -> str:
    label = label.strip()
    if not label:
        problems.append(Problem("label", "Give the field a label: the name people read on pages and in exports."))
    elif len(label) > LABEL_LIMIT:
        problems.append(Problem("label", f"The label is too long: use at most {LABEL_LIMIT} characters."))
    elif _CONTROL.search(label):
        problems.append(Problem("label", "The label has invisible control characters. Remove them."))
    return label


def _check_type(type_: str, problems: list[Problem]) -> FieldType | None:
    try:
        return FieldType(type_)
    except ValueError:
        allowed = ", ".join(t.value for t in FieldType)
        problems.append(Problem("type", f"'{type_}' is not a field type. Choose one of: {allowed}."))
        return None


def _check_choices(field_type: FieldType | None, choices: Sequence[str], problems: list[Problem]) -> list[str]:
    cleaned = [choice.strip() for choice in choices if choice.strip()]
    if field_type is not None and field_type != FieldType.choice:
        if cleaned:
            problems.append(
                Problem("choices", f"Only choice fields have choices; a {field_type.value} field has none.")
            )
        return []
    if field_type is None:
        return cleaned
    if not cleaned:
        problems.append(Problem("choices", "A choice field needs at least one choice."))
    elif len(cleaned) > MAX_CHOICES:
        problems.append(Problem("choices", f"Too many choices: at most {MAX_CHOICES}."))
    seen: set[str] = set()
    for index, choice in enumerate(cleaned):
        if len(choice) > CHOICE_LIMIT:
            problems.append(
                Problem(f"choices.{index}", f"'{choice[:20]}…' is too long: at most {CHOICE_LIMIT} characters.")
            )
        elif _CONTROL.search(choice):
            problems.append(Problem(f"choices.{index}", "This choice has invisible control characters. Remove them."))
        elif choice in seen:
            problems.append(Problem(f"choices.{index}", f"'{choice}' is listed twice."))
        seen.add(choice)
    return cleaned


def _raise(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInput(f"{what}: {problems[0].message}" if len(problems) == 1 else f"{what}.", problems)


# --- changes --------------------------------------------------------------------------------------------------------


def add(
    session: Session,
    name: str,
    label: str,
    type_: str,
    *,
    choices: Sequence[str] = (),
    visitor_fillable: bool = True,
    now: datetime,
) -> FieldDefinition:
    """Adds a custom field. Raises InvalidInput listing every problem (name format, built-in name, label, type,
    choices), Conflict when a custom field of that name exists (retired ones included: restore it instead)."""
    problems: list[Problem] = []
    name = _check_name(name, problems)
    label = _check_label(label, problems)
    field_type = _check_type(type_, problems)
    cleaned = _check_choices(field_type, choices, problems)
    _raise(problems, "The field cannot be added")
    assert field_type is not None
    existing = find(session, name)
    if existing is not None:
        hint = " It is retired: restore it instead." if existing.retired_at is not None else ""
        raise Conflict(f"A custom field named {name} exists already.{hint}", [Problem("name", "Already in use.")])
    row = FieldDefinition(
        name=name,
        label=label,
        type=field_type.value,
        choices=cleaned,
        visitor_fillable=visitor_fillable,
        retired_at=None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    signals.bump(session, signals.TARGETING)
    return row


def update(
    session: Session,
    row: FieldDefinition,
    *,
    label: str | None = None,
    visitor_fillable: bool | None = None,
    choices: Sequence[str] | None = None,
) -> FieldDefinition:
    """Renames the field (its label: the dotted name stays), says whether visitors may fill it, or replaces the
    choices of a choice field. The type cannot change. Raises InvalidInput listing every problem."""
    problems: list[Problem] = []
    new_label = _check_label(label, problems) if label is not None else row.label
    new_choices = _check_choices(FieldType(row.type), choices, problems) if choices is not None else row.choices
    _raise(problems, f"{row.name} is not changed")
    row.label = new_label
    row.choices = list(new_choices)
    if visitor_fillable is not None:
        row.visitor_fillable = visitor_fillable
    session.flush()
    signals.bump(session, signals.TARGETING)
    return row


def retire(session: Session, row: FieldDefinition, now: datetime) -> FieldDefinition:
    """Takes the field out of the schema; the values people and companies have are kept. Raises Conflict when it is
    retired already."""
    if row.retired_at is not None:
        raise Conflict(f"{row.name} is retired already.")
    row.retired_at = now
    session.flush()
    signals.bump(session, signals.TARGETING)
    return row


def restore(session: Session, row: FieldDefinition) -> FieldDefinition:
    """Puts a retired field back in the schema, with the values it kept. Raises Conflict when it is in use."""
    if row.retired_at is None:
        raise Conflict(f"{row.name} is in use: only a retired field can be restored.")
    row.retired_at = None
    session.flush()
    signals.bump(session, signals.TARGETING)
    return row
