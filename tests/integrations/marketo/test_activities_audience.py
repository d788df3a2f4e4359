"""Marketo activities in audiences, end to end: leads synced from the fake, their activities imported, and the
widget's visit call choosing the dialogue for a person by what they did in Marketo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.dialogues.models import Dialogue
from overture.integrations.marketo.activities_import import import_activities
from overture.integrations.marketo.sync import sync_marketo
from overture.people.models import Person, VisitorIdentity

from .client_support import START, Clock, StartMarketo, marketo
from support import publish

CLICK_EMAIL = 11
CREATED = "2024-12-20T00:00:00Z"
PAGE = "https://www.example.com/pricing"
WEBINAR_CLICKERS = {"field": "activity.marketo.clicked_email", "op": "contains", "value": "Webinar", "within_days": 7}


def webinar_dialogue() -> dict[str, Any]:
    return {
        "key": "webinar-follow-up",
        "name": "Webinar follow-up",
        "site": "www",
        "audience": WEBINAR_CLICKERS,
        "flow": {"start": "hi", "cards": {"hi": {"say": "Saw you liked our webinar email!", "end": True}}},
    }


def visit(client: TestClient, visitor_id: str | None = None) -> dict[str, Any]:
    body = {"site": "www", "url": PAGE, **({"visitor_id": visitor_id} if visitor_id else {})}
    response = client.post("/api/v1/widget/visit", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def give_email(db: Database, visitor_id: str, email: str) -> None:
    """The browser's visitor gave `email` (as a chat capture or the site's identify call would record it)."""
    with db.write() as session:
        person = session.scalar(
            select(Person)
            .join(VisitorIdentity, VisitorIdentity.person_id == Person.id)
            .where(VisitorIdentity.visitor_id == visitor_id)
        )
        assert person is not None
        person.email = email


def test_a_dialogue_for_those_who_clicked_a_webinar_email_this_week_shows_to_them_and_not_to_earlier_clickers(
    client: TestClient, db: Database, start_marketo: StartMarketo
) -> None:
    publish(db, webinar_dialogue())
    with time_machine.travel(START, tick=False):
        ann_browser, bob_browser = visit(client)["visitor_id"], visit(client)["visitor_id"]
    give_email(db, ann_browser, "ann@example.com")
    give_email(db, bob_browser, "bob@example.com")
    with marketo(start_marketo, Clock()) as (fake, marketo_client):
        ann = fake.add_lead(email="ann@example.com", createdAt=CREATED)
        bob = fake.add_lead(email="bob@example.com", createdAt=CREATED)
        sync_marketo(db, marketo_client, start=START - timedelta(days=30))
        fake.add_activity(ann, CLICK_EMAIL, START - timedelta(days=3), "Spring Webinar Invite.Email 1")
        fake.add_activity(bob, CLICK_EMAIL, START - timedelta(days=10), "Spring Webinar Invite.Email 2")
        import_activities(db, marketo_client)
    with time_machine.travel(START, tick=False):
        shown_to_ann = visit(client, ann_browser)["dialogue"]
        shown_to_bob = visit(client, bob_browser)["dialogue"]
    assert shown_to_ann is not None and shown_to_ann["key"] == "webinar-follow-up"
    assert shown_to_bob is None


def test_hundreds_of_marketo_page_visits_never_hide_a_dialogue_completed_in_chat_from_targeting(
    client: TestClient, db: Database
) -> None:
    intro = {"key": "intro", "name": "Intro", "site": "www",
             "flow": {"start": "hi", "cards": {"hi": {"say": "Hello", "end": True}}}}  # fmt: skip
    welcome_back = {**intro, "key": "welcome-back", "name": "Welcome back",
                    "audience": {"field": "activity.completed", "op": "equals", "value": "intro"}}  # fmt: skip
    publish(db, intro)
    publish(db, welcome_back)
    with time_machine.travel(START, tick=False):
        browser = visit(client)["visitor_id"]
    with db.write() as session:
        person = session.scalar(
            select(Person).join(VisitorIdentity, VisitorIdentity.person_id == Person.id)
            .where(VisitorIdentity.visitor_id == browser)
        )  # fmt: skip
        assert person is not None
        intro_id = session.scalar(select(Dialogue.id).where(Dialogue.key == "intro"))
        session.add(Activity(person_id=person.id, type="dialogue.completed", occurred_at=START - timedelta(days=2),
                             session_number=1, dialogue_id=intro_id, attributes={}))  # fmt: skip
        session.add_all(
            Activity(person_id=person.id, type="marketo.visited_web_page", session_number=0, attributes={
                "subject": f"https://www.example.com/blog/{n}"}, occurred_at=START - timedelta(hours=1, minutes=n))
            for n in range(600)
        )  # fmt: skip
    with time_machine.travel(START, tick=False):
        shown = visit(client, browser)["dialogue"]
    assert shown is not None and shown["key"] == "welcome-back"
