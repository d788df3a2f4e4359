"""Importing people and companies from CSV: columns to fields, every cell checked by its type, bad rows reported
with their line, dry runs and all-or-nothing imports that write nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import InvalidInput
from overture.people.importing import ImportOptions, ImportReport, Kind, import_csv
from overture.people.models import Company, CompanyDomain, FieldDefinition, Person

from support import Personas

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def run_import(db: Database, text: str | bytes, kind: Kind = "person", **options: object) -> ImportReport:
    with db.write() as session:
        return import_csv(session, text, ImportOptions(kind=kind, **options), NOW)  # type: ignore[arg-type]


def refused(db: Database, text: str, kind: Kind = "person", **options: object) -> dict[str, str]:
    """The column problems of a file refused as a whole, by column."""
    with pytest.raises(InvalidInput) as caught:
        run_import(db, text, kind, **options)
    return {problem.path: problem.message for problem in caught.value.problems}


def people(db: Database) -> dict[str, Person]:
    with db.read() as session:
        return {person.email or "": person for person in session.scalars(select(Person))}


def companies(db: Database) -> dict[str, Company]:
    with db.read() as session:
        return {company.domain or company.name or "": company for company in session.scalars(select(Company))}


def problems_of(report: ImportReport) -> list[tuple[int, str | None]]:
    return [(problem.line, problem.column) for problem in report.problems]


# --- happy paths ---------------------------------------------------------------------------------------------------


def test_people_are_created_then_updated_by_email_and_linked_to_the_company_their_row_names(db: Database) -> None:
    report = run_import(
        db,
        "Email,First name,last_name,company.domain,Company,Phone,Consent\n"
        "Ada@Acme.com,Ada,Lovelace,acme.com,Acme,+33 6 12 34 56 78,yes\n"
        "grace@acme.com,Grace,Hopper,https://www.ACME.com/about,,,no\n",
    )
    assert (report.created, report.updated, report.bad, report.written) == (2, 0, 0, True)
    assert report.columns["Email"] == "person.email" and report.columns["Company"] == "company.name"
    found = people(db)
    ada, grace = found["ada@acme.com"], found["grace@acme.com"]
    assert (ada.first_name, ada.last_name, ada.phone, ada.consent) == ("Ada", "Lovelace", "+33612345678", True)
    assert grace.consent is False
    acme = companies(db)["acme.com"]
    assert ada.company_id == grace.company_id == acme.id and acme.name == "Acme"
    with db.read() as session:
        assert session.get(CompanyDomain, "acme.com") is not None

    again = run_import(db, "person.email,person.title\nada@acme.com,Countess\nalan@example.org,Mathematician\n")
    assert (again.created, again.updated, again.bad) == (1, 1, 0)
    assert people(db)["ada@acme.com"].title == "Countess"
    assert people(db)["ada@acme.com"].first_name == "Ada", "a column the file does not have changes nothing"


def test_a_country_given_by_its_english_name_is_kept_as_its_code_and_an_unknown_one_is_refused(db: Database) -> None:
    report = run_import(
        db,
        "Company domain,name,Country\nacme.com,Acme,France\ninitech.com,Initech,United States of America\n"
        "globex.example,Globex,United Kingdom\numbrella.example,Umbrella,Atlantis\n",
        kind="company",
    )
    found = companies(db)
    assert [found[domain].country for domain in ("acme.com", "initech.com", "globex.example")] == ["FR", "US", "GB"]
    assert (report.created, report.bad) == (3, 1)


def test_an_empty_cell_leaves_the_field_as_it_is(db: Database) -> None:
    run_import(db, "email,first_name\nada@acme.com,Ada\n")
    run_import(db, "email,first_name,title\nada@acme.com,,Countess\n")
    ada = people(db)["ada@acme.com"]
    assert (ada.first_name, ada.title) == ("Ada", "Countess")


def test_companies_are_matched_by_domain_in_lower_case_and_carry_an_active_owner(
    db: Database, personas: Personas
) -> None:
    report = run_import(
        db,
        "Company domain,name,Industry,Employees,Revenue,Country,Account owner\n"
        f'ACME.com,Acme,Software,"1,200",2500000.5,fr,{personas.bob.email.upper()}\n'
        "globex.example,Globex,,,,,\n",
        kind="company",
    )
    assert (report.created, report.updated, report.bad) == (2, 0, 0)
    acme = companies(db)["acme.com"]
    assert (acme.name, acme.industry, acme.employees, acme.revenue, acme.country, acme.owner) == (
        "Acme",
        "Software",
        1200,
        2500000.5,
        "FR",
        personas.bob.email,
    )
    update = run_import(db, "domain,employees\nacme.COM,1300\n", kind="company")
    assert (update.created, update.updated) == (0, 1)
    assert companies(db)["acme.com"].employees == 1300
    assert len(companies(db)) == 2


def test_a_persons_row_with_a_company_name_only_joins_the_company_of_that_name(db: Database) -> None:
    run_import(db, "domain,name\nacme.com,Acme\n", kind="company")
    run_import(db, "email,company.name,company.industry\nada@gmail.com,ACME,Software\n")
    acme = companies(db)["acme.com"]
    assert people(db)["ada@gmail.com"].company_id == acme.id
    assert acme.industry == "Software"


def test_a_person_without_company_columns_joins_the_company_of_their_email_domain(db: Database) -> None:
    run_import(db, "domain,name\nacme.com,Acme\n", kind="company")
    report = run_import(db, "email\nada@acme.com\nbob@gmail.com\n")
    assert report.created == 2
    assert people(db)["ada@acme.com"].company_id == companies(db)["acme.com"].id
    assert people(db)["bob@gmail.com"].company_id is None, "free-mail domains say nothing about a company"


def test_custom_fields_are_imported_by_name_or_label_and_checked_by_their_type(db: Database) -> None:
    with db.write() as session:
        session.add_all(
            [
                FieldDefinition(name="person.segment", label="Segment", type="choice", choices=["SMB", "Enterprise"]),
                FieldDefinition(name="person.renewal", label="Renewal date", type="date", choices=[]),
                FieldDefinition(name="person.vip", label="VIP", type="boolean", choices=[], visitor_fillable=False),
                FieldDefinition(name="company.tier", label="Tier", type="number", choices=[]),
            ]
        )
    report = run_import(
        db,
        "email,segment,Renewal date,vip,company.domain,tier\n"
        "ada@acme.com,enterprise,2026-09-01,TRUE,acme.com,2\n"
        "bob@acme.com,Huge,01/09/2026,maybe,acme.com,two\n",
    )
    assert report.created == 1
    assert problems_of(report) == [(3, "segment"), (3, "Renewal date"), (3, "vip"), (3, "tier")]
    messages = [problem.message for problem in report.problems]
    assert messages == [
        "'Huge' is not one of the choices: SMB, Enterprise.",
        "'01/09/2026' is not a date written as YYYY-MM-DD.",
        "'maybe' is not yes or no (yes/no, true/false, 1/0).",
        "'two' is not a number, like 250 or 1,200.5.",
    ]
    ada = people(db)["ada@acme.com"]
    assert ada.fields == {"person.segment": "Enterprise", "person.renewal": "2026-09-01", "person.vip": True}
    assert companies(db)["acme.com"].fields == {"company.tier": 2}


# --- bad rows ------------------------------------------------------------------------------------------------------


BAD_PEOPLE = (
    "email,first_name,phone,consent,company.domain,company.employees,company.owner\n"  # line 1
    "good@acme.com,Good,,,,,\n"  # 2
    "not-an-email,Bad,,,,,\n"  # 3
    ",No email,,,,,\n"  # 4
    "phone@acme.com,,12345,,,,\n"  # 5
    "consent@acme.com,,,perhaps,,,\n"  # 6
    '"quoted@acme.com","A name\nwritten on two lines",,,,,\n'  # 7-8
    "domain@acme.com,,,,not a domain,,\n"  # 9
    "employees@acme.com,,,,acme.com,12.5,\n"  # 10
    "owner@acme.com,,,,acme.com,,nobody@example.com\n"  # 11
    "deactivated@acme.com,,,,acme.com,,carol@example.com\n"  # 12
    "cells@acme.com,,,,,,,extra\n"  # 13
    f"long@acme.com,{'x' * 101},,,,,\n"  # 14
    "industry@acme.com,,,,,,\n"  # 15 (good)
)


def test_every_bad_row_is_reported_with_its_line_and_reason(db: Database, personas: Personas) -> None:
    report = run_import(db, BAD_PEOPLE, dry_run=True)
    reported = {(problem.line, problem.column): problem.message for problem in report.problems}
    assert reported == {
        (3, "email"): "'not-an-email' is not a valid email address.",
        (4, "email"): "person.email is required and empty.",
        (5, "phone"): "'12345' is not a phone number: write it with its country code, like +1 415 555 0100 "
        "(or pass --region for numbers without one).",
        (6, "consent"): "'perhaps' is not yes or no (yes/no, true/false, 1/0).",
        (9, "company.domain"): "'not a domain' is not a domain name like acme.com.",
        (10, "company.employees"): "'12.5' is not a whole number.",
        (11, "company.owner"): "No user has the email nobody@example.com.",
        (12, "company.owner"): "The user carol@example.com is deactivated.",
        (13, None): "The row has 8 cells but the header names 7 columns.",
        (14, "first_name"): "This text has 101 characters; the field holds at most 100.",
    }
    assert report.bad_lines == [3, 4, 5, 6, 9, 10, 11, 12, 13, 14]
    assert (report.created, report.bad) == (3, 10), "the good rows (lines 2, 7 and 15) would be created"
    assert str(report.problems[0]) == "line 3, column 'email': 'not-an-email' is not a valid email address."


def test_a_company_field_without_a_domain_or_name_to_find_the_company_is_a_bad_row(db: Database) -> None:
    report = run_import(db, "email,Industry\nada@acme.com,Software\n")
    assert [str(problem) for problem in report.problems] == [
        "line 2: Company fields need company.domain or company.name to know which company they belong to."
    ]
    assert people(db) == {}


def test_a_dry_run_reports_bad_rows_and_writes_nothing(db: Database, personas: Personas) -> None:
    report = run_import(db, BAD_PEOPLE, dry_run=True)
    assert report.bad == 10 and report.written is False
    assert people(db) == {} and companies(db) == {}


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(db: Database) -> None:
    report = run_import(db, "email,first_name\nada@acme.com,Ada\nnot-an-email,Bob\n", all_or_nothing=True)
    assert (report.created, report.bad, report.written) == (1, 1, False)
    assert people(db) == {}

    clean = run_import(db, "email,first_name\nada@acme.com,Ada\n", all_or_nothing=True)
    assert clean.written and set(people(db)) == {"ada@acme.com"}


def test_by_default_the_good_rows_are_imported_and_the_bad_ones_reported(db: Database, personas: Personas) -> None:
    report = run_import(db, BAD_PEOPLE)
    assert report.written and report.bad == 10
    assert set(people(db)) == {"good@acme.com", "quoted@acme.com", "industry@acme.com"}
    assert people(db)["quoted@acme.com"].first_name == "A name\nwritten on two lines"


def test_a_bom_semicolons_and_quoted_new_lines_are_read(db: Database) -> None:
    content = '\ufeffEmail;First name;Job title\n"ada@acme.com";"Ada";"Head of\nEngines; and more"\nbad;Bob;\n'
    report = run_import(db, content.encode("utf-8"))
    assert report.columns == {"Email": "person.email", "First name": "person.first_name", "Job title": "person.title"}
    assert problems_of(report) == [(4, "Email")]
    assert people(db)["ada@acme.com"].title == "Head of\nEngines; and more"


def test_phone_numbers_without_a_country_code_take_the_region_given(db: Database) -> None:
    report = run_import(db, "email,phone\nada@acme.com,06 12 34 56 78\n", region="FR")
    assert report.bad == 0
    assert people(db)["ada@acme.com"].phone == "+33612345678"


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(db: Database) -> None:
    with pytest.raises(InvalidInput) as caught:
        run_import(db, "email,first_name\nada@acme.com,Zoë\n".encode("latin-1"))
    assert caught.value.message == "The file is not UTF-8 text: save it as CSV UTF-8 and import it again."
    assert caught.value.problems[0].path == "line 2"


# --- columns -------------------------------------------------------------------------------------------------------


def test_an_unknown_column_refuses_the_file_unless_ignored(db: Database) -> None:
    text = "email,Notes\nada@acme.com,met at the fair\n"
    assert refused(db, text) == {
        "Notes": "No field is called 'Notes': map it with --map \"Notes=FIELD\" or pass --ignore-unknown."
    }
    assert people(db) == {}
    report = run_import(db, text, ignore_unknown=True)
    assert list(report.ignored) == ["Notes"] and report.created == 1


def test_a_mapping_names_the_field_of_any_column_and_can_ignore_one(db: Database) -> None:
    report = run_import(
        db,
        "E-mail address,Given name,Notes\nada@acme.com,Ada,x\n",
        mapping={"e-mail address": "person.email", "Given name": "person.first_name", "Notes": ""},
    )
    assert report.columns == {"E-mail address": "person.email", "Given name": "person.first_name"}
    assert report.ignored == {"Notes": "ignored by --map"}
    assert people(db)["ada@acme.com"].first_name == "Ada"


def test_read_only_fields_wrong_mappings_and_missing_keys_refuse_the_file(db: Database) -> None:
    assert refused(db, "email,visit.count\na@b.co,3\n") == {
        "visit.count": "visit.count is read-only: visit and activity fields are recorded by Overture, not imported."
    }
    assert refused(db, "email,x\na@b.co,3\n", mapping={"x": "activity.goal", "y": "person.title"}) == {
        "--map x": "There is no field 'activity.goal'.",
        "--map y": "The file has no column 'y'.",
    }
    assert refused(db, "domain,email\nacme.com,a@b.co\n", kind="company") == {
        "email": "person.email is a person field: import it with --kind person."
    }
    assert refused(db, "first_name\nAda\n") == {
        "person.email": "A person import needs a column for person.email, which finds the rows."
    }
    assert refused(db, "email,Email\na@b.co,a@b.co\n") == {"Email": "This column name is given twice."}
    assert refused(db, "email,Mail\na@b.co,a@b.co\n", mapping={"Mail": "person.email"}) == {
        "Mail": "Both 'email' and it go into person.email."
    }
