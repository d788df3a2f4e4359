"""Visitors who answered questions about their company before giving their email, driven over the widget API as
the widget drives it: their company joins (or becomes) the company of the email's domain, also when two of them give
an email at one new domain at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.db import Database
from overture.people import service as people
from overture.people.models import Company, CompanyDomain

from support import publish

URL = "/api/v1/widget/conversations"


def company_first(key: str, field: str) -> dict[str, Any]:
    """A dialogue that asks one company field before the email."""
    cards = {
        "ask_company": {"ask": "Tell us about your company?", "capture": field, "goto": "ask_email"},
        "ask_email": {"ask": "Your work email?", "capture": "person.email", "goto": "done"},
        "done": {"say": "Thanks!", "end": True},
    }
    return {"key": key, "name": key, "flow": {"start": "ask_company", "cards": cards}}


class Visitor:
    """A scripted widget of one browser."""

    def __init__(self, client: TestClient, dialogue: str) -> None:
        answer = client.post(URL, json={"dialogue": dialogue, "page_url": "https://example.com/pricing"})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        self.client, self.visitor_id = client, body["visitor_id"]
        self.conversation_id, self.token, self.step = body["conversation_id"], body["token"], body["step"]

    def type(self, text: str) -> int:
        """Sends a typed answer; returns the status code."""
        response = self.client.post(
            f"{URL}/{self.conversation_id}/replies",
            json={"step": self.step, "text": text},
            headers={"X-Conversation-Token": self.token},
        )
        if response.status_code == 200:
            self.step = response.json()["step"]
        return response.status_code


def companies_of(db: Database, *visitors: Visitor) -> list[int | None]:
    with db.read() as session:
        found = [people.by_visitor_id(session, visitor.visitor_id) for visitor in visitors]
        return [person.company_id if person is not None else None for person in found]


def test_two_visitors_giving_emails_at_one_new_domain_at_once_end_on_the_one_company_owning_it(
    client: TestClient, db: Database
) -> None:
    publish(db, company_first("size-first", "company.employees"))
    publish(db, company_first("industry-first", "company.industry"))
    ada, bob = Visitor(client, "size-first"), Visitor(client, "industry-first")
    assert (ada.type("40"), bob.type("SaaS")) == (200, 200)
    anonymous = companies_of(db, ada, bob)
    assert None not in anonymous and anonymous[0] != anonymous[1], "each has a company of their own answers"
    together = threading.Barrier(2)

    def give_email(pair: tuple[Visitor, str]) -> int:
        visitor, email = pair
        together.wait(timeout=20)
        return visitor.type(email)

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(give_email, [(ada, "ada@initech.com"), (bob, "bob@initech.com")]))

    assert statuses == [200, 200]
    with db.read() as session:
        rows = session.execute(select(Company.id, Company.name, Company.employees, Company.industry)).all()
        domains = session.execute(select(CompanyDomain.domain, CompanyDomain.company_id)).all()
    # One company, whichever visitor's came first: it owns the domain and holds both visitors' answers.
    [(company_id, name, employees, industry)] = rows
    assert (name, employees, industry) == ("Initech", 40, "SaaS")
    assert [tuple(row) for row in domains] == [("initech.com", company_id)]
    assert companies_of(db, ada, bob) == [company_id, company_id]
