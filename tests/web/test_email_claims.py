"""An email typed in chat is a claim: the routes a stranger takes after typing a known person's email, through the
widget API as a browser calls it. The stranger gets nothing of that person (no conversation, no transcript, no
greeting by name), writes nothing to them, and the real visitor's conversation and token keep working. Only a
signed identify makes a browser the known person, and even then a conversation resumes only in its own browser."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from fastapi.testclient import TestClient

from overture.db import Database
from overture.people import service as people
from overture.people.models import Person
from overture.sites import service as sites

from support import Personas, publish, token_for

PAGE = "https://www.example.com/pricing"
CONVERSATIONS = "/api/v1/widget/conversations"

# Greets by name, asks the email, notes consent, then waits for a phone number (so the conversation stays active).
PROFILE: dict[str, Any] = {
    "key": "profile",
    "name": "Profile",
    "site": "www",
    "flow": {
        "start": "hello",
        "cards": {
            "hello": {
                "say": "Hi {{ person.first_name or 'there' }}!",
                "buttons": [{"label": "Go on", "goto": "ask_email"}],
            },
            "ask_email": {"ask": "Your work email?", "capture": "person.email", "goto": "ask_title"},
            "ask_title": {"ask": "Your title?", "capture": "person.title", "goto": "noted"},
            "noted": {"say": "Noted, thanks.", "set": {"person.consent": True}, "goto": "ask_phone"},
            "ask_phone": {"ask": "A phone number?", "capture": "person.phone", "goto": "done"},
            "done": {"say": "Bye!", "end": True},
        },
    },
}
# What the stranger answers: the email, a title, then consent is noted and the conversation ends.
SIGNUP: dict[str, Any] = {
    "key": "signup",
    "name": "Sign up",
    "site": "www",
    "flow": {
        "start": "ask_email",
        "cards": {
            "ask_email": {"ask": "Your work email?", "capture": "person.email", "goto": "ask_title"},
            "ask_title": {"ask": "Your title?", "capture": "person.title", "goto": "thanks"},
            "thanks": {
                "say": "Thanks, {{ person.first_name or 'noted' }}.",
                "set": {"person.consent": True},
                "end": True,
            },
        },
    },
}
# A third dialogue, started later: its greeting shows what the browser's person is known by.
GREETING: dict[str, Any] = {
    "key": "greeting",
    "name": "Greeting",
    "site": "www",
    "flow": {
        "start": "hello",
        "cards": {
            "hello": {
                "say": "Welcome back, {{ person.first_name or 'friend' }} ({{ person.title or 'no title' }})!",
                "buttons": [{"label": "Thanks", "goto": "ask"}],
            },
            "ask": {"ask": "Anything we can help with?", "capture": "person.last_name", "goto": "done"},
            "done": {"say": "Bye!", "end": True},
        },
    },
}


class Browser:
    """One browser: its visitor id, as the widget keeps it, and its conversations' tokens."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        answer = client.post("/api/v1/widget/visit", json={"site": "www", "url": PAGE})
        assert answer.status_code == 200, answer.text
        self.visitor_id: str = answer.json()["visitor_id"]

    def visit(self) -> dict[str, Any]:
        answer = self.client.post(
            "/api/v1/widget/visit", json={"site": "www", "url": PAGE, "visitor_id": self.visitor_id}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def start(self, dialogue: str) -> dict[str, Any]:
        answer = self.client.post(
            CONVERSATIONS, json={"dialogue": dialogue, "visitor_id": self.visitor_id, "page_url": PAGE}
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def reply(self, conversation: dict[str, Any], step: int, **answer: Any) -> dict[str, Any]:
        response = self.client.post(
            f"{CONVERSATIONS}/{conversation['conversation_id']}/replies",
            json={"step": step, **answer},
            headers={"X-Conversation-Token": conversation["token"]},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def said(*answers: dict[str, Any]) -> str:
    """Everything the widget was given to show, as one text."""
    return " ".join(str(answer) for answer in answers)


def person_of(db: Database, visitor_id: str) -> Person:
    with db.read() as session:
        person = people.by_visitor_id(session, visitor_id)
        assert person is not None
        session.expunge(person)
        return person


@pytest.fixture
def victoria(client: TestClient, db: Database) -> tuple[Browser, dict[str, Any]]:
    """Victoria, known by her email, name and title, who declined consent, with a conversation running (waiting
    at the phone question) in her own browser."""
    for dialogue in (PROFILE, SIGNUP, GREETING):
        publish(db, dialogue)
    browser = Browser(client)
    conversation = browser.start("profile")
    browser.reply(conversation, 0, choice="0")
    browser.reply(conversation, 1, text="victoria@acme.com")
    waiting = browser.reply(conversation, 2, text="CFO")
    assert waiting["expected"]["field"] == "person.phone"
    with db.write() as session:
        person = people.by_visitor_id(session, browser.visitor_id)
        assert person is not None
        person.first_name, person.consent = "Victoria", False
    return browser, conversation


def a_stranger_types(client: TestClient, email: str) -> tuple[Browser, list[dict[str, Any]]]:
    """A stranger's browser signs up with `email` and the title Intern; returns the browser and every answer it
    was given."""
    stranger = Browser(client)
    conversation = stranger.start("signup")
    answers = [conversation, stranger.reply(conversation, 0, text=email)]
    answers.append(stranger.reply(conversation, 1, text="Intern"))
    assert answers[-1]["status"] == "completed"
    return stranger, answers


def test_a_stranger_who_types_a_known_email_is_shown_nothing_of_that_person(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    _, answers = a_stranger_types(client, "Victoria@Acme.com")

    shown = said(*answers)
    assert "Thanks, noted." in shown
    assert "Victoria" not in shown


def test_the_visit_call_never_hands_a_stranger_the_known_persons_conversation(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    stranger, _ = a_stranger_types(client, "victoria@acme.com")

    assert stranger.visit()["conversation"] is None, "the stranger's own conversation is over; hers is hers"


def test_starting_again_gives_the_stranger_their_own_conversation_and_the_real_visitors_token_keeps_working(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    browser, victims_conversation = victoria
    stranger, _ = a_stranger_types(client, "victoria@acme.com")

    theirs = stranger.start("profile")

    assert theirs["conversation_id"] != victims_conversation["conversation_id"]
    assert theirs["transcript"] is None and "Hi there!" in said(theirs)
    assert "victoria@acme.com" not in said(theirs) and "CFO" not in said(theirs)
    resumed = client.get(
        f"{CONVERSATIONS}/{victims_conversation['conversation_id']}",
        headers={"X-Conversation-Token": victims_conversation["token"]},
    )
    assert resumed.status_code == 200, "Victoria's token still opens her conversation"
    assert browser.reply(victims_conversation, 3, text="+33 1 23 45 67 89")["status"] == "completed"


def test_later_greetings_use_only_what_the_stranger_said_in_this_browser(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    stranger, _ = a_stranger_types(client, "victoria@acme.com")

    greeting = stranger.start("greeting")

    assert "Welcome back, friend (Intern)!" in said(greeting)


def test_conversations_the_known_person_starts_afterwards_stay_in_her_browser(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = victoria
    stranger, _ = a_stranger_types(client, "victoria@acme.com")
    hers = browser.start("greeting")
    browser.reply(hers, 0, choice="0")

    theirs = stranger.start("greeting")

    assert theirs["conversation_id"] != hers["conversation_id"]
    assert "Victoria" not in said(theirs)
    assert stranger.visit()["conversation"] is None, "her engaged conversation does not follow the stranger"


def test_the_strangers_answers_never_write_to_the_known_persons_record(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = victoria
    stranger, _ = a_stranger_types(client, "victoria@acme.com")

    known, claimant = person_of(db, browser.visitor_id), person_of(db, stranger.visitor_id)
    assert (known.email, known.first_name, known.title) == ("victoria@acme.com", "Victoria", "CFO")
    assert known.consent is False
    assert claimant.id != known.id
    assert (claimant.email, claimant.claimed_email, claimant.title, claimant.consent) == (
        None,
        "victoria@acme.com",
        "Intern",
        True,
    )


def test_the_marketer_sees_the_claim_on_both_people(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]], personas: Personas
) -> None:
    browser, _ = victoria
    stranger, _ = a_stranger_types(client, "victoria@acme.com")
    known, claimant = person_of(db, browser.visitor_id), person_of(db, stranger.visitor_id)
    headers = {"Authorization": f"Bearer {token_for(db, personas.mark)}"}

    hers = client.get(f"/api/v1/admin/people/{known.id}", headers=headers).json()
    theirs = client.get(f"/api/v1/admin/people/{claimant.id}", headers=headers).json()

    assert hers["claimed_by"] == [{"id": claimant.id, "name": "Anonymous visitor"}]
    assert (theirs["known"], theirs["claimed_email"], theirs["claimed_person"]) == (
        False,
        "victoria@acme.com",
        {"id": known.id, "name": "Victoria"},
    )
    found = client.get("/api/v1/admin/people", params={"q": "victoria@"}, headers=headers).json()["items"]
    assert sorted(person["id"] for person in found) == sorted([known.id, claimant.id])


def sign(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.lower().encode(), hashlib.sha256).hexdigest()


def test_a_signed_identify_makes_the_browser_the_known_person_but_her_conversation_stays_in_her_browser(
    client: TestClient, db: Database, victoria: tuple[Browser, dict[str, Any]]
) -> None:
    browser, victims_conversation = victoria
    with db.write() as session:
        site = sites.get(session, "www")
        sites.update(session, site, sites.SiteChanges(origins=["https://www.example.com"]))
        secret = site.identify_secret
    laptop = Browser(client)
    identified = client.post(
        "/api/v1/widget/identify",
        json={
            "site": "www",
            "visitor_id": laptop.visitor_id,
            "email": "victoria@acme.com",
            "signature": sign(secret, "victoria@acme.com"),
        },
        headers={"Origin": "https://www.example.com"},
    )
    assert identified.status_code == 200, identified.text

    assert person_of(db, laptop.visitor_id).id == person_of(db, browser.visitor_id).id
    assert "Welcome back, Victoria (CFO)!" in said(laptop.start("greeting"))
    assert laptop.visit()["conversation"] is None, "her running conversation does not follow her to this browser"
    assert laptop.start("profile")["conversation_id"] != victims_conversation["conversation_id"]
