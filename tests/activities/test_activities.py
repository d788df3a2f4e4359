"""The activities a conversation records (DESIGN.md section 5), written in the transaction of the change they
describe. Visitor sessions end after 30 minutes of silence; the clock is frozen and moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from overture.activities.models import Activity
from overture.conversations import engine
from overture.conversations import service as conversations
from overture.conversations.models import Conversation
from overture.db import Database

from support import example, publish

URL = "/api/v1/widget/conversations"
PAGE = "https://example.com/blog/a-post"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The API's clock (overture.db.utcnow), frozen at NOW."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class Widget:
    """A scripted widget for one visitor."""

    def __init__(self, client: TestClient, visitor_id: str | None = None) -> None:
        self.client = client
        self.visitor_id = visitor_id
        self.conversation_id = ""
        self.token = ""
        self.step = 0

    def start(self, dialogue: str) -> dict[str, Any]:
        response = self.client.post(URL, json={"dialogue": dialogue, "page_url": PAGE, "visitor_id": self.visitor_id})
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        self.visitor_id, self.conversation_id, self.token = (
            answer["visitor_id"],
            answer["conversation_id"],
            answer["token"],
        )
        self.step = answer["step"]
        return answer

    def send(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(
            f"{URL}/{self.conversation_id}/{action}", json=body, headers={"X-Conversation-Token": self.token}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.step = answer["step"]
        return answer

    def choose(self, choice: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "choice": choice})

    def type(self, text: str) -> dict[str, Any]:
        return self.send("replies", {"step": self.step, "text": text})


def recorded(db: Database, type: str | None = None) -> list[Activity]:
    with db.read() as session:
        query = select(Activity).order_by(Activity.id)
        if type is not None:
            query = query.where(Activity.type == type)
        return list(session.scalars(query))


def conversation(db: Database, public_id: str) -> Conversation:
    with db.read() as session:
        found = session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        assert found is not None
        return found


# --- dialogue.triggered ----------------------------------------------------------------------------------------


def test_starting_a_conversation_records_dialogue_triggered(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")

    [triggered] = recorded(db)
    row = conversation(db, widget.conversation_id)
    assert triggered.type == "dialogue.triggered"
    assert triggered.attributes == {"page_url": PAGE, "version": 1}
    assert (triggered.conversation_id, triggered.dialogue_id) == (row.id, row.dialogue_id)
    assert (triggered.occurred_at, triggered.session_number) == (NOW, 1)


def test_dialogue_triggered_counts_once_per_visitor_per_session_and_dialogue(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    publish(db, example("pricing-demo.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    first = widget.conversation_id
    widget.send("dismiss")

    clock.shift(timedelta(minutes=10))
    widget.start("newsletter")
    assert widget.conversation_id != first, "a new conversation, in the same session"
    assert len(recorded(db, "dialogue.triggered")) == 1

    Widget(client, widget.visitor_id).start("pricing-demo")
    triggered = recorded(db, "dialogue.triggered")
    assert [t.attributes["page_url"] for t in triggered] == [PAGE, PAGE]
    assert len({t.dialogue_id for t in triggered}) == 2, "another dialogue counts on its own"


def test_a_visitor_back_after_31_minutes_of_silence_is_triggered_again(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.send("dismiss")

    clock.shift(timedelta(minutes=29))
    widget.start("newsletter")
    widget.send("dismiss")
    assert len(recorded(db, "dialogue.triggered")) == 1, "29 minutes: the same session"

    clock.shift(timedelta(minutes=31))
    widget.start("newsletter")
    triggered = recorded(db, "dialogue.triggered")
    assert [(t.session_number, t.occurred_at) for t in triggered] == [
        (1, NOW),
        (2, NOW + timedelta(minutes=60)),
    ]


# --- dialogue.engaged ------------------------------------------------------------------------------------------


def test_dialogue_engaged_is_recorded_at_the_first_reply_only(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    assert recorded(db, "dialogue.engaged") == []

    clock.shift(timedelta(seconds=5))
    widget.choose("0")
    widget.type("not an email")
    widget.send("back", {"step": widget.step})
    widget.choose("0")

    [engaged] = recorded(db, "dialogue.engaged")
    assert engaged.attributes == {"page_url": PAGE}
    assert engaged.occurred_at == NOW + timedelta(seconds=5)
    assert engaged.conversation_id == conversation(db, widget.conversation_id).id


def test_dialogue_engaged_counts_once_per_session_across_conversations(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.choose("1")  # completed

    clock.shift(timedelta(minutes=5))
    widget.start("newsletter")
    widget.choose("1")
    assert len(recorded(db, "dialogue.engaged")) == 1

    clock.shift(timedelta(minutes=31))
    widget.start("newsletter")
    widget.choose("1")
    assert [e.session_number for e in recorded(db, "dialogue.engaged")] == [1, 2]


def test_going_on_with_a_conversation_in_a_new_session_records_dialogue_engaged_again(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    publish(db, example("qualify-lead.yaml"))
    widget = Widget(client)
    widget.start("qualify-lead")
    widget.choose("0")

    clock.shift(timedelta(minutes=45))
    widget.type("Ada")
    assert [e.session_number for e in recorded(db, "dialogue.engaged")] == [1, 2]


# --- what the conversation captured and reached ----------------------------------------------------------------


def test_each_captured_field_records_field_captured_with_its_value(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("flows/qualify.yaml"), "flow")
    publish(db, example("qualify-lead.yaml"))
    widget = Widget(client)
    widget.start("qualify-lead")
    widget.choose("0")
    for text in ("Ada", "ada@agency.example", "not a number", "120", "CTO", "france", "+33 1 23 45 67 89"):
        widget.type(text)

    captured = recorded(db, "field.captured")
    assert [c.attributes for c in captured] == [
        {"field": "company.industry", "value": "SEO"},
        {"field": "person.first_name", "value": "Ada"},
        {"field": "person.email", "value": "ada@agency.example"},
        {"field": "company.employees", "value": 120},
        {"field": "person.title", "value": "CTO"},
        {"field": "company.country", "value": "FR"},
        {"field": "person.phone", "value": "+33123456789"},
    ]
    assert {c.conversation_id for c in captured} == {conversation(db, widget.conversation_id).id}


def test_a_field_set_by_the_dialogue_is_not_a_captured_field(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.choose("0")
    widget.type("ada@example.com")  # the end card sets person.consent

    assert [c.attributes["field"] for c in recorded(db, "field.captured")] == ["person.email"]


def test_a_goal_records_goal_reached_with_its_name_and_score(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    publish(db, example("flows/qualify.yaml"), "flow")
    publish(db, example("qualify-lead.yaml"))
    newsletter = Widget(client)
    newsletter.start("newsletter")
    newsletter.choose("0")
    newsletter.type("ada@example.com")
    qualify = Widget(client)
    qualify.start("qualify-lead")
    qualify.choose("2")  # just looking: the guide

    goals = recorded(db, "goal.reached")
    assert [g.attributes for g in goals] == [
        {"goal": "newsletter_signup", "score": None},
        {"goal": "guide_offered", "score": 1},
    ]
    assert goals[1].conversation_id == conversation(db, qualify.conversation_id).id


def test_a_whole_conversation_records_its_activities_in_order(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    clock.shift(timedelta(seconds=10))
    widget.choose("0")
    clock.shift(timedelta(seconds=10))
    widget.type("ada@example.com")

    row = conversation(db, widget.conversation_id)
    activities = recorded(db)
    assert [(a.type, a.occurred_at - NOW) for a in activities] == [
        ("dialogue.triggered", timedelta(0)),
        ("dialogue.engaged", timedelta(seconds=10)),
        ("field.captured", timedelta(seconds=20)),
        ("goal.reached", timedelta(seconds=20)),
        ("dialogue.completed", timedelta(seconds=20)),
    ]
    assert activities[-1].attributes == {"page_url": PAGE}
    assert {(a.conversation_id, a.dialogue_id, a.person_id) for a in activities} == {
        (row.id, row.dialogue_id, row.person_id)
    }


def test_a_dismissed_conversation_is_not_completed(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    widget.choose("0")
    widget.send("dismiss")
    assert [a.type for a in recorded(db)] == ["dialogue.triggered", "dialogue.engaged", "dialogue.dismissed"]


# --- dialogue.dropped ------------------------------------------------------------------------------------------


def start_at(db: Database, when: datetime) -> tuple[str, str]:
    with db.write() as session:
        view = conversations.start(
            session,
            dialogue_key="newsletter",
            visitor_id=None,
            page_url=PAGE,
            language=None,
            region=None,
            now=when,
        )
        assert view.token is not None
        return view.conversation.public_id, view.token


def test_drop_abandoned_marks_conversations_idle_for_a_session_as_dropped(db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    idle, idle_token = start_at(db, NOW - timedelta(minutes=45))
    with db.write() as session:
        conversations.reply(session, idle, idle_token, 0, engine.Reply(choice="0"), NOW - timedelta(minutes=31))
    recent, _ = start_at(db, NOW - timedelta(minutes=29))
    finished, finished_token = start_at(db, NOW - timedelta(hours=2))
    with db.write() as session:
        conversations.reply(session, finished, finished_token, 0, engine.Reply(choice="1"), NOW - timedelta(hours=2))

    with db.write() as session:
        assert conversations.drop_abandoned(session, NOW) == 1

    dropped = conversation(db, idle)
    assert (dropped.status, dropped.ended_at) == ("dropped", NOW)
    assert conversation(db, recent).status == "active"
    assert conversation(db, finished).status == "completed"
    [activity] = recorded(db, "dialogue.dropped")
    assert activity.attributes == {"page_url": PAGE, "step": 1}
    assert (activity.conversation_id, activity.occurred_at) == (dropped.id, NOW)

    with db.write() as session:
        assert conversations.drop_abandoned(session, NOW + timedelta(minutes=1)) == 0, "dropped once"
    assert len(recorded(db, "dialogue.dropped")) == 1


def test_a_dropped_conversation_takes_no_more_replies_and_a_new_start_begins_afresh(
    client: TestClient, db: Database, clock: time_machine.Traveller
) -> None:
    publish(db, example("newsletter.yaml"))
    widget = Widget(client)
    widget.start("newsletter")
    first = widget.conversation_id
    clock.shift(timedelta(minutes=31))
    with db.write() as session:
        assert conversations.drop_abandoned(session, NOW + timedelta(minutes=31)) == 1

    response = client.post(
        f"{URL}/{first}/replies", json={"step": 0, "choice": "0"}, headers={"X-Conversation-Token": widget.token}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "This conversation has ended (dropped). Start a new one to chat again."
    assert widget.start("newsletter")["messages"] != []
    assert widget.conversation_id != first
