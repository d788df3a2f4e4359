"""The funnel read from its rollups (analytics/funnel_rollups.py): what changes after a report was read is in the
next one at once, a backlog counted in small steps gives the same funnel, and the funnel outlives the conversations
it was counted from (docs/reports.md, "How reports stay fast")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from overture.analytics import funnel_rollups, retention, rollups
from overture.analytics.retention import Windows
from overture.conversations.models import Conversation
from overture.db import Database
from overture.scheduling import meetings
from overture.scheduling.models import Meeting
from scheduling.bookings import Visitor, first_time, make_agents, publish_booking

from .reports import Chat, headers, offer, report, steps
from support import Personas, publish

T0 = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
DAY = {"from": "2026-03-16", "to": "2026-03-16"}


@pytest.fixture
def auth(db: Database, personas: Personas) -> dict[str, str]:
    return headers(db, personas)


def hello_answers(answer: dict[str, Any]) -> list[tuple[str, int]]:
    [hello] = [step for step in answer["funnel"] if step["card"] == "hello"]
    return [(item["answer"], item["chosen"]) for item in hello["answers"]]


def test_an_answer_given_after_the_report_was_read_is_in_the_next_report(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    with time_machine.travel(T0, tick=False):
        publish(db, offer())
        chat = Chat(client)
        chat.open()
        assert steps(report(client, auth, **DAY))[:2] == [
            {"card": "hello", "reached": 1, "dropped": 1},
            {"card": "ask_email", "reached": 0, "dropped": 0},
        ]
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        chat.choose("0")  # Tell me more: on to ask_email, an answer at hello

        answer = report(client, auth, **DAY)
    assert steps(answer)[:2] == [
        {"card": "hello", "reached": 1, "dropped": 0},
        {"card": "ask_email", "reached": 1, "dropped": 1},
    ]
    assert hello_answers(answer) == [("Tell me more", 1), ("No thanks", 0)]


def test_a_meeting_marked_held_after_the_report_was_read_is_held_in_the_next_report(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    day = {"from": "2027-01-12", "to": "2027-01-12"}
    with time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False):
        make_agents(db, 1)
        publish_booking(db)
        visitor = Visitor(client)
        visitor.pick(first_time(visitor.to_the_slots("ann@acme.example")))
        assert report(client, auth, key="demo", **day)["funnel_meetings"] == {"booked": 1, "held": 0, "no_show": 0}
    with db.write() as session:
        meeting = session.scalars(select(Meeting)).one()
        meetings.mark_outcome(session, meeting, "held", None, meeting.ends_at + timedelta(minutes=5))
        ended = meeting.ends_at

    with time_machine.travel(ended + timedelta(minutes=6), tick=False):
        answer = report(client, auth, key="demo", **day)
    assert answer["funnel_meetings"] == {"booked": 1, "held": 1, "no_show": 0}


def test_a_backlog_counted_in_steps_of_two_changes_gives_the_funnel_of_one_step(
    client: TestClient, db: Database, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(T0, tick=False):
        publish(db, offer())
    for minute, choice in enumerate(["0", "0", "1", "1", "1", None, "0"]):
        with time_machine.travel(T0 + timedelta(minutes=7 * minute), tick=False):
            chat = Chat(client)
            chat.open()
            if choice is not None:
                chat.choose(choice)
    monkeypatch.setattr(funnel_rollups, "CHUNK", 2)

    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert rollups.catch_up_all(db, T0 + timedelta(hours=2)) > 0
        with db.read() as session:
            checkpoints = session.scalar(select(func.count()).select_from(rollups.ReportCheckpoint))
        answer = report(client, auth, **DAY)
    assert checkpoints == 4  # the 7 conversations (one change each), read 2 at a time
    assert steps(answer) == [
        {"card": "hello", "reached": 7, "dropped": 1},
        {"card": "ask_email", "reached": 3, "dropped": 3},
        {"card": "thanks", "reached": 0, "dropped": 0},
        {"card": "bye", "reached": 3, "dropped": 0},
    ]
    assert hello_answers(answer) == [("Tell me more", 3), ("No thanks", 3)]


def test_the_funnel_stays_when_its_conversations_are_purged_after_90_days(
    client: TestClient, db: Database, auth: dict[str, str]
) -> None:
    with time_machine.travel(T0, tick=False):
        publish(db, offer())
        for choice in ("0", "1"):
            Chat(client).open()
            chat = Chat(client)
            chat.open()
            chat.choose(choice)
        before = report(client, auth, **DAY)

    later = T0 + timedelta(days=91)
    purged = retention.purge(db, Windows(), later)
    with time_machine.travel(later, tick=False):
        after = report(client, auth, **DAY)
    with db.read() as session:
        left = session.scalar(select(func.count()).select_from(Conversation))
    assert purged["anonymous transcripts"] == 4
    assert left == 0
    assert (
        steps(after)
        == steps(before)
        == [
            {"card": "hello", "reached": 4, "dropped": 2},
            {"card": "ask_email", "reached": 1, "dropped": 1},
            {"card": "thanks", "reached": 0, "dropped": 0},
            {"card": "bye", "reached": 1, "dropped": 0},
        ]
    )
    assert hello_answers(after) == [("Tell me more", 1), ("No thanks", 1)]
