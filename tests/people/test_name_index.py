"""The search's name index (person_name_words, company_name_words) stays what the names say through every writer
(a field written, an import, a merge, a privacy deletion, a company renamed or given back its domain), and the
search reads it: a person is found by their new name and no longer by the old one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from overture.db import Database, downgrade, migrate
from overture.people import directory, identity, privacy
from overture.people.companies import link_company, restore
from overture.people.company_before import CompanyBefore
from overture.people.importing import ImportOptions, import_csv
from overture.people.models import Company, CompanyNameWord, Person, PersonNameWord
from overture.people.service import company_of, set_field
from people.test_directory import add_company, add_person

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def search(db: Database, q: str) -> list[int]:
    with db.read() as session:
        return [item.id for item in directory.search_people(session, q).items]


def words_of(db: Database, person_id: int) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(PersonNameWord.word).where(PersonNameWord.person_id == person_id)))


def test_a_name_written_as_a_field_is_found_by_its_words_and_the_old_one_no_longer(db: Database) -> None:
    with db.write() as session:
        person_id = add_person(session, "ada@example.org", first_name="Ada").id
    with db.write() as session:
        person = session.get_one(Person, person_id)
        set_field(session, person, "person.first_name", "Augusta Ada", NOW)
        set_field(session, person, "person.last_name", "King-Lovelace", NOW)
    assert search(db, "augusta") == search(db, "ADA") == search(db, "king-love") == [person_id]
    assert search(db, "lovelace") == []  # a word starts at a space, as before the index
    with db.write() as session:
        set_field(session, session.get_one(Person, person_id), "person.first_name", None, NOW)
    assert search(db, "augusta") == []
    assert words_of(db, person_id) == ["king-lovelace"]


def test_any_case_is_found_and_accents_are_kept(db: Database) -> None:
    with db.write() as session:
        person_id = add_person(session, None, first_name="Élodie", last_name="Ünal").id
    assert search(db, "ÉLO") == search(db, "élodie") == search(db, "üNAL") == [person_id]
    assert search(db, "elodie") == search(db, "unal") == []


def test_an_import_writes_the_names_it_brings(db: Database) -> None:
    def run(csv: str) -> None:
        with db.write() as session:
            import_csv(session, csv, ImportOptions(kind="person"), NOW)

    run(
        "email,first_name,last_name,company.domain,company.name\ngrace@navy.example,Grace,Hopper,navy.example,US Navy\n"
    )
    with db.read() as session:
        grace = session.scalars(select(Person.id).where(Person.email == "grace@navy.example")).one()
    assert search(db, "hopper") == search(db, "navy") == search(db, "us") == [grace]
    run("email,last_name,company.domain,company.name\ngrace@navy.example,Murray,navy.example,Harvard Mark\n")
    assert search(db, "hopper") == search(db, "us") == []  # the domain stays: "navy" still finds her
    assert search(db, "murray") == search(db, "harvard") == search(db, "navy.ex") == [grace]


def test_a_merged_visitors_name_finds_the_survivor_and_nothing_is_left_of_the_merged_one(db: Database) -> None:
    with db.write() as session:
        known = add_person(session, "grace@example.org", last_name="Hopper")
        visitor = add_person(session, None, first_name="Grace", last_name="Brewster")
        known_id, visitor_id = known.id, visitor.id
        identity.capture(session, visitor, "grace@example.org", NOW, proven=True)
    # The survivor keeps its own last name and takes the first name it lacked.
    assert search(db, "grace") == search(db, "hopper") == [known_id]
    assert search(db, "brewster") == []
    assert words_of(db, visitor_id) == []


def test_a_deleted_person_leaves_nothing_in_the_index(db: Database) -> None:
    with db.write() as session:
        person_id = add_person(session, "ada@example.org", first_name="Ada", last_name="Lovelace").id
    with db.write() as session:
        privacy.delete_person(session, person_id, "cli", NOW)
    assert words_of(db, person_id) == []
    assert search(db, "lovelace") == []


def test_a_company_renamed_or_given_back_its_domain_is_found_by_what_it_is_now(db: Database) -> None:
    with db.write() as session:
        person = add_person(session, None, first_name="Ada")
        set_field(session, person, "company.name", "Analytical Engines", NOW)
        person_id = person.id
    assert search(db, "analytical") == [person_id]
    with db.write() as session:
        person = session.get_one(Person, person_id)
        set_field(session, person, "company.name", "Difference Engines", NOW)
        identity.capture(session, person, "ada@babbage.example", NOW, proven=False)
        before = link_company(session, person, NOW)
        assert before is None  # the email's capture gave the company its domain already
    assert search(db, "analytical") == []
    assert search(db, "difference") == search(db, "babbage.ex") == search(db, "BABBAGE") == [person_id]
    with db.write() as session:
        # Going back over the email's answer takes the domain (and the name it gave, none here) back.
        person = session.get_one(Person, person_id)
        company = company_of(session, person)
        assert company is not None

        restore(session, person, CompanyBefore(id=company.id, values={"company.name": "Old Engines"}), NOW)
    assert search(db, "babbage") == search(db, "difference") == []
    assert search(db, "old engines") == [person_id]


def test_a_deleted_company_leaves_nothing_in_the_index(db: Database) -> None:
    with db.write() as session:
        company_id = add_company(session, "Acme Corp", "acme.example").id
    with db.write() as session:
        session.delete(session.get_one(Company, company_id))
    with db.read() as session:
        assert session.scalars(select(CompanyNameWord)).all() == []


@pytest.fixture
def crowd(db: Database) -> dict[str, int]:
    with db.write() as session:
        acme = add_company(session, "Acme Corp", "acme.com")
        made = {
            "jane": add_person(session, "jane.doe@acme.com", first_name="Jane", last_name="Doe", company=acme),
            "john": add_person(session, "john@acme.com", first_name="John", last_name="Jones", company=acme),
            "mary": add_person(session, "mary@example.org", first_name="Mary Jane", last_name="Acheson"),
            "claim": add_person(session, None, claimed_email="jane.doe@acme.com"),
        }
        return {key: person.id for key, person in made.items()}


SEARCHES = ["jane", "j", "acme", "ac", "acme jane", "jane ac", "jo acme.com", "jane.doe@", "doe", "zz", "a j"]


def test_a_search_that_matches_many_people_lists_what_one_that_matches_few_does(
    db: Database, crowd: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    few = {q: search(db, q) for q in SEARCHES}
    # Seen at once: the newest id first. Her name, a word of a name, an email claimed in chat.
    assert few["jane"] == [crowd["claim"], crowd["mary"], crowd["jane"]]
    assert few["acme jane"] == [crowd["jane"]]
    monkeypatch.setattr(directory, "FEW_PEOPLE", 0)  # every term matches "many": each row is checked instead
    assert {q: search(db, q) for q in SEARCHES} == few


def test_the_migration_indexes_the_names_of_before(db: Database) -> None:
    downgrade(db.engine, "0016")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO companies (id, name, fields, created_at, updated_at) "
                                "VALUES (7, 'Acme  Corp', '{}', '2026-01-01', '2026-01-01')"))  # fmt: skip
        connection.execute(
            text(
                "INSERT INTO people (id, first_name, last_name, company_id, fields, created_at, last_seen_at, "
                "session_number, visit_count, source, visit) VALUES "
                "(1, 'Mary Ann', 'Jones', NULL, '{}', '2026-01-01', '2026-01-01', 1, 0, '{}', '{}'), "
                "(2, NULL, NULL, 7, '{}', '2026-01-01', '2026-01-02', 1, 0, '{}', '{}')"
            )
        )
    migrate(db.engine)
    assert search(db, "ANN") == search(db, "jones") == [1]
    assert search(db, "corp") == [2]
