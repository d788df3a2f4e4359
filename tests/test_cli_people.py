"""`overture people ...` end to end: import a CSV file, export one person's data as JSON, delete one person."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from overture.cli import main
from overture.db import Database
from overture.people.models import Company, PageView, Person, PrivacyAction, VisitorIdentity

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


@pytest.fixture
def env(database_url: str, tmp_path: Path, db: Database) -> dict[str, str]:
    return {"OVERTURE_DATABASE_URL": database_url, "OVERTURE_DATA_DIR": str(tmp_path / "data")}


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def emails(db: Database) -> set[str | None]:
    with db.read() as session:
        return set(session.scalars(select(Person.email)))


def ada_with_a_visit(db: Database) -> int:
    with db.write() as session:
        person = Person(email="ada@acme.com", first_name="Ada", fields={}, source={}, visit={}, created_at=NOW)
        session.add(person)
        session.flush()
        session.add(VisitorIdentity(visitor_id="v_ada_browser_000", person_id=person.id, created_at=NOW))
        session.add(PageView(person_id=person.id, url="https://example.com/pricing", session_number=1, occurred_at=NOW))
        return person.id


# --- import --------------------------------------------------------------------------------------------------------


def test_import_creates_people_and_prints_the_summary(env: dict[str, str], db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "Email,First name,company.domain\nada@acme.com,Ada,acme.com\ngrace@acme.com,Grace,\n")
    result = run(env, "people", "import", str(path), "--kind", "person")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "created 2, updated 0, bad 0"
    assert emails(db) == {"ada@acme.com", "grace@acme.com"}


def test_import_lists_bad_rows_by_line_and_exits_1(env: dict[str, str], db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, "email;E-mail address;Notes\nada@acme.com;x;\nnope;y;\n", "semicolons.csv")
    result = run(env, "people", "import", str(path), "--kind", "person", "--map", "E-mail address=", "--map", "Notes=")
    assert result.exit_code == 1
    assert "✗ line 3, column 'email': 'nope' is not a valid email address." in result.output
    assert result.output.strip().splitlines()[-1] == "created 1, updated 0, bad 1"
    assert emails(db) == {"ada@acme.com"}, "the good row is imported"


def test_a_dry_run_and_an_all_or_nothing_import_write_nothing(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "email\nada@acme.com\nnope\n")
    dry = run(env, "people", "import", str(path), "--kind", "person", "--dry-run")
    assert dry.exit_code == 1
    assert "created 1, updated 0, bad 1 (dry run: nothing was written)" in dry.output
    strict = run(env, "people", "import", str(path), "--kind", "person", "--all-or-nothing")
    assert strict.exit_code == 1
    assert "--all-or-nothing: nothing was written" in strict.output
    assert emails(db) == set()


def test_import_refuses_a_file_with_an_unknown_column_unless_told_to_ignore_it(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "domain,Founded\nacme.com,1990\n")
    refused = run(env, "people", "import", str(path), "--kind", "company")
    assert refused.exit_code == 1
    assert "Error: Some columns cannot be imported; nothing was imported." in refused.output
    assert "Founded: No field is called 'Founded'" in refused.output
    ignored = run(env, "people", "import", str(path), "--kind", "company", "--ignore-unknown")
    assert ignored.exit_code == 0, ignored.output
    assert "Ignored column 'Founded'" in ignored.output
    with db.read() as session:
        assert list(session.scalars(select(Company.domain))) == ["acme.com"]


def test_a_mapping_without_a_field_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, "email\nada@acme.com\n")
    result = run(env, "people", "import", str(path), "--kind", "person", "--map", "email")
    assert result.exit_code == 1
    assert '--map "email" should be COLUMN=FIELD' in result.output


# --- export and delete ---------------------------------------------------------------------------------------------


def test_export_prints_the_persons_data_as_json_or_writes_it_to_a_file(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    person_id = ada_with_a_visit(db)
    printed = run(env, "people", "export", "--email", "ADA@acme.com")
    assert printed.exit_code == 0, printed.output
    data = json.loads(printed.stdout)
    assert "privacy export" in printed.stderr, "the export is logged, on stderr"
    assert data["person"]["fields"]["person.first_name"] == "Ada"
    assert data["visitor_ids"] == ["v_ada_browser_000"]
    assert [view["url"] for view in data["page_views"]] == ["https://example.com/pricing"]

    target = tmp_path / "ada.json"
    written = run(env, "people", "export", "--id", str(person_id), "--output", str(target))
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_text())["person"]["id"] == person_id
    with db.read() as session:
        actions = [(a.action, a.actor) for a in session.scalars(select(PrivacyAction))]
    assert actions == [("export", "cli"), ("export", "cli")]


def test_delete_asks_first_then_deletes_and_says_what(env: dict[str, str], db: Database) -> None:
    ada_with_a_visit(db)
    kept = run(env, "people", "delete", "--email", "ada@acme.com", input="n\n")
    assert kept.exit_code == 1
    assert "nothing was deleted" in kept.output
    assert emails(db) == {"ada@acme.com"}

    deleted = run(env, "people", "delete", "--email", "ada@acme.com", input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert "deleted    page_views: 1" in deleted.output
    assert "deleted    visitor_identities: 1" in deleted.output
    assert emails(db) == set()
    with db.read() as session:
        assert [a.action for a in session.scalars(select(PrivacyAction))] == ["delete"]


def test_delete_with_yes_does_not_ask(env: dict[str, str], db: Database) -> None:
    person_id = ada_with_a_visit(db)
    result = run(env, "people", "delete", "--id", str(person_id), "--yes")
    assert result.exit_code == 0, result.output
    assert f"Deleted person {person_id}." in result.output
    assert emails(db) == set()


def test_export_and_delete_name_exactly_one_known_person(env: dict[str, str], db: Database) -> None:
    both = run(env, "people", "export", "--email", "ada@acme.com", "--id", "1")
    assert both.exit_code == 1 and "--email EMAIL or --id ID" in both.output
    unknown = run(env, "people", "delete", "--email", "nobody@acme.com", "--yes")
    assert unknown.exit_code == 1
    assert "There is no person with the email nobody@acme.com." in unknown.output
