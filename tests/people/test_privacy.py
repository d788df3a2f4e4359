"""Privacy requests: export everything about one person, delete one person (keeping only anonymised records for
reports), and a log entry for each."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from sqlalchemy import select
from structlog.testing import capture_logs

from overture.activities.models import Activity
from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database
from overture.errors import NotFound, Unauthenticated
from overture.people import privacy
from overture.people import service as people
from overture.people.models import (
    Company,
    CompanyDomain,
    PageView,
    Person,
    PersonMerge,
    PrivacyAction,
    VisitorIdentity,
)

from support import example, publish

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
EMAIL = "ada@acme.com"


@dataclass(frozen=True)
class Ada:
    person_id: int
    visitor_id: str
    conversation_id: int
    company_id: int


@pytest.fixture
def info_logs() -> Iterator[None]:
    """Info lines pass (the test run keeps only warnings), so that privacy's log lines can be captured."""
    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    yield
    structlog.configure(**before)


def ada_signs_up_for_the_newsletter(db: Database) -> Ada:
    """A visitor reads two pages, chats (giving her email), has a second browser merged in, works at Acme."""
    publish(db, example("newsletter.yaml"))
    with db.write() as session:
        view = conversations.start(
            session,
            dialogue_key="newsletter",
            visitor_id=None,
            page_url="https://example.com/blog/post",
            language="en",
            region="FR",
            now=NOW,
        )
        public_id, token, step = view.conversation.public_id, view.token, view.conversation.step
        assert token is not None
    for answer in (engine.Reply(choice="0"), engine.Reply(text=EMAIL)):
        with db.write() as session:
            step = conversations.reply(session, public_id, token, step, answer, NOW).conversation.step
    with db.write() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        assert conversation is not None and conversation.person_id is not None
        person = session.get(Person, conversation.person_id)
        assert person is not None and person.email == EMAIL
        person.first_name = "Ada"
        # Capturing the email may already have found her company from its domain.
        company = people.company_of(session, person)
        if company is None:
            company = Company(domain="acme.com", fields={}, created_at=NOW, updated_at=NOW)
            session.add(company)
            session.flush()
            session.add(CompanyDomain(domain="acme.com", company_id=company.id))
            person.company_id = company.id
        company.name = "Acme"
        for url in ("https://example.com/blog/post", "https://example.com/pricing"):
            session.add(PageView(person_id=person.id, url=url, session_number=1, occurred_at=NOW))
        session.add(VisitorIdentity(visitor_id="v_other_browser_0001", person_id=person.id, created_at=NOW))
        session.add(
            PersonMerge(
                survivor_id=person.id,
                merged_person_id=999,
                visitor_ids=["v_other_browser_0001"],
                reason="email captured",
                merged_at=NOW,
            )
        )
        return Ada(person.id, conversation.visitor_id or "", conversation.id, company.id)


def test_an_export_holds_the_person_company_visits_conversations_activities_and_merges(db: Database) -> None:
    ada = ada_signs_up_for_the_newsletter(db)
    with db.write() as session:
        data = privacy.export_person(session, ada.person_id, "alice@example.com", LATER)
    json.dumps(data)  # JSON-ready as it is
    assert data["person"]["fields"]["person.email"] == EMAIL
    assert data["person"]["fields"]["person.first_name"] == "Ada"
    assert data["company"] == {"id": ada.company_id, "fields": {"company.name": "Acme", "company.domain": "acme.com"}}
    assert sorted(data["visitor_ids"]) == sorted([ada.visitor_id, "v_other_browser_0001"])
    assert [view["url"] for view in data["page_views"]] == [
        "https://example.com/blog/post",
        "https://example.com/pricing",
    ]
    [conversation] = data["conversations"]
    assert conversation["page_url"] == "https://example.com/blog/post"
    assert EMAIL in json.dumps(conversation["state"]), "the transcript holds what she typed"
    captured = [a for a in data["activities"] if a["type"] == "field.captured"]
    assert {"field": "person.email", "value": EMAIL} in [a["attributes"] for a in captured]
    assert {"dialogue.completed"} <= {a["type"] for a in data["activities"]}
    assert data["person_merges"][0]["merged_person_id"] == 999
    assert data["exported_at"] == LATER.isoformat()


def test_an_export_is_logged(db: Database, info_logs: None) -> None:
    ada = ada_signs_up_for_the_newsletter(db)
    with capture_logs() as logs, db.write() as session:
        privacy.export_person(session, ada.person_id, "alice@example.com", LATER)
    with db.read() as session:
        [action] = session.scalars(select(PrivacyAction))
    assert (action.action, action.person_id, action.actor, action.occurred_at) == (
        "export",
        ada.person_id,
        "alice@example.com",
        LATER,
    )
    assert action.email_sha256 == hashlib.sha256(EMAIL.encode()).hexdigest()
    assert action.details["rows"]["page_views"] == 2
    assert [(entry["event"], entry["person_id"], entry["actor"]) for entry in logs] == [
        ("privacy export", ada.person_id, "alice@example.com")
    ]


def test_deleting_a_person_removes_their_data_and_anonymises_what_reports_keep(db: Database, info_logs: None) -> None:
    ada = ada_signs_up_for_the_newsletter(db)
    with capture_logs() as logs, db.write() as session:
        report = privacy.delete_person(session, ada.person_id, "cli", LATER)
    assert report.deleted == {"people": 1, "page_views": 2, "visitor_identities": 2, "person_merges": 1}
    assert report.anonymised["conversations"] == 1 and report.anonymised["activities"] >= 3

    with db.read() as session:
        assert session.get(Person, ada.person_id) is None
        assert people.by_visitor_id(session, ada.visitor_id) is None
        assert people.by_visitor_id(session, "v_other_browser_0001") is None
        assert list(session.scalars(select(PageView))) == []
        assert list(session.scalars(select(PersonMerge))) == []
        conversation = session.get(Conversation, ada.conversation_id)
        assert conversation is not None, "the conversation stays, anonymised, for reports"
        assert (conversation.person_id, conversation.visitor_id, conversation.state) == (None, None, {})
        assert conversation.page_url == "https://example.com/blog/post"
        activities = list(session.scalars(select(Activity)))
        assert activities and all(activity.person_id is None for activity in activities)
        assert EMAIL not in json.dumps([activity.attributes for activity in activities])
        captured = [activity for activity in activities if activity.type == "field.captured"]
        assert {"field": "person.email"} in [activity.attributes for activity in captured]
        assert session.get(Company, ada.company_id) is not None, "the company is not personal data"
        [action] = session.scalars(select(PrivacyAction))
    assert (action.action, action.person_id, action.actor) == ("delete", ada.person_id, "cli")
    assert action.email_sha256 == hashlib.sha256(EMAIL.encode()).hexdigest()
    assert action.details == report.as_dict()
    assert [(entry["event"], entry["person_id"]) for entry in logs] == [("privacy delete", ada.person_id)]


def test_a_deleted_persons_conversation_can_no_longer_be_continued(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    with db.write() as session:
        view = conversations.start(
            session, dialogue_key="newsletter", visitor_id=None, page_url="", language=None, region=None, now=NOW
        )
        public_id, token, person_id = view.conversation.public_id, view.token, view.person.id
    assert token is not None
    with db.write() as session:
        privacy.delete_person(session, person_id, "cli", NOW)
    with pytest.raises(Unauthenticated), db.write() as session:
        conversations.reply(session, public_id, token, 0, engine.Reply(choice="0"), NOW)


def test_an_unknown_person_can_be_neither_exported_nor_deleted(db: Database) -> None:
    with pytest.raises(NotFound), db.write() as session:
        privacy.export_person(session, 12345, "cli", NOW)
    with pytest.raises(NotFound), db.write() as session:
        privacy.delete_person(session, 12345, "cli", NOW)
    with db.read() as session:
        assert list(session.scalars(select(PrivacyAction))) == []


def test_every_table_pointing_to_people_is_walked() -> None:
    names = {(link.table.name, link.column.name, link.keeps_rows) for link in privacy.person_links()}
    assert {
        ("conversations", "person_id", True),
        ("activities", "person_id", True),
        ("page_views", "person_id", False),
        ("visitor_identities", "person_id", False),
        ("person_merges", "survivor_id", False),
    } <= names
