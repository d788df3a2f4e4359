"""Marketo's lead and company fields mapped to Overture's person and company fields: the proposal, the check of an
admin's edits, and the custom field to make for an unmapped one. Pure: given the fields, it computes; no database,
no network (tested without either).

- **Proposed** by name first (Marketo's standard fields Overture knows: email → person.email, company →
  company.name...), then by name (productInterest → person.product_interest) and by label ("Product Interest"),
  each only when the types fit and the Overture field is not taken by another field of the same object. An
  admin's earlier choice (mapped or "not synced") is kept while it still fits.
- **Types** fit as `FITS` says: a Marketo date maps to a date or text field, never to a boolean one.
- **Sides**: a lead field maps to a person or a company field (Marketo keeps the lead's company on the lead), a
  company field to a company field only.
- There is no cap on how many fields are mapped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from overture.errors import InvalidInput, Problem
from overture.integrations.accounts import RemoteField
from overture.people.fields import FieldSchema, FieldSpec, FieldType

LEAD, COMPANY = "lead", "company"
OBJECTS = {LEAD: "Lead", COMPANY: "Company"}
# The Overture field prefixes each Marketo object may write to.
SIDES = {LEAD: ("person.", "company."), COMPANY: ("company.",)}
NAME_LIMIT = 80  # the custom field name's length, prefix included

_TEXT = frozenset({FieldType.text, FieldType.choice})
# Marketo's data types (describe2's dataType) and the Overture field types their values fit in.
FITS: dict[str, frozenset[FieldType]] = {
    "string": _TEXT,
    "text": _TEXT,
    "textarea": _TEXT,
    "url": _TEXT,
    "reference": _TEXT,
    "email": frozenset({FieldType.email, FieldType.text}),
    "phone": frozenset({FieldType.phone, FieldType.text}),
    "integer": frozenset({FieldType.number, FieldType.text}),
    "float": frozenset({FieldType.number, FieldType.text}),
    "currency": frozenset({FieldType.number, FieldType.text}),
    "percent": frozenset({FieldType.number, FieldType.text}),
    "score": frozenset({FieldType.number, FieldType.text}),
    "boolean": frozenset({FieldType.boolean, FieldType.text}),
    "date": frozenset({FieldType.date, FieldType.text}),
    "datetime": frozenset({FieldType.date, FieldType.text}),
}
# The type of a custom field made for a Marketo field (a type not listed: text).
FITTING: dict[str, FieldType] = {
    "email": FieldType.email,
    "phone": FieldType.phone,
    "integer": FieldType.number,
    "float": FieldType.number,
    "currency": FieldType.number,
    "percent": FieldType.number,
    "score": FieldType.number,
    "boolean": FieldType.boolean,
    "date": FieldType.date,
    "datetime": FieldType.date,
}
# Marketo's standard fields whose Overture field is known.
KNOWN: dict[tuple[str, str], str] = {
    (LEAD, "email"): "person.email",
    (LEAD, "firstName"): "person.first_name",
    (LEAD, "lastName"): "person.last_name",
    (LEAD, "title"): "person.title",
    (LEAD, "phone"): "person.phone",
    (LEAD, "mobilePhone"): "person.phone",
    (LEAD, "company"): "company.name",
    (LEAD, "website"): "company.domain",
    (LEAD, "industry"): "company.industry",
    (LEAD, "numberOfEmployees"): "company.employees",
    (LEAD, "annualRevenue"): "company.revenue",
    (COMPANY, "company"): "company.name",
    (COMPANY, "website"): "company.domain",
    (COMPANY, "industry"): "company.industry",
    (COMPANY, "numberOfEmployees"): "company.employees",
    (COMPANY, "annualRevenue"): "company.revenue",
    (COMPANY, "billingCountry"): "company.country",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_KEY = re.compile(r"[^a-z0-9]+")

Mapped = dict[str, dict[str, str | None]]


def snake(name: str) -> str:
    """A Marketo API name as an Overture key: productInterest → product_interest, SFDCType → sfdc_type."""
    key = _NOT_KEY.sub("_", _CAMEL.sub("_", name).lower()).strip("_")
    return key if key[:1].isalpha() else f"f_{key}".rstrip("_")


def fits(field: RemoteField, spec: FieldSpec) -> bool:
    """Whether `field`'s values can go into `spec`: its object's side, writable, a type that fits."""
    return (
        spec.writable
        and spec.name.startswith(SIDES.get(field.object, ()))
        and spec.type in FITS.get(field.type, frozenset({FieldType.text}))
    )


def targets(field: RemoteField, schema: FieldSchema) -> list[FieldSpec]:
    """The Overture fields `field` may map to, in the schema's order."""
    return [spec for spec in schema.fields.values() if fits(field, spec)]


def _candidates(field: RemoteField, schema: FieldSchema) -> list[str]:
    """The Overture fields `field` is proposed for, best first."""
    found = [KNOWN[(field.object, field.name)]] if (field.object, field.name) in KNOWN else []
    key = snake(field.name)
    found += [prefix + key for prefix in SIDES.get(field.object, ())]
    label = field.label.strip().casefold()
    if label:
        found += [spec.name for spec in targets(field, schema) if spec.label.strip().casefold() == label]
    return found


def propose(
    fields: Sequence[RemoteField], schema: FieldSchema, previous: Mapping[str, Mapping[str, str | None]]
) -> Mapped:
    """Every field of `fields` mapped to an Overture field or None (see the module doc). Within an object no
    Overture field is proposed twice; the earlier choices in `previous` are kept first where they still fit."""
    mapped: Mapped = {object_: {} for object_ in OBJECTS}
    taken: dict[str, set[str]] = {object_: set() for object_ in OBJECTS}
    pending: list[RemoteField] = []
    for field in fields:
        kept = previous.get(field.object, {})
        if field.name in kept:
            target = kept[field.name]
            spec = schema.get(target) if target else None
            if target is None or (spec is not None and fits(field, spec) and target not in taken[field.object]):
                mapped.setdefault(field.object, {})[field.name] = target
                if target:
                    taken[field.object].add(target)
                continue
        pending.append(field)
    # Known names first, so that a standard field wins its Overture field over a look-alike custom one.
    pending.sort(key=lambda field: (field.object, field.name) not in KNOWN)
    for field in pending:
        choice: str | None = None
        for name in _candidates(field, schema):
            spec = schema.get(name)
            if spec is not None and fits(field, spec) and name not in taken.setdefault(field.object, set()):
                choice = name
                break
        mapped.setdefault(field.object, {})[field.name] = choice
        if choice:
            taken[field.object].add(choice)
    return {object_: dict(sorted(names.items())) for object_, names in mapped.items()}


def _row(field: RemoteField) -> str:
    return f"{OBJECTS.get(field.object, field.object)} field {field.label or field.name} ({field.name})"


def check(
    given: Mapping[str, Mapping[str, str | None]],
    fields: Sequence[RemoteField],
    schema: FieldSchema,
    current: Mapping[str, Mapping[str, str | None]] | None = None,
) -> Mapped:
    """The mapping after an admin's edit: the rows `given` (a page of the table, or all of it) over the `current`
    mapping (rows not given keep theirs; without one, they are not synced). Every given row must name a field
    Marketo has and an Overture field that exists, can be written, is on the object's side, of a type that fits,
    and is mapped once per object. Raises InvalidInput with one problem per wrong row, at path "object.name" (e.g.
    "lead.birthDate")."""
    known = {(field.object, field.name): field for field in fields}
    current = current or {}
    mapped: Mapped = {
        object_: {f.name: (current.get(object_, {}).get(f.name) or None) for f in fields if f.object == object_}
        for object_ in OBJECTS
    }
    problems: list[Problem] = []
    edited: list[tuple[RemoteField, str]] = []
    for object_, names in given.items():
        for name, target in names.items():
            path = f"{object_}.{name}"
            field = known.get((object_, name))
            if field is None:
                problems.append(Problem(path, f"Marketo has no {object_} field named {name!r} (test the connection "
                                              "to read Marketo's fields again)."))  # fmt: skip
                continue
            mapped[object_][name] = target or None
            if not target:
                continue
            spec = schema.get(target)
            if spec is None or not spec.writable:
                problems.append(Problem(path, f"{_row(field)}: Overture has no field {target} that can be written."))
            elif not spec.name.startswith(SIDES[object_]):
                sides = " or ".join(prefix.rstrip(".") for prefix in SIDES[object_])
                problems.append(Problem(path, f"{_row(field)}: a Marketo {object_} field maps to a {sides} field, "
                                              f"not to {target}."))  # fmt: skip
            elif not fits(field, spec):
                allowed = " or ".join(sorted(t.value for t in FITS.get(field.type, frozenset({FieldType.text}))))
                message = (f"{_row(field)}: a Marketo {field.type} cannot map to {target}, a {spec.type.value} "
                           f"field. Choose a {allowed} field, or Not synced.")  # fmt: skip
                problems.append(Problem(path, message))
            else:
                edited.append((field, target))
    for field, target in edited:
        others = sorted(name for name, to in mapped[field.object].items() if to == target and name != field.name)
        if others:
            problems.append(Problem(f"{field.object}.{field.name}", f"{_row(field)}: {target} is already mapped "
                                    f"from {others[0]}. Map each Overture field once per object."))  # fmt: skip
    if problems:
        first = problems[0].message
        summary = f"The mapping is not saved: {first}" if len(problems) == 1 else (
            f"The mapping is not saved: {len(problems)} rows are wrong. {first}")  # fmt: skip
        raise InvalidInput(summary, problems)
    return {object_: dict(sorted(names.items())) for object_, names in mapped.items()}


def custom_field_for(field: RemoteField) -> FieldSpec:
    """The custom field to make for `field`: person.<key> for a lead field, company.<key> for a company field, of
    the fitting type, labelled as in Marketo."""
    prefix = "person." if field.object == LEAD else "company."
    name = (prefix + snake(field.name))[:NAME_LIMIT].rstrip("_")
    return FieldSpec(name, FITTING.get(field.type, FieldType.text), (field.label or field.name)[:100])
