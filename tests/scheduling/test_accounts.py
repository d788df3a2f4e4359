"""The account owners table: one account at a time, the owner found for a visitor's domains, and CSV uploads with
their bad rows reported by physical line, against the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.scheduling import accounts, rotation
from overture.scheduling.models import AccountOwner, Agent
from overture.users import service as users

from support import PASSWORD


def _agent(db: Database, name: str, active: bool = True) -> int:
    with db.write() as session:
        user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
        agent_id = rotation.create_agent(session, user).id
        if not active:
            users.set_active(session, user, False)
        return agent_id


def _table(db: Database) -> list[tuple[str, str, str]]:
    """(company, domain, owner email) of every account, by domain."""
    with db.read() as session:
        rows = session.scalars(select(AccountOwner).order_by(AccountOwner.domain))
        return [(row.company_name, row.domain, session.get_one(Agent, row.agent_id).email) for row in rows]


# --- one account ----------------------------------------------------------------------------------------------


def test_an_account_is_added_with_its_domain_normalised_changed_and_removed(db: Database) -> None:
    _agent(db, "Ann")
    _agent(db, "Ben")
    with db.write() as session:
        added = accounts.add(session, "Acme Corp", "https://www.ACME.com/about", "ANN@example.com")
        assert added.domain == "acme.com"
    with db.write() as session:
        accounts.add(session, "", "globex.io", "ben@example.com")
    assert _table(db) == [("Acme Corp", "acme.com", "ann@example.com"), ("Globex", "globex.io", "ben@example.com")]

    with db.write() as session:
        account = accounts.by_domain(session, "acme.com")
        assert account is not None
        accounts.update(session, account, company_name="Acme Inc", owner_email="ben@example.com")
    assert _table(db)[0] == ("Acme Inc", "acme.com", "ben@example.com")

    with db.write() as session:
        account = accounts.by_domain(session, "globex.io")
        assert account is not None
        accounts.remove(session, account)
    assert [row[1] for row in _table(db)] == ["acme.com"]


def test_a_bad_account_names_every_problem_and_a_listed_domain_is_a_conflict(db: Database) -> None:
    _agent(db, "Ann")
    _agent(db, "Gone", active=False)
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        accounts.add(session, "Acme", "not a domain", "nobody@example.com")
    assert [p.path for p in refused.value.problems] == ["domain", "owner"]
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        accounts.add(session, "Acme", "acme.com", "gone@example.com")
    assert [p.message for p in refused.value.problems] == ["The agent gone@example.com is deactivated."]
    with db.write() as session:
        accounts.add(session, "Acme", "acme.com", "ann@example.com")
        accounts.add(session, "Initech", "initech.com", "ann@example.com")
    with db.write() as session, pytest.raises(Conflict, match="acme.com is already listed, as Acme"):
        accounts.add(session, "Acme again", "www.acme.com", "ann@example.com")
    with db.write() as session, pytest.raises(Conflict):
        initech = accounts.by_domain(session, "initech.com")
        assert initech is not None
        accounts.update(session, initech, domain="acme.com")
    assert [row[1] for row in _table(db)] == ["acme.com", "initech.com"]


def test_the_owner_is_found_by_company_domain_then_email_domain_and_by_parent_domain(db: Database) -> None:
    _agent(db, "Ann")
    _agent(db, "Ben")
    with db.write() as session:
        accounts.add(session, "Acme", "acme.com", "ann@example.com")
        accounts.add(session, "Acme Europe", "eu.acme.com", "ben@example.com")
        accounts.add(session, "Globex", "globex.io", "ben@example.com")
    with db.read() as session:

        def owner(*domains: str) -> str | None:
            found = accounts.owner_for(session, domains)
            return found.company_name if found else None

        assert owner("globex.io", "acme.com") == "Globex", "the first domain given wins"
        assert owner("", "WWW.Acme.com") == "Acme", "blank domains are passed over; case and www. do not matter"
        assert owner("sales.eu.acme.com") == "Acme Europe", "the closest parent domain wins"
        assert owner("us.acme.com") == "Acme"
        assert owner("notacme.com", "gmail.com", "not a domain") is None
        assert owner() is None


# --- CSV ------------------------------------------------------------------------------------------------------


def _upload(db: Database, text: str | bytes, all_or_nothing: bool = False) -> accounts.AccountImport:
    with db.write() as session:
        return accounts.import_csv(session, text, all_or_nothing=all_or_nothing)


def test_bad_rows_are_reported_by_physical_line_with_the_reason_and_good_rows_kept(db: Database) -> None:
    _agent(db, "Ann")
    _agent(db, "Ben")
    text = (
        "Company name,Domain,Owner email\n"  # line 1
        "Acme,acme.com,ann@example.com\n"  # 2
        "Bad,not a domain,ann@example.com\n"  # 3
        '"Globex\nHoldings",globex.io,ben@example.com\n'  # 4-5: a quoted new line
        "Initech,initech.com,nobody@example.com\n"  # 6
        "\n"  # 7: blank, skipped
        "Acme again,WWW.ACME.COM,ben@example.com\n"  # 8
        "Umbrella,umbrella.com,\n"  # 9
    )
    report = _upload(db, text)
    assert [(p.line, p.column, p.message) for p in report.problems] == [
        (3, "Domain", "Bad domain: 'not a domain' is not a domain name like acme.com."),
        (6, "Owner email", "Unknown agent: no agent has the email nobody@example.com."),
        (8, "Domain", "Duplicate: acme.com is already given on line 2."),
        (9, "Owner email", "The owner email is empty."),
    ]
    assert (report.rows, report.added, report.updated, report.bad_lines, report.written) == (
        6,
        2,
        0,
        [3, 6, 8, 9],
        True,
    )
    assert report.summary() == "Added 2, updated 0, bad 4 of 6 rows."
    assert _table(db) == [
        ("Acme", "acme.com", "ann@example.com"),
        ("Globex Holdings", "globex.io", "ben@example.com"),
    ]


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(db: Database) -> None:
    _agent(db, "Ann")
    report = _upload(db, "domain,owner\nacme.com,ann@example.com\nglobex.io,nobody@example.com\n", all_or_nothing=True)
    assert (report.written, report.added, report.bad_lines) == (False, 0, [3])
    assert report.summary() == "Nothing was imported: 1 bad rows of 2."
    assert _table(db) == []
    report = _upload(db, "domain,owner\nacme.com,ann@example.com\n", all_or_nothing=True)
    assert (report.written, report.added) == (True, 1)


def test_a_semicolon_file_with_a_bom_and_other_headers_is_read_and_a_listed_domain_updated(db: Database) -> None:
    _agent(db, "Ann")
    _agent(db, "Ben")
    with db.write() as session:
        accounts.add(session, "Acme", "acme.com", "ann@example.com")
    text = "\ufeffAccount Name;Website;Agent_Email;Region\nAcme Inc;https://www.acme.com/;BEN@example.com;EMEA\n"
    report = _upload(db, text.encode("utf-8"))
    assert report.problems == []
    assert report.columns == {"Account Name": "company name", "Website": "domain", "Agent_Email": "owner email"}
    assert report.ignored == ["Region"]
    assert (report.added, report.updated) == (0, 1)
    assert _table(db) == [("Acme Inc", "acme.com", "ben@example.com")]


def test_a_file_without_a_domain_or_owner_column_is_refused_before_any_row(db: Database) -> None:
    with pytest.raises(InvalidInput) as refused:
        _upload(db, "Company,Country\nAcme,US\n")
    assert refused.value.message == "The columns of the file cannot be read; nothing was imported."
    assert [p.path for p in refused.value.problems] == ["domain", "owner email"]
    with pytest.raises(InvalidInput, match="not UTF-8"):
        _upload(db, "domain,owner\nacmé.com,ann@example.com\n".encode("latin-1"))


def test_a_row_with_too_many_cells_or_a_deactivated_owner_is_bad(db: Database) -> None:
    _agent(db, "Gone", active=False)
    report = _upload(db, "domain,owner\nacme.com,gone@example.com\nglobex.io,gone@example.com,extra\n")
    assert [(p.line, p.message) for p in report.problems] == [
        (2, "The agent gone@example.com is deactivated."),
        (3, "The row has 3 cells but the header names 2 columns."),
    ]
    assert _table(db) == []
