"""The email policy of a site: captures from blocked domains (and their subdomains), or from free-mail domains when
the site takes work emails only, are refused through the widget API with the site's message; nothing is written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from overture.people import email_domains
from overture.people import service as people
from overture.sites.models import DEFAULT_BLOCKED_MESSAGE, Site

from support import publish

URL = "/api/v1/widget/conversations"
COMPETITORS = "We cannot take addresses of our competitors here: please use another email."


def signup(site: str) -> dict[str, Any]:
    return {
        "key": f"signup-{site}",
        "name": "Sign up",
        "site": site,
        "flow": {
            "start": "ask_email",
            "cards": {
                "ask_email": {"ask": "What is your work email?", "capture": "person.email", "goto": "done"},
                "done": {"say": "Thanks!", "end": True},
            },
        },
    }


def add_site(db: Database, key: str, **security: Any) -> None:
    """The site with these security settings (made when the test database does not already have it)."""
    with db.write() as session:
        site = session.scalar(select(Site).where(Site.key == key))
        if site is None:
            site = Site(key=key, name=key.title(), origins=["https://example.com"])
            session.add(site)
        for name, value in security.items():
            setattr(site, name, value)


class Chat:
    """A scripted widget waiting at the email question."""

    def __init__(self, client: TestClient, dialogue: str) -> None:
        self.client = client
        started = client.post(URL, json={"dialogue": dialogue, "page_url": "https://example.com/pricing"})
        assert started.status_code == 201, started.text
        body = started.json()
        assert body["expected"]["field"] == "person.email"
        self.id, self.token, self.visitor_id = body["conversation_id"], body["token"], body["visitor_id"]

    def answer(self, text: str) -> Any:
        return self.client.post(
            f"{URL}/{self.id}/replies", json={"step": 0, "text": text}, headers={"X-Conversation-Token": self.token}
        )


def email_of(db: Database, visitor_id: str) -> str | None:
    with db.read() as session:
        person = people.by_visitor_id(session, visitor_id)
        assert person is not None
        return person.email


def conversation_state(db: Database, public_id: str) -> tuple[int, dict[str, Any]]:
    with db.read() as session:
        row = session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        assert row is not None
        return row.step, row.state


def captured(db: Database) -> list[Any]:
    with db.read() as session:
        return list(session.scalars(select(Activity.attributes).where(Activity.type == "field.captured")))


def assert_refused_with(response: Any, message: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body == {"ok": False, "status": 422, "error": message, "errors": [{"path": "reply", "message": message}]}


# --- through the widget API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["ada@rival.com", "Ada@RIVAL.com", "ada@eu.rival.com", "ada@mail.eu.rival.com"])
def test_an_email_at_a_blocked_domain_or_its_subdomains_is_refused_with_the_sites_message(
    client: TestClient, db: Database, email: str
) -> None:
    add_site(db, "www", blocked_email_domains=["rival.com", "other-rival.io"], blocked_email_message=COMPETITORS)
    publish(db, signup("www"))
    chat = Chat(client, "signup-www")
    before = conversation_state(db, chat.id)

    assert_refused_with(chat.answer(email), COMPETITORS)

    assert conversation_state(db, chat.id) == before, "the same question still waits, nothing logged"
    assert email_of(db, chat.visitor_id) is None
    assert captured(db) == []
    accepted = chat.answer("ada@acme.com")
    assert accepted.status_code == 200 and accepted.json()["status"] == "completed"
    assert email_of(db, chat.visitor_id) == "ada@acme.com"


def test_a_domain_that_only_ends_like_a_blocked_one_is_taken(client: TestClient, db: Database) -> None:
    add_site(db, "www", blocked_email_domains=["rival.com"], blocked_email_message=COMPETITORS)
    publish(db, signup("www"))
    chat = Chat(client, "signup-www")

    assert chat.answer("ada@notrival.com").status_code == 200

    assert email_of(db, chat.visitor_id) == "ada@notrival.com"


@pytest.mark.parametrize("email", ["ada@gmail.com", "ada@yahoo.co.uk", "ada@GMX.de", "ada@proton.me"])
def test_a_site_taking_work_emails_only_refuses_free_mail_with_its_message(
    client: TestClient, db: Database, email: str
) -> None:
    add_site(db, "www", block_free_email=True)
    publish(db, signup("www"))
    chat = Chat(client, "signup-www")

    assert_refused_with(chat.answer(email), DEFAULT_BLOCKED_MESSAGE)

    assert email_of(db, chat.visitor_id) is None
    assert chat.answer("ada@acme.com").status_code == 200
    assert email_of(db, chat.visitor_id) == "ada@acme.com"


def test_free_mail_is_taken_when_the_site_does_not_ask_for_work_emails(client: TestClient, db: Database) -> None:
    add_site(db, "www", blocked_email_domains=["rival.com"], block_free_email=False)
    publish(db, signup("www"))
    chat = Chat(client, "signup-www")

    assert chat.answer("ada@gmail.com").status_code == 200

    assert email_of(db, chat.visitor_id) == "ada@gmail.com"


def test_each_site_has_its_own_policy_and_a_site_without_settings_has_none(client: TestClient, db: Database) -> None:
    add_site(db, "www", block_free_email=True)
    publish(db, signup("www"))
    publish(db, signup("docs"))  # no row for the "docs" site yet
    publish(db, signup("default"))  # the migration's default site: nothing blocked

    assert_refused_with(Chat(client, "signup-www").answer("ada@gmail.com"), DEFAULT_BLOCKED_MESSAGE)
    for dialogue, email in (("signup-docs", "ada@gmail.com"), ("signup-default", "bob@gmail.com")):
        chat = Chat(client, dialogue)
        assert chat.answer(email).status_code == 200
        assert email_of(db, chat.visitor_id) == email


def test_a_changed_policy_applies_to_the_next_answer(client: TestClient, db: Database) -> None:
    add_site(db, "www")
    publish(db, signup("www"))
    chat = Chat(client, "signup-www")
    with db.write() as session:
        site = session.scalar(select(Site).where(Site.key == "www"))
        assert site is not None
        site.blocked_email_domains = ["Acme.com"]
        site.blocked_email_message = "No Acme addresses, please."

    assert_refused_with(chat.answer("ada@acme.com"), "No Acme addresses, please.")


# --- the domain rules ----------------------------------------------------------------------------------------------


def test_the_free_mail_list_is_shipped_with_its_header_and_holds_the_usual_providers() -> None:
    free = email_domains.free_domains()
    assert 100 <= len(free) <= 200
    assert {"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de"} <= free
    assert {"web.de", "mail.ru", "yandex.ru", "proton.me", "qq.com", "163.com", "orange.fr", "t-online.de"} <= free
    assert all(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain) for domain in free)
    from importlib import resources

    text = resources.files("overture.people").joinpath("free_email_domains.txt").read_text()
    assert text.startswith("# Free-mail domains")


def test_a_domain_is_within_a_list_when_it_is_one_of_them_or_a_subdomain() -> None:
    blocked = email_domains.blocklist([" @Rival.com ", "*.other.io", ""], block_free=False)
    assert blocked == {"rival.com", "other.io"}
    assert email_domains.within("rival.com", blocked)
    assert email_domains.within("eu.rival.com", blocked)
    assert not email_domains.within("notrival.com", blocked)
    assert not email_domains.within("rival.com.evil.net", blocked)
    assert "gmail.com" in email_domains.blocklist([], block_free=True)


def test_a_company_name_comes_from_the_registrable_part_of_the_domain() -> None:
    assert email_domains.company_name("acme.com") == "Acme"
    assert email_domains.company_name("mail.blue-sky.co.uk") == "Blue Sky"
    assert email_domains.company_domains("eu.mail.acme.com") == ["eu.mail.acme.com", "mail.acme.com", "acme.com"]
