"""Identity resolution against the real database: a new email fills the anonymous person, a known email typed in
chat is only claimed, a proven one (signed identify) merges the anonymous person into its owner (with everything
that points at them), two known people never merge, the company comes from the email's domain, and two captures of
one email at once leave one owner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people import identity
from overture.people import service as people
from overture.people.models import Company, CompanyDomain, PageView, Person, PersonMerge, VisitorIdentity

from support import ENGINE, example, publish

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=30)


def new_person(db: Database, *, at: datetime = NOW, **values: Any) -> tuple[int, str]:
    """A person seen through a new browser (anonymous unless an email is given); returns (person id, visitor id)."""
    with db.write() as session:
        person, visitor_id = people.visitor(session, None, at)
        for column, value in values.items():
            setattr(person, column, value)
        session.flush()
        return person.id, visitor_id


def capture(db: Database, person_id: int, email: str, *, now: datetime = NOW, proven: bool = False) -> int:
    """Captures `email` for the person in its own transaction (typed in chat, or `proven` by a signed identify);
    returns the id of the person the visitor now is."""
    with db.write() as session:
        person = session.get(Person, person_id)
        assert person is not None
        return identity.capture_email(session, person, email, now, where="in a test", proven=proven).id


def everyone(db: Database) -> list[Person]:
    with db.read() as session:
        return list(session.scalars(select(Person).order_by(Person.id)))


def merges(db: Database) -> list[PersonMerge]:
    with db.read() as session:
        return list(session.scalars(select(PersonMerge)))


def company_of(db: Database, person_id: int) -> Company | None:
    with db.read() as session:
        person = session.get(Person, person_id)
        assert person is not None
        return people.company_of(session, person)


# --- a new email ---------------------------------------------------------------------------------------------------


def test_a_new_email_fills_the_anonymous_person_stripped_and_lower_cased(db: Database) -> None:
    person_id, visitor_id = new_person(db)

    assert capture(db, person_id, "  Ada.Lovelace@Acme.COM ") == person_id

    [person] = everyone(db)
    assert person.email == "ada.lovelace@acme.com"
    assert merges(db) == []
    with db.read() as session:
        found = people.by_visitor_id(session, visitor_id)
        assert found is not None and found.id == person_id


def test_giving_the_same_email_again_in_another_case_changes_nothing(db: Database) -> None:
    person_id, _ = new_person(db, email="ada@acme.com")

    assert capture(db, person_id, "ADA@acme.com") == person_id

    assert [p.email for p in everyone(db)] == ["ada@acme.com"]
    assert merges(db) == []


# --- merging into a known person -----------------------------------------------------------------------------------


def run_newsletter(db: Database, visitor_id: str, email: str) -> conversations.View:
    """The visitor signs up to the newsletter with `email`; returns the last view, checked in its own session."""
    with db.write() as session:
        view = conversations.start(
            session,
            dialogue_key="newsletter",
            visitor_id=visitor_id,
            page_url="https://example.com/blog/a",
            region=None,
            now=NOW,
        )
        public_id, token = view.conversation.public_id, view.token
        assert token is not None
        conversations.reply(session, public_id, token, 0, engine.Reply(choice="0"), NOW)
    with db.write() as session:
        view = conversations.reply(session, public_id, token, 1, engine.Reply(text=email), NOW)
        # The objects the conversation holds follow the merge in the same session: nothing stale.
        assert view.conversation.person_id == view.person.id
        assert session.get(Person, view.person.id) is view.person
        return view


def test_an_anonymous_visitor_who_types_a_known_email_in_chat_only_claims_it(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    known_id, known_visitor = new_person(db, at=EARLIER, email="ada@acme.com", first_name="Ada")
    anonymous_id, phone_visitor = new_person(db)

    view = run_newsletter(db, phone_visitor, "Ada@Acme.com")

    assert view.person.id == anonymous_id, "the conversation goes on with the visitor's own person"
    with db.read() as session:
        visitor, known = session.get(Person, anonymous_id), session.get(Person, known_id)
        assert visitor is not None and known is not None
        assert (visitor.email, visitor.claimed_email, visitor.consent) == (None, "ada@acme.com", True)
        assert (known.email, known.first_name, known.consent) == ("ada@acme.com", "Ada", None), "nothing written"
        found = people.by_visitor_id(session, phone_visitor)
        assert found is not None and found.id == anonymous_id, "the phone's browser still finds its own person"
        assert set(session.scalars(select(Conversation.person_id))) == {anonymous_id}
        assert set(session.scalars(select(Activity.person_id))) == {anonymous_id}
    assert merges(db) == []


def test_a_proven_email_merges_the_anonymous_visitor_into_that_person_with_everything(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    known_id, known_visitor = new_person(db, at=EARLIER, email="ada@acme.com", first_name="Ada")
    anonymous_id, phone_visitor = new_person(db)
    with db.write() as session:
        session.add(
            PageView(person_id=anonymous_id, url="https://example.com/blog/a", session_number=1, occurred_at=NOW)
        )
    run_newsletter(db, phone_visitor, "Ada@Acme.com")

    assert capture(db, anonymous_id, "ada@acme.com", proven=True) == known_id

    assert [p.id for p in everyone(db)] == [known_id], "no duplicate is left"
    with db.read() as session:
        assert sorted(
            session.scalars(select(VisitorIdentity.visitor_id).where(VisitorIdentity.person_id == known_id))
        ) == sorted([known_visitor, phone_visitor])
        found = people.by_visitor_id(session, phone_visitor)
        assert found is not None and found.id == known_id, "the phone's browser now finds the known person"
        assert set(session.scalars(select(Conversation.person_id))) == {known_id}
        assert set(session.scalars(select(Activity.person_id))) == {known_id}
        types = list(session.scalars(select(Activity.type).order_by(Activity.id)))
        assert {"dialogue.triggered", "dialogue.engaged", "field.captured", "dialogue.completed"} <= set(types)
        assert set(session.scalars(select(PageView.person_id))) == {known_id}
        survivor = session.get(Person, known_id)
        assert survivor is not None and survivor.consent is True, "the survivor takes what it lacked"
        assert survivor.claimed_email is None
    [merge] = merges(db)
    assert (merge.survivor_id, merge.merged_person_id, merge.visitor_ids) == (known_id, anonymous_id, [phone_visitor])
    assert merge.reason == "email ada@acme.com captured in a test"
    assert merge.merged_at == NOW


def test_the_survivors_known_values_win_and_it_takes_those_it_lacks(db: Database) -> None:
    known_id, _ = new_person(
        db,
        email="ada@acme.com",
        first_name="Adeline",
        visit_count=3,
        fields={"person.segment": "enterprise"},
        source={"utm_source": "newsletter"},
    )
    # The anonymous browser was first seen earlier than the known person: its first touch is the older one.
    anonymous_id, _ = new_person(
        db,
        at=EARLIER,
        first_name="Ada",
        phone="+33123456789",
        visit_count=2,
        fields={"person.segment": "smb", "person.plan": "trial"},
        source={"utm_source": "ads", "referrer": "https://search.example"},
    )

    assert capture(db, anonymous_id, "ada@acme.com", proven=True) == known_id

    [survivor] = everyone(db)
    assert (survivor.first_name, survivor.phone) == ("Adeline", "+33123456789")
    assert survivor.fields == {"person.segment": "enterprise", "person.plan": "trial"}
    assert survivor.visit_count == 5
    assert survivor.source == {"utm_source": "ads", "referrer": "https://search.example"}
    assert survivor.created_at == EARLIER


def test_a_known_person_who_gives_another_persons_email_keeps_their_own_and_nobody_merges(db: Database) -> None:
    ada_id, _ = new_person(db, email="ada@acme.com")
    bob_id, _ = new_person(db, email="bob@acme.com")

    assert capture(db, bob_id, "ada@acme.com") == bob_id

    assert [(p.id, p.email) for p in everyone(db)] == [(ada_id, "ada@acme.com"), (bob_id, "bob@acme.com")]
    assert merges(db) == []


def test_a_known_person_who_gives_a_new_email_gets_it(db: Database) -> None:
    person_id, _ = new_person(db, email="ada@old-job.com")

    assert capture(db, person_id, "ada@new-job.com") == person_id

    assert [p.email for p in everyone(db)] == ["ada@new-job.com"]


def test_one_visitor_on_two_devices_stays_two_people_until_a_signed_identify_links_them(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    laptop_id, laptop = new_person(db, at=EARLIER, first_name="Ada", last_name="Lovelace")
    phone_id, phone = new_person(db, first_name="Ada", last_name="Lovelace")
    assert len(everyone(db)) == 2, "same name, same company: still two people without an email"

    run_newsletter(db, laptop, "ada@acme.com")
    view = run_newsletter(db, phone, "ada@acme.com")
    assert view.person.id == phone_id, "an email typed in chat proves nothing"
    assert [(p.id, p.email, p.claimed_email) for p in everyone(db)] == [
        (laptop_id, "ada@acme.com", None),
        (phone_id, None, "ada@acme.com"),
    ]

    assert capture(db, phone_id, "ada@acme.com", proven=True) == laptop_id
    assert [p.id for p in everyone(db)] == [laptop_id]
    assert [m.merged_person_id for m in merges(db)] == [phone_id]


# Asks the email first, then the name: the visitor can go back after giving the email.
SIGNUP: dict[str, Any] = {
    "key": "signup",
    "name": "Sign up",
    "flow": {
        "start": "ask_email",
        "cards": {
            "ask_email": {"ask": "What is your email?", "capture": "person.email", "goto": "ask_name"},
            "ask_name": {"ask": "And your first name?", "capture": "person.first_name", "goto": "done"},
            "done": {"say": "Thanks!", "end": True},
        },
    },
}


def signup_then_back(db: Database, visitor: str, email: str, corrected: str | None = None) -> conversations.View:
    """The visitor gives `email`, goes back, and gives `corrected` when there is one, in one transaction."""
    publish(db, SIGNUP)
    with db.write() as session:
        view = conversations.start(
            session, dialogue_key="signup", visitor_id=visitor, page_url="https://example.com/", region=None, now=NOW
        )
        public_id, token = view.conversation.public_id, view.token
        assert token is not None
        conversations.reply(session, public_id, token, 0, engine.Reply(text=email), NOW)
        view = conversations.back(session, public_id, token, 1, NOW)
        if corrected is not None:
            view = conversations.reply(session, public_id, token, 2, engine.Reply(text=corrected), NOW)
        return view


def test_going_back_over_a_claimed_email_takes_the_claim_back_and_leaves_its_owner_alone(db: Database) -> None:
    known_id, _ = new_person(db, email="ada@acme.com", first_name="Ada")
    visitor_id, visitor = new_person(db)

    view = signup_then_back(db, visitor, "ada@acme.com")

    assert view.turn.expected.field == "person.email", "the question is asked again"
    assert [(p.id, p.email, p.claimed_email, p.first_name) for p in everyone(db)] == [
        (known_id, "ada@acme.com", None, "Ada"),
        (visitor_id, None, None, None),
    ]


def test_going_back_after_a_new_email_takes_it_away_so_a_corrected_one_is_claimed(db: Database) -> None:
    known_id, _ = new_person(db, email="ada@acme.com")
    typo_id, visitor = new_person(db)

    view = signup_then_back(db, visitor, "ada@acme.con", corrected="ada@acme.com")

    assert view.person.id == typo_id
    assert [(p.id, p.email, p.claimed_email) for p in everyone(db)] == [
        (known_id, "ada@acme.com", None),
        (typo_id, None, "ada@acme.com"),
    ]
    assert merges(db) == []


def test_every_table_that_points_at_people_is_moved_by_a_merge(db: Database) -> None:
    # The database's own foreign keys (as the migrations made them) against those a merge walks: a table added
    # later with a person_id (meetings...) is moved without a change to the merge.
    in_database = {
        (table, tuple(key["constrained_columns"]))
        for table in inspect(db.engine).get_table_names()
        for key in inspect(db.engine).get_foreign_keys(table)
        if key["referred_table"] == "people"
    }
    walked = {(column.table.name, (column.name,)) for column in identity.people_references()}
    assert in_database == walked
    assert ("conversations", ("person_id",)) in walked and ("visitor_identities", ("person_id",)) in walked


# --- the company of an email ---------------------------------------------------------------------------------------


def test_the_company_is_found_by_the_emails_domain_and_its_subdomains(db: Database) -> None:
    with db.write() as session:
        acme = Company(name="Acme Corporation", domain="acme.com", fields={}, created_at=NOW, updated_at=NOW)
        session.add(acme)
        session.flush()
        session.add(CompanyDomain(domain="acme.com", company_id=acme.id))
        acme_id = acme.id
    ada_id, _ = new_person(db)
    bob_id, _ = new_person(db)

    capture(db, ada_id, "ada@ACME.com")
    capture(db, bob_id, "bob@eu.acme.com")

    for person_id in (ada_id, bob_id):
        company = company_of(db, person_id)
        assert company is not None and (company.id, company.name) == (acme_id, "Acme Corporation")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Company)) == 1


def test_an_unknown_work_domain_creates_its_company_named_after_it(db: Database) -> None:
    ada_id, _ = new_person(db)
    bob_id, _ = new_person(db)

    capture(db, ada_id, "ada@blue-sky.co.uk")
    capture(db, bob_id, "bob@sales.blue-sky.co.uk")

    company = company_of(db, ada_id)
    assert company is not None
    assert (company.name, company.domain) == ("Blue Sky", "blue-sky.co.uk")
    bobs = company_of(db, bob_id)
    assert bobs is not None and bobs.id == company.id
    with db.read() as session:
        assert list(session.scalars(select(CompanyDomain.domain))) == ["blue-sky.co.uk"]


def test_a_free_mail_address_gives_no_company(db: Database) -> None:
    ada_id, _ = new_person(db)
    bob_id, _ = new_person(db)

    capture(db, ada_id, "ada@gmail.com")
    capture(db, bob_id, "bob@yahoo.co.uk")

    assert company_of(db, ada_id) is None and company_of(db, bob_id) is None
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Company)) == 0


def test_a_company_the_person_already_has_is_kept_and_gets_the_domain(db: Database) -> None:
    person_id, _ = new_person(db)
    with db.write() as session:
        person = session.get(Person, person_id)
        assert person is not None
        people.set_field(session, person, "company.industry", "SaaS", NOW)

    capture(db, person_id, "ada@globex.com")

    company = company_of(db, person_id)
    assert company is not None
    assert (company.industry, company.domain, company.name) == ("SaaS", "globex.com", "Globex")


def add_company(db: Database, name: str, domain: str, **values: Any) -> int:
    """A company known by its domain, as an import or an earlier visitor left it; returns its id."""
    with db.write() as session:
        company = Company(name=name, domain=domain, fields={}, created_at=EARLIER, updated_at=EARLIER, **values)
        session.add(company)
        session.flush()
        session.add(CompanyDomain(domain=domain, company_id=company.id))
        return company.id


def answer_about_company(db: Database, person_id: int, **answers: Any) -> int:
    """The person answers questions about their company (`company.employees=250`...) before giving an email, which
    gives them a company without a domain; returns its id."""
    with db.write() as session:
        person = session.get(Person, person_id)
        assert person is not None
        for name, value in answers.items():
            people.set_field(session, person, f"company.{name}", value, NOW)
        session.flush()
        assert person.company_id is not None
        return person.company_id


def companies(db: Database) -> list[tuple[int, str | None, str | None]]:
    with db.read() as session:
        return [(c.id, c.name, c.domain) for c in session.scalars(select(Company).order_by(Company.id))]


def test_a_visitors_company_answers_join_the_company_that_owns_the_emails_domain(db: Database) -> None:
    acme_id = add_company(db, "Acme Corporation", "acme.com", industry="Manufacturing")
    person_id, _ = new_person(db)
    answer_about_company(db, person_id, employees=250, industry="SaaS", segment="enterprise")

    capture(db, person_id, "ada@eu.acme.com")

    company = company_of(db, person_id)
    assert company is not None and company.id == acme_id
    # Acme's own values win; it takes what it lacked from the visitor's answers.
    assert (company.name, company.industry, company.employees) == ("Acme Corporation", "Manufacturing", 250)
    assert company.fields == {"company.segment": "enterprise"}
    assert companies(db) == [(acme_id, "Acme Corporation", "acme.com")], "the emptied anonymous company is gone"


def test_a_visitors_company_answers_take_a_domain_no_company_owns_and_its_name(db: Database) -> None:
    person_id, _ = new_person(db)
    own_id = answer_about_company(db, person_id, employees=40)

    capture(db, person_id, "ada@sales.globex.co.uk")

    assert companies(db) == [(own_id, "Globex", "globex.co.uk")]
    company = company_of(db, person_id)
    assert company is not None and (company.id, company.employees) == (own_id, 40)
    with db.read() as session:
        assert list(session.scalars(select(CompanyDomain.domain))) == ["globex.co.uk"]


def test_a_free_mail_address_neither_names_nor_joins_a_company(db: Database) -> None:
    add_company(db, "Google", "gmail.com")
    person_id, _ = new_person(db)
    own_id = answer_about_company(db, person_id, employees=12)

    capture(db, person_id, "ada@gmail.com")

    company = company_of(db, person_id)
    assert company is not None and (company.id, company.name, company.domain) == (own_id, None, None)


def test_a_company_without_a_domain_that_others_belong_to_is_never_merged_away(db: Database) -> None:
    add_company(db, "Acme Corporation", "acme.com")
    ada_id, _ = new_person(db)
    shared_id = answer_about_company(db, ada_id, name="Acme Labs")
    bob_id, _ = new_person(db, company_id=shared_id)

    capture(db, ada_id, "ada@acme.com")

    for person_id in (ada_id, bob_id):
        company = company_of(db, person_id)
        assert company is not None and (company.id, company.name) == (shared_id, "Acme Labs")


# --- at the same moment --------------------------------------------------------------------------------------------


def simultaneously(
    db: Database, first: Callable[[Session], int], second: Callable[[Session], int], second_writes: str
) -> tuple[int, int, list[str]]:
    """Runs `first` and `second` in two transactions on two connections at once: the first transaction stays open
    until the second has looked for the value and tries to write it (a statement starting with `second_writes`),
    then commits. On SQLite the second transaction waits at BEGIN IMMEDIATE for the first to end instead.
    Returns both results and the statements the second sent."""
    first_wrote, second_writing = threading.Event(), threading.Event()
    seen: list[str] = []

    def watch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name.startswith("second"):
            seen.append(statement)
            if statement.startswith(second_writes):
                second_writing.set()

    def run_first() -> int:
        with db.write() as session:
            result = first(session)
            first_wrote.set()
            if ENGINE == "postgresql":
                assert second_writing.wait(timeout=20), "the second transaction never tried to write"
            return result

    def run_second() -> int:
        assert first_wrote.wait(timeout=20)
        with db.write() as session:
            return second(session)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        with ThreadPoolExecutor(1, "first") as one, ThreadPoolExecutor(1, "second") as two:
            first_result, second_result = one.submit(run_first), two.submit(run_second)
            return first_result.result(timeout=60), second_result.result(timeout=60), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)


def capturing(person_id: int, email: str, *, proven: bool = False) -> Callable[[Session], int]:
    def run(session: Session) -> int:
        person = session.get(Person, person_id)
        assert person is not None
        return identity.capture_email(session, person, email, NOW, where="in a test", proven=proven).id

    return run


def test_two_simultaneous_chats_typing_one_new_email_leave_one_owner_and_one_claim(db: Database) -> None:
    first_id, _ = new_person(db)
    second_id, _ = new_person(db)

    won, claimed, statements = simultaneously(
        db, capturing(first_id, "ada@acme.com"), capturing(second_id, "ada@acme.com"), "UPDATE people SET"
    )

    assert (won, claimed) == (first_id, second_id)
    assert [(p.id, p.email, p.claimed_email) for p in everyone(db)] == [
        (first_id, "ada@acme.com", None),
        (second_id, None, "ada@acme.com"),
    ]
    assert merges(db) == []
    if ENGINE == "postgresql":
        # The second did not see the first's uncommitted email, wrote its own, was refused by the unique index
        # once the first committed, and claimed the winner's email.
        assert any(statement.startswith("ROLLBACK TO SAVEPOINT") for statement in statements)


def test_two_simultaneous_signed_identifies_of_one_email_give_one_person(db: Database) -> None:
    first_id, first_visitor = new_person(db)
    second_id, second_visitor = new_person(db)

    won, joined, statements = simultaneously(
        db,
        capturing(first_id, "ada@acme.com", proven=True),
        capturing(second_id, "ada@acme.com", proven=True),
        "UPDATE people SET",
    )

    assert won == joined == first_id
    assert [(p.id, p.email) for p in everyone(db)] == [(first_id, "ada@acme.com")]
    [merge] = merges(db)
    assert (merge.survivor_id, merge.merged_person_id, merge.visitor_ids) == (first_id, second_id, [second_visitor])
    with db.read() as session:
        assert sorted(session.scalars(select(VisitorIdentity.visitor_id))) == sorted([first_visitor, second_visitor])
        assert session.scalar(select(func.count()).select_from(Company)) == 1
    if ENGINE == "postgresql":
        # The second did not see the first's uncommitted email, wrote its own, was refused by the unique index
        # once the first committed, and merged into the winner.
        assert any(statement.startswith("ROLLBACK TO SAVEPOINT") for statement in statements)


def test_two_simultaneous_captures_at_one_new_domain_give_one_company(db: Database) -> None:
    ada_id, _ = new_person(db)
    bob_id, _ = new_person(db)

    simultaneously(
        db, capturing(ada_id, "ada@initech.com"), capturing(bob_id, "bob@initech.com"), "INSERT INTO company_domains"
    )

    ada_company, bob_company = company_of(db, ada_id), company_of(db, bob_id)
    assert ada_company is not None and bob_company is not None
    assert ada_company.id == bob_company.id
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Company)) == 1
        assert list(session.scalars(select(CompanyDomain.domain))) == ["initech.com"]


def test_two_visitors_with_company_answers_giving_one_new_domain_at_once_end_on_one_company(db: Database) -> None:
    ada_id, _ = new_person(db)
    bob_id, _ = new_person(db)
    adas = answer_about_company(db, ada_id, employees=40)
    answer_about_company(db, bob_id, industry="SaaS")

    *_, statements = simultaneously(
        db, capturing(ada_id, "ada@initech.com"), capturing(bob_id, "bob@initech.com"), "INSERT INTO company_domains"
    )

    # Ada's company took the domain; Bob's answers filled what it lacked and his own company is gone.
    assert companies(db) == [(adas, "Initech", "initech.com")]
    for person_id in (ada_id, bob_id):
        company = company_of(db, person_id)
        assert company is not None and (company.id, company.employees, company.industry) == (adas, 40, "SaaS")
    if ENGINE == "postgresql":
        # Bob's company claimed the domain too, was refused by the unique index once Ada's committed, and merged.
        assert any(statement.startswith("ROLLBACK TO SAVEPOINT") for statement in statements)
