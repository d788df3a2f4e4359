"""Custom fields: add, rename, retire and restore, every refusal explained, the schema and the targeting signal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from overture import signals
from overture.db import Database
from overture.errors import Conflict, InvalidInput, NotFound
from overture.people import custom_fields
from overture.people.models import Person
from overture.people.service import field_schema

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.write() as writing:
        yield writing


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.path: p.message for p in error.value.problems}


def test_an_added_field_joins_the_schema_with_its_type_and_choices(session: Session) -> None:
    before = signals.generation(session, signals.TARGETING)
    custom_fields.add(session, "person.segment", "Segment", "choice", choices=["SMB", " Enterprise "], now=NOW)
    spec = field_schema(session).get("person.segment")
    assert spec is not None and spec.type == "choice" and spec.label == "Segment"
    assert spec.choices == ("SMB", "Enterprise") and spec.writable
    assert signals.generation(session, signals.TARGETING) == before + 1, "the targeting selector is rebuilt"


def test_a_field_visitors_may_not_fill_is_not_writable_by_dialogues(session: Session) -> None:
    custom_fields.add(session, "company.tier", "Tier", "number", visitor_fillable=False, now=NOW)
    spec = field_schema(session).get("company.tier")
    assert spec is not None and not spec.writable


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("segment", "start its name with person. or company."),
        ("visit.segment", "start its name with person. or company."),
        ("person.Segment", "lower-case letters, digits and _"),
        ("person.1st", "starting with a letter"),
        ("person.my-field", "lower-case letters, digits and _"),
        ("person." + "x" * 80, "at most 80 characters"),
        ("person.email", "person.email is a built-in field. Choose another name."),
        ("company.owner", "company.owner is a built-in field."),
    ],
)
def test_a_bad_name_is_refused_with_the_reason(session: Session, name: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, name, "Label", "text", now=NOW)
    assert message in problems_of(error)["name"]


def test_every_problem_of_a_new_field_is_listed_at_once(session: Session) -> None:
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "lead.x", "  ", "colour", now=NOW)
    problems = problems_of(error)
    assert set(problems) == {"name", "label", "type"}
    assert "Give the field a label" in problems["label"]
    assert (
        problems["type"]
        == "'colour' is not a field type. Choose one of: text, email, phone, number, boolean, date, choice."
    )


def test_a_label_too_long_or_with_control_characters_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.a", "x" * 101, "text", now=NOW)
    assert "at most 100 characters" in problems_of(error)["label"]
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.a", "bad\x00label", "text", now=NOW)
    assert "control characters" in problems_of(error)["label"]


def test_a_choice_field_needs_choices_and_only_choice_fields_have_them(session: Session) -> None:
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.segment", "Segment", "choice", choices=["", " "], now=NOW)
    assert problems_of(error)["choices"] == "A choice field needs at least one choice."
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.segment", "Segment", "text", choices=["SMB"], now=NOW)
    assert problems_of(error)["choices"] == "Only choice fields have choices; a text field has none."
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.segment", "Segment", "choice", choices=["SMB", "Mid", "SMB"], now=NOW)
    assert problems_of(error)["choices.2"] == "'SMB' is listed twice."
    with pytest.raises(InvalidInput) as error:
        custom_fields.add(session, "person.segment", "Segment", "choice", choices=["y" * 101], now=NOW)
    assert "at most 100 characters" in problems_of(error)["choices.0"]


def test_a_name_in_use_is_refused_even_when_that_field_is_retired(session: Session) -> None:
    row = custom_fields.add(session, "person.segment", "Segment", "text", now=NOW)
    with pytest.raises(Conflict, match="A custom field named person.segment exists already.$"):
        custom_fields.add(session, "person.segment", "Other", "text", now=NOW)
    custom_fields.retire(session, row, NOW)
    with pytest.raises(Conflict, match="It is retired: restore it instead."):
        custom_fields.add(session, "person.segment", "Other", "number", now=NOW)


def test_renaming_changes_the_label_and_keeps_the_name(session: Session) -> None:
    row = custom_fields.add(session, "person.segment", "Segment", "choice", choices=["SMB"], now=NOW)
    before = signals.generation(session, signals.TARGETING)
    custom_fields.update(session, row, label="Market segment", choices=["SMB", "Enterprise"], visitor_fillable=False)
    spec = field_schema(session).get("person.segment")
    assert spec is not None and spec.label == "Market segment" and spec.choices == ("SMB", "Enterprise")
    assert not spec.writable
    assert signals.generation(session, signals.TARGETING) == before + 1


def test_a_bad_rename_changes_nothing(session: Session) -> None:
    row = custom_fields.add(session, "person.size", "Size", "number", now=NOW)
    with pytest.raises(InvalidInput) as error:
        custom_fields.update(session, row, label="", choices=["S"])
    assert set(problems_of(error)) == {"label", "choices"}
    assert row.label == "Size" and row.choices == []


def test_retiring_hides_the_field_but_keeps_the_data_and_restoring_brings_it_back(session: Session) -> None:
    row = custom_fields.add(session, "person.segment", "Segment", "text", now=NOW)
    person = Person(fields={"person.segment": "SMB"}, source={}, visit={}, created_at=NOW, last_seen_at=NOW)
    session.add(person)
    session.flush()
    before = signals.generation(session, signals.TARGETING)

    custom_fields.retire(session, row, NOW)
    assert "person.segment" not in field_schema(session)
    assert signals.generation(session, signals.TARGETING) == before + 1
    session.expire_all()
    assert session.get(Person, person.id).fields == {"person.segment": "SMB"}  # type: ignore[union-attr]
    [entry] = [e for e in custom_fields.all_fields(session) if e.name == "person.segment"]
    assert entry.status == "retired"
    with pytest.raises(Conflict, match="retired already"):
        custom_fields.retire(session, row, NOW)

    custom_fields.restore(session, custom_fields.get(session, "person.segment"))
    assert "person.segment" in field_schema(session)
    assert signals.generation(session, signals.TARGETING) == before + 2
    with pytest.raises(Conflict, match="only a retired field can be restored"):
        custom_fields.restore(session, row)


def test_the_listing_shows_built_in_fields_beside_custom_ones_grouped_by_kind(session: Session) -> None:
    custom_fields.add(session, "company.tier", "Tier", "text", now=NOW)
    custom_fields.add(session, "person.segment", "Segment", "text", now=NOW)
    entries = custom_fields.all_fields(session)
    names = [e.name for e in entries]
    assert names.index("person.consent") < names.index("person.segment") < names.index("company.name")
    assert names.index("company.owner") < names.index("company.tier") < names.index("visit.count")
    email = entries[names.index("person.email")]
    assert email.built_in and email.status == "built-in"


def test_a_built_in_field_cannot_be_changed_and_an_unknown_one_is_not_found(session: Session) -> None:
    with pytest.raises(Conflict, match="person.email is a built-in field: it cannot be changed"):
        custom_fields.get(session, "person.email")
    with pytest.raises(NotFound, match="There is no custom field named person.nope."):
        custom_fields.get(session, "person.nope")
