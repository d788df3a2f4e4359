"""The funnel's additions against hand-counted fixtures: which answer the visitors chose at each card of choices,
and the follow-through to the meeting booked and held (docs/reports.md, "The funnel")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from overture.db import Database
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from .reports import Chat, headers, offer, report
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
DAY = {"from": "2026-03-16", "to": "2026-03-16"}


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


def answers(report_: dict[str, Any], card: str) -> list[tuple[str, int]]:
    [step] = [step for step in report_["funnel"] if step["card"] == card]
    return [(item["answer"], item["chosen"]) for item in step["answers"]]


def survey() -> dict[str, Any]:
    """size (buttons: one in two languages, one personalised) -> role (options) -> done."""
    return {
        "key": "survey",
        "name": "Survey",
        "site": "default",
        "language": "en",
        "flow": {
            "start": "size",
            "cards": {
                "size": {
                    "say": "How big is your team?",
                    "buttons": [
                        {"label": {"en": "Small", "fr": "Petite"}, "goto": "role"},
                        {"label": "Large, {{ person.first_name or 'friend' }}", "goto": "role"},
                        {"label": "Just me", "goto": "done"},
                    ],
                },
                "role": {
                    "ask": "Your role?",
                    "capture": "person.title",
                    "options": ["Marketing", "Sales"],
                    "goto": "done",
                },  # fmt: skip
                "done": {"say": "Thanks!", "end": True},
            },
        },
    }


@time_machine.travel(T0, tick=False)
def test_the_funnel_counts_each_answer_chosen_once_per_conversation_including_labels_never_chosen(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    publish(db, survey())
    english = Chat(client)
    english.open("survey")
    english.choose("0")  # Small
    english.type("marketing")  # typed, matched to the option Marketing
    french = client.post("/api/v1/widget/conversations", json={"dialogue": "survey", "language": "fr"})
    assert french.status_code == 201, french.text
    in_french = Chat(client)
    in_french.conversation_id, in_french.token = french.json()["conversation_id"], french.json()["token"]
    in_french.step = french.json()["step"]
    in_french.choose("0")  # Petite: counted as Small
    in_french.type("nobody")  # refused: no such option, not an answer
    in_french.type("Sales")
    personalised = Chat(client)
    personalised.open("survey")
    personalised.choose("1")  # "Large, friend"
    personalised.choose("0")  # Marketing, by the option's button
    changed = Chat(client)
    changed.open("survey")
    changed.choose("1")
    changed.back()  # Large is undone...
    changed.choose("0")  # ...and Small taken instead

    answer = report(client, auth, key="survey", **DAY)
    assert answers(answer, "size") == [("Small", 3), ("Large, {{ person.first_name or 'friend' }}", 1), ("Just me", 0)]
    assert answers(answer, "role") == [("Marketing", 2), ("Sales", 1)]
    assert answers(answer, "done") == []


@time_machine.travel(T0, tick=False)
def test_an_answer_of_an_older_version_is_listed_after_the_live_versions_choices(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    publish(db, offer())
    old = Chat(client)
    old.open()
    old.choose("1")  # No thanks, on version 1
    renamed = offer()
    renamed["flow"]["cards"]["hello"]["buttons"][1]["label"] = "Not now"
    publish(db, renamed)
    new = Chat(client)
    new.open()
    new.choose("0")

    assert answers(report(client, auth, **DAY), "hello") == [("Tell me more", 1), ("Not now", 0), ("No thanks", 1)]
    assert answers(report(client, auth, version=1, **DAY), "hello") == [("Tell me more", 0), ("No thanks", 1)]


@time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False)
def test_the_funnel_follows_through_to_the_meeting_booked_then_held(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    make_agents(db, 3)
    publish_booking(db)
    for email in ("ann@acme.example", "bea@acme.example", "cat@acme.example"):
        visitor = Visitor(client)
        visitor.pick(first_time(visitor.to_the_slots(email)))
    Visitor(client).to_the_slots("dan@acme.example")  # shown the times, booked nothing
    with db.write() as session:
        ann, bea, _cat = session.scalars(select(Meeting.id).order_by(Meeting.id)).all()
        session.execute(update(Meeting).where(Meeting.id == ann).values(status="held"))
        session.execute(update(Meeting).where(Meeting.id == bea).values(status="no_show"))

    answer = report(client, auth, key="demo", **{"from": "2027-01-12", "to": "2027-01-12"})
    assert answer["funnel_meetings"] == {"booked": 3, "held": 1, "no_show": 1}
    assert [(step["card"], step["reached"]) for step in answer["funnel"]][:2] == [("hello", 4), ("book", 4)]
