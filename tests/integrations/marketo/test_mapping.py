"""The field mapping's pure logic: the proposal by name and type, the check of an admin's edits (each wrong row
named), and the custom field made for an unmapped Marketo field. No database, no network."""

from __future__ import annotations

import pytest

from overture.errors import InvalidInput
from overture.integrations.accounts import RemoteField
from overture.integrations.marketo import mapping
from overture.people.fields import FieldSchema, FieldSpec, FieldType

LEAD_FIELDS = [
    RemoteField("lead", "email", "Email Address", "email"),
    RemoteField("lead", "firstName", "First Name", "string"),
    RemoteField("lead", "company", "Company Name", "string"),
    RemoteField("lead", "numberOfEmployees", "Num Employees", "integer"),
    RemoteField("lead", "productInterest", "Product Interest", "string"),
    RemoteField("lead", "birthDate", "Birth Date", "date"),
    RemoteField("lead", "createdAt", "Created At", "datetime", updateable=False),
]
COMPANY_FIELDS = [
    RemoteField("company", "company", "Company Name", "string"),
    RemoteField("company", "billingCountry", "Billing Country", "string"),
]
FIELDS = LEAD_FIELDS + COMPANY_FIELDS
SCHEMA = FieldSchema.builtin([FieldSpec("person.product_interest", FieldType.text, "Product interest")])


def test_standard_fields_are_proposed_for_the_overture_fields_of_the_same_meaning() -> None:
    proposed = mapping.propose(FIELDS, SCHEMA, {})
    assert proposed["lead"]["email"] == "person.email"
    assert proposed["lead"]["firstName"] == "person.first_name"
    assert proposed["lead"]["company"] == "company.name"
    assert proposed["lead"]["numberOfEmployees"] == "company.employees"
    assert proposed["company"] == {"billingCountry": "company.country", "company": "company.name"}


def test_a_custom_marketo_field_is_proposed_for_the_custom_field_of_its_name() -> None:
    assert mapping.propose(FIELDS, SCHEMA, {})["lead"]["productInterest"] == "person.product_interest"


def test_a_field_with_no_overture_field_of_its_name_and_type_is_not_synced() -> None:
    proposed = mapping.propose(FIELDS, SCHEMA, {})
    assert proposed["lead"]["birthDate"] is None and proposed["lead"]["createdAt"] is None


def test_a_name_match_of_the_wrong_type_is_not_proposed() -> None:
    schema = FieldSchema.builtin([FieldSpec("person.birth_date", FieldType.boolean, "Birth date")])
    assert mapping.propose(FIELDS, schema, {})["lead"]["birthDate"] is None


def test_the_admins_earlier_choices_are_kept_when_fields_are_read_again() -> None:
    previous = {"lead": {"email": None, "firstName": "person.last_name"}}
    proposed = mapping.propose(FIELDS, SCHEMA, previous)
    assert proposed["lead"]["email"] is None, "not synced stays not synced"
    assert proposed["lead"]["firstName"] == "person.last_name"


def test_there_is_no_cap_on_how_many_fields_are_proposed() -> None:
    many = [RemoteField("lead", f"custom{i}", f"Custom {i}", "string") for i in range(500)]
    schema = FieldSchema.builtin([FieldSpec(f"person.custom{i}", FieldType.text, f"Custom {i}") for i in range(500)])
    proposed = mapping.propose(many, schema, {})
    assert sum(1 for target in proposed["lead"].values() if target) == 500


def test_an_edit_maps_a_field_and_leaves_the_others_as_they_were() -> None:
    current = mapping.propose(FIELDS, SCHEMA, {})
    edited = mapping.check({"lead": {"firstName": None}}, FIELDS, SCHEMA, current)
    assert edited["lead"]["firstName"] is None
    assert edited["lead"]["email"] == "person.email"


def test_a_marketo_date_mapped_to_a_boolean_field_is_refused_naming_the_row() -> None:
    with pytest.raises(InvalidInput) as refused:
        mapping.check({"lead": {"birthDate": "person.consent"}}, FIELDS, SCHEMA, {})
    [problem] = refused.value.problems
    assert problem.path == "lead.birthDate"
    assert problem.message == (
        "Lead field Birth Date (birthDate): a Marketo date cannot map to person.consent, a boolean field. Choose a "
        "date or text field, or Not synced."
    )


def test_a_company_field_cannot_map_to_a_person_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        mapping.check({"company": {"company": "person.first_name"}}, FIELDS, SCHEMA, {})
    assert refused.value.problems[0].message.endswith("a Marketo company field maps to a company field, not to "
                                                      "person.first_name.")  # fmt: skip


def test_one_overture_field_mapped_from_two_fields_of_an_object_is_refused() -> None:
    current = mapping.propose(FIELDS, SCHEMA, {})
    with pytest.raises(InvalidInput) as refused:
        mapping.check({"lead": {"productInterest": "person.first_name"}}, FIELDS, SCHEMA, current)
    assert refused.value.problems[0].path == "lead.productInterest"
    assert "person.first_name is already mapped from firstName" in refused.value.problems[0].message


def test_an_unknown_marketo_field_or_overture_field_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        mapping.check({"lead": {"nope": None, "email": "person.shoe_size"}}, FIELDS, SCHEMA, {})
    assert [p.path for p in refused.value.problems] == ["lead.nope", "lead.email"]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (RemoteField("lead", "webinarAttendee", "Webinar Attendee", "boolean"), ("person.webinar_attendee", "boolean")),
        (RemoteField("lead", "leadScore", "Lead Score", "integer"), ("person.lead_score", "number")),
        (RemoteField("lead", "birthDate", "Birth Date", "date"), ("person.birth_date", "date")),
        (RemoteField("company", "SICCode", "SIC Code", "string"), ("company.sic_code", "text")),
    ],
)
def test_the_custom_field_made_for_a_marketo_field_has_its_name_and_a_fitting_type(
    field: RemoteField, expected: tuple[str, str]
) -> None:
    spec = mapping.custom_field_for(field)
    assert (spec.name, spec.type.value) == expected and spec.label == field.label
