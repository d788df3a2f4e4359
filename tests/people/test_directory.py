"""The people directory against the real database: search, the anonymous filter, paging, profiles, companies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.conversations import engine, history
from overture.conversations import service as conversations
from overture.db import Database
from overture.errors import InvalidInput, NotFound
from overture.people import directory
from overture.people.models import (
    Company,
    CompanyDomain,
    FieldDefinition,
    PageView,
    Person,
    PersonMerge,
    VisitorIdentity,
)

from support import publish

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

ASK_TITLE = {
    "key": "ask-title",
    "name": "Ask the job title",
    "flow": {
        "start": "ask",
        "cards": {
            "ask": {"ask": "What is your job title?", "capture": "person.title", "goto": "bye"},
            "bye": {"say": "Thanks!", "end": True},
        },
    },
}


def add_company(session: Session, name: str | None, *domains: str, **values: Any) -> Company:
    values.setdefault("fields", {})
    company = Company(name=name, domain=domains[0] if domains else None, **values)
    session.add(company)
    session.flush()
    for domain in domains:
        session.add(CompanyDomain(domain=domain, company_id=company.id))
    return company


def add_person(
    session: Session, email: str | None = None, *, seen: datetime = NOW, company: Company | None = None, **values: Any
) -> Person:
    person = Person(
        email=email,
        company_id=company.id if company else None,
        fields=values.pop("fields", {}),
        source=values.pop("source", {}),
        visit=values.pop("visit", {}),
        created_at=values.pop("created_at", seen - timedelta(days=3)),
        last_seen_at=seen,
        **values,
    )
    session.add(person)
    session.flush()
    return person


def ids(page: Any) -> list[int]:
    return [item.id for item in page.items]


@pytest.fixture
def crowd(db: Database) -> dict[str, int]:
    """Four known people at two companies and an anonymous visitor, each seen an hour apart (jane most recently)."""
    with db.write() as session:
        acme = add_company(session, "Acme Corp", "acme.com", "acme.io")
        globex = add_company(session, "Globex", "globex.com")
        made = {
            "jane": add_person(session, "jane.doe@acme.com", first_name="Jane", last_name="Doe", company=acme),
            "john": add_person(
                session,
                "john@globex.com",
                first_name="John",
                last_name="Smith",
                company=globex,
                seen=NOW - timedelta(hours=1),
            ),
            "mary": add_person(
                session, "mary@example.org", first_name="Mary Ann", last_name="Jones", seen=NOW - timedelta(hours=2)
            ),
            "percent": add_person(session, "a%b@example.org", seen=NOW - timedelta(hours=3)),
            "anon": add_person(session, None, seen=NOW - timedelta(hours=4)),
        }
        return {key: person.id for key, person in made.items()}


def search(db: Database, q: str | None = None, **options: Any) -> list[int]:
    with db.read() as session:
        return ids(directory.search_people(session, q, **options))


def test_everyone_is_listed_newest_seen_first(db: Database, crowd: dict[str, int]) -> None:
    assert search(db) == [crowd["jane"], crowd["john"], crowd["mary"], crowd["percent"], crowd["anon"]]


def test_search_finds_people_by_the_start_of_their_email_in_any_case(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, "JANE.D") == [crowd["jane"]]
    assert search(db, "john@glo") == [crowd["john"]]
    assert search(db, "ohn@") == []  # the start of the address, not any part of it


def test_search_finds_people_by_a_word_of_their_first_or_last_name(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, "smi") == [crowd["john"]]
    assert search(db, "ann") == [crowd["mary"]]  # the second word of "Mary Ann"
    assert search(db, "j") == [crowd["jane"], crowd["john"], crowd["mary"]]  # Jane, John, and Jones


def test_search_finds_people_by_company_name_or_domain(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, "corp") == [crowd["jane"]]
    assert search(db, "acme.io") == [crowd["jane"]]
    assert search(db, "globex.c") == [crowd["john"]]


def test_every_word_of_the_search_must_match(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, "jane doe") == [crowd["jane"]]
    assert search(db, "jane smith") == []


def test_wildcards_in_the_search_are_plain_characters(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, "%") == []
    assert search(db, "a%b") == [crowd["percent"]]
    assert search(db, "_") == []


def test_the_filter_separates_known_people_from_anonymous_visitors(db: Database, crowd: dict[str, int]) -> None:
    assert search(db, known=False) == [crowd["anon"]]
    assert crowd["anon"] not in search(db, known=True)
    assert len(search(db, known=True)) == 4


def test_pages_follow_each_other_without_gaps_or_repeats(db: Database) -> None:
    with db.write() as session:
        # Ties on last seen are ordered by id, so a page boundary inside a tie loses nobody.
        made = [add_person(session, f"p{i}@example.com", seen=NOW - timedelta(minutes=i // 2)).id for i in range(7)]
    seen: list[int] = []
    cursor = None
    with db.read() as session:
        while True:
            page = directory.search_people(session, "p", cursor=cursor, limit=3)
            seen += ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("cursor", ["nonsense", "1-0", "999999999999999999-5", "123-99999999999"])
def test_a_cursor_the_list_did_not_give_out_is_refused(db: Database, cursor: str) -> None:
    with db.read() as session, pytest.raises(InvalidInput) as refused:
        directory.search_people(session, cursor=cursor)
    assert refused.value.problems[0].path == "cursor"


def test_a_profile_shows_fields_with_their_labels_custom_and_retired_ones_too(db: Database) -> None:
    with db.write() as session:
        session.add(FieldDefinition(name="person.segment", label="Segment", type="text"))
        session.add(FieldDefinition(name="person.old_score", label="Old score", type="number", retired_at=NOW))
        person = add_person(
            session,
            "jane@acme.com",
            first_name="Jane",
            title="CTO",
            consent=True,
            fields={"person.segment": "Enterprise", "person.old_score": 7},
        )
    with db.read() as session:
        profile = directory.profile(session, person.id)
    labels = {field.label: field.value for field in profile.fields}
    assert labels == {
        "Email": "jane@acme.com",
        "First name": "Jane",
        "Job title": "CTO",
        "Consent": True,
        "Segment": "Enterprise",
        "Old score (retired)": 7,
    }
    assert profile.name == "Jane"


def test_a_profile_shows_visits_source_pages_visitor_ids_and_merges(db: Database) -> None:
    with db.write() as session:
        acme = add_company(session, "Acme Corp", "acme.com")
        person = add_person(
            session,
            "jane@acme.com",
            company=acme,
            visit_count=4,
            source={"utm_source": "newsletter", "referrer": "https://news.example/"},
        )
        session.add(VisitorIdentity(visitor_id="v_first_browser", person_id=person.id, created_at=NOW))
        session.add(VisitorIdentity(visitor_id="v_second_browser", person_id=person.id, created_at=NOW))
        for minute in range(25):
            session.add(
                PageView(
                    person_id=person.id,
                    url=f"https://example.com/page-{minute}",
                    session_number=1,
                    occurred_at=NOW + timedelta(minutes=minute),
                )  # fmt: skip
            )
        session.add(
            PersonMerge(
                survivor_id=person.id,
                merged_person_id=999,
                visitor_ids=["v_phone"],
                reason="email captured",
                merged_at=NOW,
            )  # fmt: skip
        )
    with db.read() as session:
        profile = directory.profile(session, person.id)
    assert profile.company is not None and profile.company.name == "Acme Corp"
    assert profile.visit_count == 4
    assert profile.source["utm_source"] == "newsletter"
    assert profile.visitor_ids == ["v_first_browser", "v_second_browser"]
    assert len(profile.page_views) == directory.RECENT_PAGE_VIEWS
    assert profile.page_views[0].url == "https://example.com/page-24"
    assert [(m.merged_person_id, m.visitor_ids) for m in profile.merges] == [(999, ["v_phone"])]


def test_an_unknown_person_is_not_found(db: Database) -> None:
    with db.read() as session, pytest.raises(NotFound):
        history.person_profile(session, 424242)


def test_the_whole_profile_has_conversations_with_their_transcript_and_activities(db: Database) -> None:
    publish(db, ASK_TITLE)
    with db.write() as session:
        view = conversations.start(
            session, dialogue_key="ask-title", visitor_id=None, page_url="https://example.com/", region=None, now=NOW
        )
        assert view.token is not None
        conversations.reply(
            session, view.conversation.public_id, view.token, 0, engine.Reply(text="Head of <b>Sales</b>"), NOW
        )
        person_id, conversation_id = view.person.id, view.conversation.id
        session.add(
            Activity(person_id=person_id, type="link.clicked", occurred_at=NOW + timedelta(hours=1), session_number=1)
        )
    with db.read() as session:
        profile = history.person_profile(session, person_id)
        chat = history.transcript(session, person_id, conversation_id)
    [conversation] = profile.conversations
    assert (conversation.dialogue_name, conversation.status, conversation.steps) == (
        "Ask the job title",
        "completed",
        1,
    )
    assert profile.activities[0].type == "link.clicked"
    assert {"dialogue.triggered", "field.captured", "dialogue.completed"} <= {a.type for a in profile.activities}
    assert [(line.role, line.text) for line in chat.transcript] == [
        ("bot", "What is your job title?"),
        ("visitor", "Head of <b>Sales</b>"),
        ("bot", "Thanks!"),
    ]


def test_another_persons_conversation_is_not_shown_under_this_one(db: Database) -> None:
    publish(db, ASK_TITLE)
    with db.write() as session:
        view = conversations.start(
            session, dialogue_key="ask-title", visitor_id=None, page_url="https://example.com/", region=None, now=NOW
        )
        other = add_person(session, "other@example.com")
        conversation_id = view.conversation.id
    with db.read() as session, pytest.raises(NotFound):
        history.transcript(session, other.id, conversation_id)


def test_companies_are_listed_by_name_with_their_people_count_and_found_by_name_or_domain(db: Database) -> None:
    with db.write() as session:
        acme = add_company(session, "Acme Corp", "acme.com", "acme.io")
        add_company(session, "Globex", "globex.com")
        add_company(session, None, "unnamed.example")
        for n in range(3):
            add_person(session, f"p{n}@acme.com", company=acme)
    with db.read() as session:
        everyone = directory.list_companies(session)
        by_domain = directory.list_companies(session, "acme.i")
        by_word = directory.list_companies(session, "CORP")
        nobody = directory.list_companies(session, "initech")
    assert [(c.name, c.people_count) for c in everyone.items] == [("Acme Corp", 3), ("Globex", 0), (None, 0)]
    assert everyone.total == 3
    assert [c.name for c in by_domain.items] == ["Acme Corp"]
    assert [c.name for c in by_word.items] == ["Acme Corp"]
    assert nobody.items == [] and nobody.total == 0


def test_a_company_page_has_its_fields_domains_owner_and_people(db: Database) -> None:
    with db.write() as session:
        session.add(FieldDefinition(name="company.tier", label="Tier", type="text"))
        acme = add_company(
            session, "Acme Corp", "acme.com", "acme.io", industry="Software", employees=250, owner="bob@example.com",
            fields={"company.tier": "Gold"},
        )  # fmt: skip
        jane = add_person(session, "jane@acme.com", company=acme)
        old = add_person(session, "old@acme.com", company=acme, seen=NOW - timedelta(days=30))
    with db.read() as session:
        company = directory.company_detail(session, acme.id)
        with pytest.raises(NotFound):
            directory.company_detail(session, 424242)
    assert {f.label: f.value for f in company.fields} == {
        "Company": "Acme Corp",
        "Company domain": "acme.com",
        "Industry": "Software",
        "Employees": 250,
        "Account owner": "bob@example.com",
        "Tier": "Gold",
    }
    assert company.domains == ["acme.com", "acme.io"]
    assert company.owner == "bob@example.com"
    assert [p.id for p in company.people] == [jane.id, old.id]
    assert company.people_count == 2
