"""The field schema: every person, company, visit and activity field a dialogue, an audience rule or an import may
name, with its type. Built-in fields are listed here; custom fields (added by admins) arrive with the people issue
and join the same `FieldSchema`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    text = "text"
    email = "email"
    phone = "phone"
    number = "number"
    boolean = "boolean"
    date = "date"
    choice = "choice"


@dataclass(frozen=True)
class FieldSpec:
    """One field: `name` is dotted (`person.email`); `writable` says whether a dialogue may capture or set it."""

    name: str
    type: FieldType
    label: str
    writable: bool = True
    choices: tuple[str, ...] = ()


# Operators each type accepts in audience and branch conditions.
OPERATORS: dict[FieldType, frozenset[str]] = {
    FieldType.text: frozenset(
        {"is_empty", "is_not_empty", "equals", "not_equals", "in", "not_in", "contains", "starts_with"}
    ),
    FieldType.email: frozenset(
        {"is_empty", "is_not_empty", "equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with"}
    ),
    FieldType.phone: frozenset({"is_empty", "is_not_empty", "equals", "not_equals", "starts_with"}),
    FieldType.number: frozenset(
        {"is_empty", "is_not_empty", "equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "between"}
    ),
    FieldType.boolean: frozenset({"is_empty", "is_not_empty", "equals", "not_equals"}),
    FieldType.date: frozenset(
        {"is_empty", "is_not_empty", "equals", "not_equals", "before", "after", "between", "in_last_days"}
    ),
    FieldType.choice: frozenset({"is_empty", "is_not_empty", "equals", "not_equals", "in", "not_in"}),
}
ALL_OPERATORS = frozenset().union(*OPERATORS.values())
# Operators that take no value, one value, a list, or a pair.
NO_VALUE = frozenset({"is_empty", "is_not_empty"})
LIST_VALUE = frozenset({"in", "not_in"})
PAIR_VALUE = frozenset({"between"})


def _builtin() -> list[FieldSpec]:
    t, n = FieldType.text, FieldType.number
    return [
        FieldSpec("person.email", FieldType.email, "Email"),
        FieldSpec("person.first_name", t, "First name"),
        FieldSpec("person.last_name", t, "Last name"),
        FieldSpec("person.title", t, "Job title"),
        FieldSpec("person.phone", FieldType.phone, "Phone"),
        FieldSpec("person.language", t, "Language"),
        FieldSpec("person.consent", FieldType.boolean, "Consent"),
        FieldSpec("company.name", t, "Company"),
        FieldSpec("company.domain", t, "Company domain"),
        FieldSpec("company.industry", t, "Industry"),
        FieldSpec("company.employees", n, "Employees"),
        FieldSpec("company.revenue", n, "Revenue"),
        FieldSpec("company.country", t, "Country"),
        FieldSpec("company.owner", FieldType.email, "Account owner"),
        FieldSpec("visit.count", n, "Visits", writable=False),
        FieldSpec("visit.time_on_site", n, "Time on site (s)", writable=False),
        FieldSpec("visit.referrer", t, "Referrer", writable=False),
        FieldSpec("visit.landing_page", t, "Landing page", writable=False),
        FieldSpec("visit.utm_source", t, "UTM source", writable=False),
        FieldSpec("visit.utm_medium", t, "UTM medium", writable=False),
        FieldSpec("visit.utm_campaign", t, "UTM campaign", writable=False),
        FieldSpec("visit.device", FieldType.choice, "Device", writable=False, choices=("desktop", "mobile", "tablet")),
        FieldSpec("visit.language", t, "Browser language", writable=False),
        FieldSpec("visit.country", t, "Country of the visit", writable=False),
    ]


@dataclass(frozen=True)
class FieldSchema:
    """The fields that exist. Activity conditions (`activity.*`) are checked by the targeting package."""

    fields: Mapping[str, FieldSpec] = field(default_factory=dict)

    @classmethod
    def builtin(cls, extra: Iterable[FieldSpec] = ()) -> FieldSchema:
        return cls({spec.name: spec for spec in [*_builtin(), *extra]})

    def get(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def names(self) -> list[str]:
        return sorted(self.fields)


# Activity fields of audience conditions (`activity.*`, read-only, audience only): each names the activity type whose
# records it looks at. A condition sees the names of those records (dialogue keys, goal names, urls, field names).
ACTIVITY_FIELDS: dict[str, str] = {
    "activity.triggered": "dialogue.triggered",
    "activity.engaged": "dialogue.engaged",
    "activity.completed": "dialogue.completed",
    "activity.dismissed": "dialogue.dismissed",
    "activity.goal_reached": "goal.reached",
    "activity.meeting_booked": "meeting.booked",
    "activity.link_clicked": "link.clicked",
    "activity.field_captured": "field.captured",
    # Recorded by the Marketo integration from the lead's Marketo activities (people synced from Marketo only).
    "activity.marketo.visited_web_page": "marketo.visited_web_page",
    "activity.marketo.filled_out_form": "marketo.filled_out_form",
    "activity.marketo.clicked_link": "marketo.clicked_link",
    "activity.marketo.opened_email": "marketo.opened_email",
    "activity.marketo.clicked_email": "marketo.clicked_email",
    "activity.marketo.changed_program_status": "marketo.changed_program_status",
}
# What the names of each activity field are, for messages ("activity.engaged takes dialogue keys").
ACTIVITY_NAMES: dict[str, str] = {
    "activity.triggered": "dialogue keys",
    "activity.engaged": "dialogue keys",
    "activity.completed": "dialogue keys",
    "activity.dismissed": "dialogue keys",
    "activity.goal_reached": "goal names",
    "activity.meeting_booked": "meeting names",
    "activity.link_clicked": "link addresses",
    "activity.field_captured": "field names",
    "activity.marketo.visited_web_page": "page addresses",
    "activity.marketo.filled_out_form": "form names",
    "activity.marketo.clicked_link": "link addresses",
    "activity.marketo.opened_email": "email names",
    "activity.marketo.clicked_email": "email names",
    "activity.marketo.changed_program_status": "program statuses (program / new status)",
}
ACTIVITY_OPERATORS = frozenset(
    {"is_empty", "is_not_empty", "equals", "not_equals", "contains", "in", "not_in", "in_last_days"}
)
