"""Booking through the chat, over HTTP as the widget does it: offered times, the booking, routing (round robin as
Dynamic Chat does it, account owners, named agents, rules), a time taken meanwhile, nobody free, and the database
refusing overlapping meetings."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from overture.activities.models import Activity
from overture.calendars.world import calendar_world
from overture.db import Database
from overture.dialogues.document import BookMeeting as BookMeetingSpec
from overture.mail.models import OutboxMessage
from overture.people.models import Person
from overture.scheduling import accounts, booking, rotation, rules
from overture.scheduling.models import Agent, Meeting, RoutingDecision, Team
from overture.settings import Settings
from overture.users.models import User

from .bookings import Visitor, first_time, make_agents, publish_booking, texts
from support import Personas

# An offer and the pick of its first time must see one instant (see `stopped_clock`).
pytestmark = pytest.mark.usefixtures("stopped_clock")


def meetings(db: Database) -> list[Meeting]:
    with db.read() as session:
        return list(session.scalars(select(Meeting).order_by(Meeting.id)))


def agent_of(db: Database, meeting: Meeting) -> str:
    with db.read() as session:
        agent = session.get(Agent, meeting.agent_id)
        assert agent is not None
        return agent.email


def book_one(client: TestClient, email: str) -> dict[str, Any]:
    visitor = Visitor(client)
    offered = visitor.to_the_slots(email)
    return visitor.pick(first_time(offered))


@time_machine.travel(datetime(2027, 1, 12, 14, 0, tzinfo=UTC), tick=False)  # 09:00 in New York, in winter
def test_a_visitor_picks_an_offered_time_and_the_meeting_is_booked(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    publish_booking(db)
    visitor = Visitor(client, zone="America/New_York")
    visitor.start()
    asked = visitor.choose("0")
    assert asked["expected"]["kind"] == "email"
    assert "invitation" in texts(asked)[-1]
    offered = visitor.type("chloe@acme.example")
    assert offered["expected"]["kind"] == "meeting"
    offer = offered["meeting"]
    assert offer["zone"] == "America/New_York" and offer["duration_minutes"] == 30
    assert offer["agent_name"] == "Agent 1"
    # On the visitor's clock, the first step past the agent's 60 minutes' notice.
    assert first_time(offered) == "2027-01-12T10:00:00-05:00"
    start = datetime.fromisoformat(first_time(offered))

    done = visitor.pick(first_time(offered))

    assert texts(done) == ["Booked! The invitation is in your inbox."]
    assert done["status"] == "completed" and {"type": "meeting_booked", "goal": None, "field": None} in done["events"]
    ends = (start + timedelta(minutes=30)).isoformat()
    assert done["booked"] == {"start": first_time(offered), "end": ends, "zone": "America/New_York",
                              "agent_name": "Agent 1", "email": "chloe@acme.example"}  # fmt: skip
    [meeting] = meetings(db)
    assert meeting.starts_at == start and meeting.ends_at == start + timedelta(minutes=30)
    assert meeting.status == "booked" and meeting.visitor_zone == "America/New_York"
    assert agent_of(db, meeting) == "agent1@example.com"
    with db.read() as session:
        person = session.get(Person, meeting.person_id)
        assert person is not None and person.email == "chloe@acme.example"
        kinds = session.scalars(select(Activity.type).where(Activity.person_id == person.id)).all()
        assert "meeting.booked" in kinds
        sent = {tuple(m.to) for m in session.scalars(select(OutboxMessage))}
    assert ("chloe@acme.example",) in sent and ("agent1@example.com",) in sent


def test_the_five_agent_example_after_agent_3_comes_4_then_5_then_1(client: TestClient, db: Database) -> None:
    ids = make_agents(db, 5)
    publish_booking(db)
    with db.write() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        assert team is not None
        team.last_agent_id = ids[2]  # agent 3 took the last meeting

    for number in (1, 2, 3):
        book_one(client, f"visitor{number}@acme.example")

    assert [agent_of(db, m) for m in meetings(db)] == [f"agent{n}@example.com" for n in (4, 5, 1)]
    with db.read() as session:
        decisions = session.scalars(select(RoutingDecision).order_by(RoutingDecision.id)).all()
        assert [(d.pointer_before, d.pointer_after) for d in decisions] == [
            (ids[2], ids[3]), (ids[3], ids[4]), (ids[4], ids[0])]  # fmt: skip
        assert rotation.next_in_line(session, "sales") == ids[1]


def test_a_time_taken_meanwhile_gets_a_notice_and_fresh_times_not_an_error(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    publish_booking(db)
    first, second = Visitor(client), Visitor(client)
    offered_first = first.to_the_slots("ann@acme.example")
    offered_second = second.to_the_slots("bob@beta.example")
    wanted = first_time(offered_first)
    assert first_time(offered_second) == wanted

    first.pick(wanted)
    step_before = second.step
    again = second.pick(wanted)

    assert again["expected"]["kind"] == "meeting" and again["step"] == step_before + 1
    assert again["messages"][-1]["kind"] == "notice" and "taken" in again["messages"][-1]["text"]
    fresh = [time for day in again["meeting"]["days"] for time in day["times"]]
    assert wanted not in fresh and fresh
    assert len(meetings(db)) == 1
    done = second.pick(fresh[0])
    assert texts(done) == ["Booked! The invitation is in your inbox."]
    assert len(meetings(db)) == 2


def test_with_nobody_free_the_dialogue_goes_on_at_on_unavailable(client: TestClient, db: Database) -> None:
    make_agents(db, 2, hours={})  # no working hours at all
    publish_booking(db)
    answer = Visitor(client).to_the_slots("ann@acme.example", expected="none")
    assert texts(answer)[-1] == "Nobody can meet right now; we will email you."
    assert answer["expected"]["kind"] == "none" and answer["meeting"] is None
    assert meetings(db) == []


def test_a_known_visitor_is_not_asked_for_their_email_again(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    publish_booking(db)
    first = Visitor(client)
    first.pick(first_time(first.to_the_slots("ann@acme.example")))
    again = Visitor(client)
    again.start(visitor_id=first.visitor_id)  # the same browser, another day
    offered = again.choose("0")
    assert offered["expected"]["kind"] == "meeting" and offered["meeting"]["days"]


def test_an_account_owner_takes_their_accounts_visitors(client: TestClient, db: Database) -> None:
    ids = make_agents(db, 3)
    publish_booking(db)
    with db.write() as session:
        accounts.add(session, "Acme Corp", "acme.example", "agent3@example.com")

    book_one(client, "ann@acme.example")
    book_one(client, "bob@beta.example")

    assert [agent_of(db, m) for m in meetings(db)] == ["agent3@example.com", "agent1@example.com"]
    with db.read() as session:
        decision = session.get(RoutingDecision, meetings(db)[0].routing_decision_id)
        assert decision is not None and decision.mode == "account" and "Acme Corp" in decision.note
        team = session.scalar(select(Team).where(Team.key == "sales"))
        assert team is not None and team.last_agent_id == ids[0]  # the account booking took no turn


def test_an_account_owner_with_no_free_time_falls_back_to_the_team(client: TestClient, db: Database) -> None:
    make_agents(db, 1)
    make_agents(db, 1, team="owners", hours={}, first=9)
    publish_booking(db)
    with db.write() as session:
        accounts.add(session, "Acme Corp", "acme.example", "agent9@example.com")
    book_one(client, "ann@acme.example")
    assert [agent_of(db, m) for m in meetings(db)] == ["agent1@example.com"]


def test_a_card_can_name_one_agent(client: TestClient, db: Database) -> None:
    make_agents(db, 3)
    publish_booking(db, routing="agent", agent="agent2@example.com", team=None)
    book_one(client, "ann@acme.example")
    assert [agent_of(db, m) for m in meetings(db)] == ["agent2@example.com"]


def test_rules_route_by_company_and_the_rest_go_to_the_fallback_team(client: TestClient, db: Database) -> None:
    make_agents(db, 2)
    make_agents(db, 1, team="enterprise", first=7)
    publish_booking(db, routing="rules", team="sales")
    with db.write() as session:
        seven = session.scalar(select(Agent).join(User).where(User.email == "agent7@example.com"))
        assert seven is not None
        rules.create(session, key="big", name="Big companies", description="", priority=1,
                     conditions={"field": "person.email", "op": "ends_with", "value": "@big.example"},
                     agents=[seven])  # fmt: skip

    book_one(client, "ann@big.example")
    book_one(client, "bob@small.example")

    assert [agent_of(db, m) for m in meetings(db)] == ["agent7@example.com", "agent1@example.com"]


def test_the_database_refuses_two_overlapping_meetings_of_one_agent(db: Database) -> None:
    [agent_id] = make_agents(db, 1)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def row(number: int, begins: datetime, status: str = "booked") -> dict[str, Any]:
        return {"public_id": f"m_{number}", "uid": f"{number}@test", "sequence": 0, "agent_id": agent_id,
                "title": "Demo", "starts_at": begins, "ends_at": begins + timedelta(minutes=30),
                "visitor_zone": "UTC", "meeting_link": "", "status": status, "calendar_state": "none",
                "calendar_attempts": 0, "reminders_sent": [], "calendar_removals": [],
                "created_at": start, "updated_at": start}  # fmt: skip

    with db.write() as session:
        session.execute(insert(Meeting).values(row(1, start)))
        session.execute(insert(Meeting).values(row(2, start + timedelta(minutes=30))))  # touching is fine
        session.execute(insert(Meeting).values(row(3, start + timedelta(minutes=10), "cancelled")))
    with pytest.raises(DBAPIError, match="meetings_no_overlap"), db.write() as session:  # both engines name it
        session.execute(insert(Meeting).values(row(4, start + timedelta(minutes=15))))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 3


@pytest.mark.parametrize("routing", ["team", "agent"])
def test_visitors_booking_the_same_time_at_once_get_one_meeting(db: Database, routing: str) -> None:
    """Ten bookings of one time with the only agent, each in its own transaction, at once: one meeting. With a
    team the team row serializes them; naming the agent, only the database's overlap rule stands in the way."""
    [agent_id] = make_agents(db, 1)
    world = calendar_world(Settings(database_url=db.engine.url.render_as_string(False)), db, "k" * 40)
    spec = BookMeetingSpec(routing=routing, team="sales" if routing == "team" else None,
                           agent="agent1@example.com" if routing == "agent" else None)  # fmt: skip
    now = datetime.now(UTC)
    people_ids = []
    with db.write() as session:
        for number in range(10):
            person = Person(email=f"visitor{number}@race.example")
            session.add(person)
            session.flush()
            people_ids.append(person.id)
    requests = [booking.BookingRequest(spec=spec, person_id=person_id, values={}) for person_id in people_ids]
    start = booking.offer(world, requests[0], now).slots[0].start
    prepared = [booking.prepare(world, request, start, now) for request in requests]
    barrier = threading.Barrier(len(prepared))

    def book(item: booking.Prepared | booking.Unavailable) -> str:
        assert isinstance(item, booking.Prepared)
        barrier.wait()
        with db.write() as session:
            return type(booking.book(session, world, item, visitor_zone="UTC", now=now)).__name__

    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        outcomes = sorted(pool.map(book, prepared))

    assert outcomes == ["Booked"] + ["Taken"] * 9
    assert [(m.agent_id, m.starts_at) for m in meetings(db)] == [(agent_id, start)]


def test_an_availability_team_offers_the_union_and_books_the_first_agent_free_after_the_pointer(
    client: TestClient, db: Database
) -> None:
    ids = make_agents(db, 3, mode="availability")
    publish_booking(db)
    with db.write() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        assert team is not None
        team.last_agent_id = ids[2]  # agent 1 is next
    first = Visitor(client)
    wanted = first_time(first.to_the_slots("ann@acme.example"))
    first.pick(wanted)  # agent 1 takes it
    with db.write() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        assert team is not None
        team.last_agent_id = ids[2]  # agent 1 would be next again, but is busy at that time

    second = Visitor(client)
    offered = second.to_the_slots("bob@beta.example")
    assert offered["meeting"]["agent_name"] is None  # a team's times: who takes it is decided at booking
    assert wanted in [time for day in offered["meeting"]["days"] for time in day["times"]]
    second.pick(wanted)

    assert [agent_of(db, m) for m in meetings(db)] == ["agent1@example.com", "agent2@example.com"]
    with db.read() as session:
        decision = session.get(RoutingDecision, meetings(db)[1].routing_decision_id)
        assert decision is not None and decision.skipped == [{"agent_id": ids[0], "reason": rotation.NO_FREE_SLOT}]


def test_a_rules_card_with_no_matching_rule_and_no_team_goes_on_at_on_unavailable(
    client: TestClient, db: Database
) -> None:
    make_agents(db, 1)
    publish_booking(db, routing="rules", team=None)
    answer = Visitor(client).to_the_slots("ann@acme.example", expected="none")
    assert texts(answer)[-1] == "Nobody can meet right now; we will email you."
    assert meetings(db) == []


def test_a_turn_given_back_is_taken_first_and_the_pointer_stays(client: TestClient, db: Database) -> None:
    ids = make_agents(db, 3)
    publish_booking(db)
    with db.write() as session:
        team = session.scalar(select(Team).where(Team.key == "sales"))
        assert team is not None
        team.credit_back, team.last_agent_id = True, ids[0]
        assert rotation.give_turn_back(session, team.id, ids[2])

    first = Visitor(client)
    offered = first.to_the_slots("ann@acme.example")
    assert offered["meeting"]["agent_name"] == "Agent 3", "the offer names who booking will pick"
    first.pick(first_time(offered))
    book_one(client, "bob@beta.example")

    assert [agent_of(db, m) for m in meetings(db)] == ["agent3@example.com", "agent2@example.com"]
    with db.read() as session:
        modes = [d.mode for d in session.scalars(select(RoutingDecision).order_by(RoutingDecision.id))]
    assert modes == ["credit_back", "strict"]


BREAK_MEETINGS = {
    "sqlite": ["CREATE TRIGGER broken BEFORE INSERT ON meetings BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"],
    "postgresql": [
        "CREATE FUNCTION broken() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER broken BEFORE INSERT ON meetings FOR EACH ROW EXECUTE FUNCTION broken()",
    ],
}
MEND_MEETINGS = {
    "sqlite": ["DROP TRIGGER broken"],
    "postgresql": ["DROP TRIGGER broken ON meetings", "DROP FUNCTION broken()"],
}


def test_a_booking_that_breaks_tells_the_agent_and_the_admins(app: FastAPI, db: Database, personas: Personas) -> None:
    make_agents(db, 1)
    publish_booking(db)
    dialect = db.engine.dialect.name
    with TestClient(app, raise_server_exceptions=False) as client:
        visitor = Visitor(client)
        offered = visitor.to_the_slots("ann@acme.example")
        with db.engine.begin() as connection:
            for statement in BREAK_MEETINGS[dialect]:
                connection.exec_driver_sql(statement)
        try:
            response = visitor.call("meeting", {"step": visitor.step, "start": first_time(offered)})
        finally:
            with db.engine.begin() as connection:
                for statement in MEND_MEETINGS[dialect]:
                    connection.exec_driver_sql(statement)

    assert response.status_code == 500
    assert meetings(db) == []
    with db.read() as session:
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.subject == "A meeting could not be booked"))
        sent = {(tuple(m.to), "ann@acme.example" in m.text_body and "the disk is full" in m.text_body) for m in told}
    assert sent == {(("agent1@example.com",), True), ((personas.alice.email,), True)}


def test_a_visitor_who_takes_a_few_minutes_keeps_the_first_time_offered(client: TestClient, db: Database) -> None:
    make_agents(db, 1)  # every hour of every day, 60 minutes' notice
    publish_booking(db)
    with time_machine.travel(datetime(2027, 1, 12, 9, 59, 30, tzinfo=UTC), tick=False) as clock:
        visitor = Visitor(client, zone="UTC")
        offered = visitor.to_the_slots("ann@acme.example")
        assert first_time(offered) == "2027-01-12T11:00:00Z"
        clock.move_to(datetime(2027, 1, 12, 10, 5, tzinfo=UTC))  # the notice now ends after 11:00

        done = visitor.pick(first_time(offered))

    assert texts(done) == ["Booked! The invitation is in your inbox."]
    assert [m.starts_at for m in meetings(db)] == [datetime(2027, 1, 12, 11, 0, tzinfo=UTC)]


def test_a_time_offered_more_than_ten_minutes_ago_inside_the_notice_is_offered_afresh(
    client: TestClient, db: Database
) -> None:
    make_agents(db, 1)
    publish_booking(db)
    with time_machine.travel(datetime(2027, 1, 12, 9, 59, 30, tzinfo=UTC), tick=False) as clock:
        visitor = Visitor(client, zone="UTC")
        offered = visitor.to_the_slots("ann@acme.example")
        clock.move_to(datetime(2027, 1, 12, 10, 12, tzinfo=UTC))

        again = visitor.pick(first_time(offered))

    assert texts(again) == ["That time was just taken. Here are the times still free."]
    assert first_time(again) == "2027-01-12T11:30:00Z" and meetings(db) == []
