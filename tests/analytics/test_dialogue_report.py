"""A dialogue's report against hand-counted fixtures: visitors run the dialogue through the widget API on a pinned
clock, and the figures are read through the admin API (docs/reports.md has the definitions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from .reports import Chat, figures, headers, offer, report, steps
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday
DAY = "2026-03-16"
NOTHING = {"triggered": 0, "engaged": 0, "completed": 0, "dismissed": 0, "people_acquired": 0,
           "meetings_booked": 0, "goals": {}}  # fmt: skip


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


def test_a_visitor_back_after_31_idle_minutes_counts_twice_and_after_29_once(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    early, late = Chat(client), Chat(client)
    early.open()
    early.close()
    late.open()
    late.close()
    clock.shift(timedelta(minutes=29))
    early.open()  # 29 minutes after they were last seen: the same visitor session
    early.close()
    clock.shift(timedelta(minutes=2))
    late.open()  # 31 minutes: a new one
    late.close()

    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert figures(answer) == {**NOTHING, "triggered": 3, "dismissed": 4}
    assert answer["engagement_rate"] == 0.0 and answer["conversion_rate"] is None


def test_a_visitor_shown_the_dialogue_on_three_pages_of_one_session_counts_once(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    chat = Chat(client)
    chat.open(page="https://example.com/pricing")
    chat.choose("1")  # No thanks: completed
    clock.shift(timedelta(minutes=10))
    chat.open(page="https://example.com/features")
    chat.choose("1")  # engages again, in the same session
    clock.shift(timedelta(minutes=10))
    chat.open(page="https://example.com/blog")
    chat.close()

    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert figures(answer) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 2, "dismissed": 1}
    assert answer["engagement_rate"] == 1.0


def test_engaged_completed_dismissed_goals_and_people_acquired_once_per_person(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    ada = Chat(client)
    ada.open()
    ada.choose("0")
    ada.type("ada@example.com")  # acquired, goal, completed
    clock.shift(timedelta(minutes=31))
    ada.open()  # a new session: triggered and engaged again
    ada.choose("0")
    ada.type("ada@example.com")  # the same person: not acquired again
    no_thanks = Chat(client)
    no_thanks.open()
    no_thanks.choose("1")
    closer = Chat(client)
    closer.open()
    closer.close()  # triggered, dismissed, never engaged
    quitter = Chat(client)
    quitter.open()
    quitter.choose("0")
    quitter.close()  # engaged then dismissed
    other_browser = Chat(client)
    other_browser.open()
    other_browser.choose("0")
    other_browser.type("ADA@example.com")  # Ada again, in a browser not known as hers: still one person

    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert figures(answer) == {
        "triggered": 6,
        "engaged": 5,
        "completed": 4,
        "dismissed": 2,
        "people_acquired": 1,
        "meetings_booked": 0,
        "goals": {"signed_up": 3},
    }
    assert answer["engagement_rate"] == 5 / 6 and answer["conversion_rate"] == 1 / 5
    assert figures(answer["daily"][DAY]) == figures(answer)


def test_two_people_giving_their_emails_are_two_acquired(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    for email in ("ada@example.com", "grace@example.com"):
        chat = Chat(client)
        chat.open()
        chat.choose("0")
        chat.type(email)
    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert (answer["people_acquired"], answer["conversion_rate"]) == (2, 1.0)


@time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False)
def test_a_meeting_booked_in_the_dialogue_counts(client: TestClient, db: Database, auth: dict[str, str]) -> None:
    make_agents(db, 1)
    publish_booking(db)
    visitor = Visitor(client)
    offered = visitor.to_the_slots("chloe@acme.example")
    done = visitor.pick(first_time(offered))
    assert done["status"] == "completed"

    answer = report(client, auth, key="demo", **{"from": "2027-01-12", "to": "2027-01-12"})
    assert figures(answer) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 1, "people_acquired": 1,
                               "meetings_booked": 1}  # fmt: skip


def test_the_days_are_the_viewers_and_a_session_across_midnight_counts_each_figure_on_its_day(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    clock.move_to(datetime(2026, 3, 16, 21, 50, tzinfo=UTC))  # 22:50 in Paris
    Chat(client).open()
    clock.move_to(datetime(2026, 3, 16, 22, 50, tzinfo=UTC))  # 23:50 in Paris
    late = Chat(client)
    late.open()
    clock.move_to(datetime(2026, 3, 16, 23, 5, tzinfo=UTC))  # 00:05 on the 17th in Paris, the same session
    late.choose("1")
    clock.move_to(datetime(2026, 3, 16, 23, 10, tzinfo=UTC))  # 00:10 on the 17th in Paris
    Chat(client).open()

    paris = report(client, auth, **{"from": "2026-03-16", "to": "2026-03-17", "zone": "Europe/Paris"})
    assert figures(paris) == {**NOTHING, "triggered": 3, "engaged": 1, "completed": 1}
    assert figures(paris["daily"]["2026-03-16"]) == {**NOTHING, "triggered": 2}
    assert figures(paris["daily"]["2026-03-17"]) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 1}
    assert paris["daily"]["2026-03-17"]["engagement_rate"] == 1.0
    assert paris["daily"]["2026-03-16"]["conversion_rate"] is None

    utc = report(client, auth, **{"from": "2026-03-16", "to": "2026-03-17"})
    assert utc["zone"] == "UTC"
    assert figures(utc["daily"]["2026-03-16"]) == {**NOTHING, "triggered": 3, "engaged": 1, "completed": 1}
    assert figures(utc["daily"]["2026-03-17"]) == NOTHING

    only_the_17th = report(client, auth, **{"from": "2026-03-17", "to": "2026-03-17", "zone": "Europe/Paris"})
    assert figures(only_the_17th) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 1}
    assert list(only_the_17th["daily"]) == ["2026-03-17"]


def test_the_default_period_is_the_last_30_days_ending_today_in_the_zone(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    clock.move_to(datetime(2026, 3, 17, 23, 30, tzinfo=UTC))  # already the 18th in Tokyo
    Chat(client).open()
    clock.shift(timedelta(days=1))  # the report is read the next day
    tokyo = report(client, auth, zone="Asia/Tokyo")
    assert (tokyo["from"], tokyo["to"], len(tokyo["daily"])) == ("2026-02-18", "2026-03-19", 30)
    assert tokyo["daily"]["2026-03-18"]["triggered"] == 1 and tokyo["triggered"] == 1
    utc = report(client, auth)
    assert (utc["from"], utc["to"], utc["version"]) == ("2026-02-17", "2026-03-18", None)
    assert utc["daily"]["2026-03-17"]["triggered"] == 1


def test_the_version_filter_counts_the_conversations_of_that_version(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    first, second = Chat(client), Chat(client)
    first.open()
    first.choose("0")  # engaged on version 1
    second.open()
    cards = offer()["flow"]["cards"]
    assert (
        publish(
            db, {**offer(), "flow": {"start": "ask_email", "cards": {k: cards[k] for k in ("ask_email", "thanks")}}}
        )
        == 2
    )
    first.type("ada@example.com")  # version 1 goes on, and ends, on version 1
    third = Chat(client)
    third.open()
    third.type("grace@example.com")  # version 2 starts at the question: the answer engages

    period = {"from": DAY, "to": DAY}
    one = report(client, auth, version=1, **period)
    assert figures(one) == {**NOTHING, "triggered": 2, "engaged": 1, "completed": 1, "people_acquired": 1,
                            "goals": {"signed_up": 1}}  # fmt: skip
    two = report(client, auth, version=2, **period)
    assert figures(two) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 1, "people_acquired": 1,
                            "goals": {"signed_up": 1}}  # fmt: skip
    every = report(client, auth, **period)
    assert every["triggered"] == 3 and every["people_acquired"] == 2 and every["version"] is None
    assert steps(two) == [
        {"card": "ask_email", "reached": 1, "dropped": 0},
        {"card": "thanks", "reached": 1, "dropped": 0},
    ]
    assert [(s["card"], s["reached"]) for s in one["funnel"]] == [("hello", 2), ("ask_email", 1), ("thanks", 1),
                                                                  ("bye", 0)]  # fmt: skip


def test_the_funnel_counts_the_conversations_reaching_each_card_and_where_they_stopped(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, offer())
    closed_at_hello = Chat(client)
    closed_at_hello.open()
    closed_at_hello.close()
    closed_at_the_question = Chat(client)
    closed_at_the_question.open()
    closed_at_the_question.choose("0")
    closed_at_the_question.close()
    signed_up = Chat(client)
    signed_up.open()
    signed_up.choose("0")
    signed_up.type("ada@example.com")
    said_no = Chat(client)
    said_no.open()
    said_no.choose("1")
    changed_their_mind = Chat(client)
    changed_their_mind.open()
    changed_their_mind.choose("0")
    changed_their_mind.back()  # ask_email was reached all the same
    changed_their_mind.choose("1")
    still_thinking = Chat(client)
    still_thinking.open()
    still_thinking.choose("0")  # waits at the question: it has not completed

    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert steps(answer) == [
        {"card": "hello", "reached": 6, "dropped": 1},
        {"card": "ask_email", "reached": 4, "dropped": 2},
        {"card": "thanks", "reached": 1, "dropped": 0},
        {"card": "bye", "reached": 2, "dropped": 0},
    ]
    assert figures(answer) == {**NOTHING, "triggered": 6, "engaged": 5, "completed": 3, "dismissed": 2,
                               "people_acquired": 1, "goals": {"signed_up": 1}}  # fmt: skip


def test_the_funnel_lists_a_called_flows_cards_after_the_dialogues_own(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    publish(db, {"key": "ask", "name": "Ask", "flow": {"start": "email", "cards": {
        "email": {"ask": "Your email?", "capture": "person.email", "goto": "done"},
        "done": {"end": True}}}}, "flow")  # fmt: skip
    publish(db, {"key": "caller", "name": "Caller", "site": "default", "flow": {"start": "hello", "cards": {
        "hello": {"say": "Hi!", "flow": "ask", "goto": "bye"}, "bye": {"say": "Bye.", "end": True}}}})  # fmt: skip
    waiting = Chat(client)
    waiting.open("caller")
    done = Chat(client)
    done.open("caller")
    done.type("ada@example.com")

    answer = report(client, auth, key="caller", **{"from": DAY, "to": DAY})
    assert steps(answer) == [
        {"card": "hello", "reached": 2, "dropped": 0},
        {"card": "bye", "reached": 1, "dropped": 0},
        {"card": "ask:email", "reached": 2, "dropped": 1},
        {"card": "ask:done", "reached": 1, "dropped": 0},
    ]
    assert answer["people_acquired"] == 1


def test_dialogue_tests_run_at_publication_record_nothing(
    client: TestClient, db: Database, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    document = {**offer(), "tests": [{"name": "signs up", "answers": ["Tell me more", "ada@example.com"],
                                      "expect": {"goals": ["signed_up"], "ends": "completed"}}]}  # fmt: skip
    created = client.post("/api/v1/admin/dialogues", json=document, headers=auth)
    assert created.status_code == 201, created.text
    published = client.post("/api/v1/admin/dialogues/offer/publish", headers=auth)
    assert published.status_code == 200, published.text

    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
    answer = report(client, auth, **{"from": DAY, "to": DAY})
    assert figures(answer) == NOTHING
    assert (answer["engagement_rate"], answer["conversion_rate"]) == (None, None)
    assert steps(answer) == [{"card": card, "reached": 0, "dropped": 0} for card in
                                ("hello", "ask_email", "thanks", "bye")]  # fmt: skip


def test_a_reusable_flow_opened_on_its_own_has_its_report(client: TestClient, db: Database, auth: dict[str, Any],
                                                          clock: time_machine.Traveller) -> None:  # fmt: skip
    publish(db, {"key": "ask", "name": "Ask", "flow": {"start": "email", "cards": {
        "email": {"ask": "Your email?", "capture": "person.email", "goto": "done"},
        "done": {"end": True}}}}, "flow")  # fmt: skip
    chat = Chat(client)
    chat.open("ask")
    chat.type("ada@example.com")
    answer = report(client, auth, key="ask", **{"from": DAY, "to": DAY})
    assert figures(answer) == {**NOTHING, "triggered": 1, "engaged": 1, "completed": 1, "people_acquired": 1}
