"""The Meetings list: who sees what, the filters (agent, status with "awaiting outcome", dates), the visitor read
from the person, the routing explanation, and the CSV of the whole filtered list."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from overture.db import Database
from overture.dialogues.models import Dialogue
from overture.errors import Forbidden, InvalidInput
from overture.scheduling import meeting_list
from overture.scheduling.models import Agent
from overture.users import service as users
from overture.users.models import User

from .rows import MONDAY, at, make_agent, make_decision, make_meeting, make_person, make_team
from support import Personas

NOW = at(4, 12)  # Wednesday noon


@dataclass
class World:
    bob: Agent
    dave: Agent


def viewer(session: Session, persona_id: int) -> User:
    return users.get_user(session, persona_id)


@pytest.fixture
def world(db: Database, personas: Personas) -> World:
    """Bob's three meetings (past unmarked, past held, upcoming) and Dave's upcoming and cancelled ones."""
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave Dee")
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        dialogue = Dialogue(key="pricing", name="Pricing page demo", draft={}, kind="dialogue")
        session.add(dialogue)
        session.flush()
        team = make_team(session, "sales", [bob, dave])
        decision = make_decision(
            session, dave, team, mode="round_robin", pointer_before=bob.id, pointer_after=dave.id,
            skipped=[{"agent_id": bob.id, "reason": "no free slot"}],
        )  # fmt: skip
        make_meeting(session, bob, at(3, 10), person=chloe, dialogue_id=dialogue.id)  # ended, unmarked
        make_meeting(session, bob, at(2, 10), person=chloe, status="held")
        make_meeting(session, bob, at(5, 10), person=chloe, status="rescheduled")
        make_meeting(session, dave, at(6, 9), person=None, routing_decision_id=decision.id, team_id=team.id,
                     calendar_state="failed", calendar_error="Google answered 503")  # fmt: skip
        make_meeting(session, dave, at(6, 9), person=chloe, status="cancelled")
        return World(bob, dave)


def listed(db: Database, persona_id: int, **filters: object) -> list[meeting_list.MeetingRow]:
    with db.read() as session:
        page = meeting_list.list_meetings(
            session,
            viewer=viewer(session, persona_id),
            now=NOW,
            filters=meeting_list.Filters(**filters),  # type: ignore[arg-type]
        )
        return page.items


def starts(rows: list[meeting_list.MeetingRow]) -> list[str]:
    return [f"{row.agent_name} {row.starts_at:%d %H:%M} {row.display_status}" for row in rows]


def test_an_admin_sees_every_meeting_latest_first(db: Database, personas: Personas, world: World) -> None:
    assert starts(listed(db, personas.alice.id)) == [
        "Dave Dee 06 09:00 cancelled",
        "Dave Dee 06 09:00 booked",
        "Bob 05 10:00 rescheduled",
        "Bob 03 10:00 awaiting_outcome",
        "Bob 02 10:00 held",
    ]


def test_a_sales_admin_sees_every_meeting_too(db: Database, personas: Personas, world: World) -> None:
    assert len(listed(db, personas.sam.id)) == 5


def test_an_agent_sees_only_their_own_meetings(db: Database, personas: Personas, world: World) -> None:
    assert starts(listed(db, personas.bob.id)) == [
        "Bob 05 10:00 rescheduled", "Bob 03 10:00 awaiting_outcome", "Bob 02 10:00 held",
    ]  # fmt: skip
    # Asking for another agent's meetings does not widen the view.
    assert listed(db, personas.bob.id, agent_id=world.dave.id) == []


def test_an_agent_without_a_profile_sees_nothing(db: Database, personas: Personas) -> None:
    with db.write() as session:
        make_meeting(session, make_agent(session, "dave@example.com", "Dave"), at(5, 10))
    assert listed(db, personas.bob.id) == []


def test_a_marketer_is_refused(db: Database, personas: Personas, world: World) -> None:
    with pytest.raises(Forbidden):
        listed(db, personas.mark.id)


def test_filter_by_agent(db: Database, personas: Personas, world: World) -> None:
    assert {row.agent_name for row in listed(db, personas.alice.id, agent_id=world.dave.id)} == {"Dave Dee"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("awaiting_outcome", ["Bob 03 10:00 awaiting_outcome"]),
        ("booked", ["Dave Dee 06 09:00 booked"]),
        ("rescheduled", ["Bob 05 10:00 rescheduled"]),
        ("held", ["Bob 02 10:00 held"]),
        ("cancelled", ["Dave Dee 06 09:00 cancelled"]),
        ("no_show", []),
    ],
)
def test_filter_by_status_as_shown(
    db: Database, personas: Personas, world: World, status: str, expected: list[str]
) -> None:
    assert starts(listed(db, personas.alice.id, status=status)) == expected


def test_a_booked_meeting_becomes_awaiting_outcome_when_its_end_passes(db: Database, personas: Personas) -> None:
    with db.write() as session:
        make_meeting(session, make_agent(session, "bob@example.com", "Bob"), at(4, 11, 30))
    with db.read() as session:
        alice = viewer(session, personas.alice.id)
        before = meeting_list.list_meetings(session, viewer=alice, now=at(4, 11, 59)).items
        after = meeting_list.list_meetings(session, viewer=alice, now=at(4, 12)).items
    assert [(row.display_status, row.status_label, row.can_mark_outcome) for row in before + after] == [
        ("booked", "Booked", False), ("awaiting_outcome", "Awaiting outcome", True),
    ]  # fmt: skip


def test_filter_by_date_range_of_the_start(db: Database, personas: Personas, world: World) -> None:
    rows = listed(db, personas.alice.id, start=at(3, 0), end=at(6, 0))
    assert starts(rows) == ["Bob 05 10:00 rescheduled", "Bob 03 10:00 awaiting_outcome"]


def test_pages_and_total(db: Database, personas: Personas, world: World) -> None:
    with db.read() as session:
        page = meeting_list.list_meetings(
            session, viewer=viewer(session, personas.alice.id), now=NOW, limit=2, offset=2
        )
    assert (page.total, starts(page.items)) == (5, ["Bob 05 10:00 rescheduled", "Bob 03 10:00 awaiting_outcome"])


def test_bad_filters_are_refused_with_each_problem(db: Database, personas: Personas) -> None:
    with db.read() as session, pytest.raises(InvalidInput) as caught:
        meeting_list.list_meetings(
            session, viewer=viewer(session, personas.alice.id), now=NOW,
            filters=meeting_list.Filters(status="lost", start=at(5, 0), end=at(4, 0)), limit=0,
        )  # fmt: skip
    assert {p.path for p in caught.value.problems} == {"status", "end", "limit"}


def test_rows_read_the_visitor_from_the_person_and_say_when_deleted(
    db: Database, personas: Personas, world: World
) -> None:
    rows = {row.display_status: row for row in listed(db, personas.alice.id)}
    assert (rows["held"].visitor_email, rows["held"].visitor_name) == ("chloe@customer.example", "Chloé Martin")
    assert (rows["booked"].visitor_email, rows["booked"].visitor_name) == (None, "deleted visitor")
    assert rows["awaiting_outcome"].dialogue_name == "Pricing page demo"


def test_rows_show_a_failing_calendar_write_and_the_routing_explanation(
    db: Database, personas: Personas, world: World
) -> None:
    row = listed(db, personas.alice.id, status="booked")[0]
    assert (row.calendar_state, row.calendar_error) == ("failed", "Google answered 503")
    assert row.routing is not None
    assert (row.routing.mode_label, row.routing.team) == ("round robin (strict)", "Sales")
    assert (row.routing.pointer_before, row.routing.pointer_after) == ("Bob", "Dave Dee")
    assert [(s.agent_name, s.reason) for s in row.routing.skipped] == [("Bob", "no free slot")]


# --- CSV ----------------------------------------------------------------------------------------------------------


def exported(db: Database, persona_id: int, **filters: object) -> list[dict[str, str]]:
    with db.read() as session:
        text = meeting_list.export_csv(
            session,
            viewer=viewer(session, persona_id),
            now=NOW,
            filters=meeting_list.Filters(**filters),  # type: ignore[arg-type]
        )
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_every_filtered_meeting_with_utc_times(db: Database, personas: Personas, world: World) -> None:
    rows = exported(db, personas.alice.id, agent_id=world.bob.id)
    assert [(r["start (UTC)"], r["end (UTC)"], r["status"]) for r in rows] == [
        ("2026-03-05T10:00:00Z", "2026-03-05T10:30:00Z", "rescheduled"),
        ("2026-03-03T10:00:00Z", "2026-03-03T10:30:00Z", "awaiting_outcome"),
        ("2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z", "held"),
    ]
    assert {(r["visitor_email"], r["visitor_name"], r["agent"]) for r in rows} == {
        ("chloe@customer.example", "Chloé Martin", "Bob")
    }
    assert rows[1]["dialogue"] == "Pricing page demo"


def test_the_csv_is_not_one_page(db: Database, personas: Personas) -> None:
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        for day in range(60):
            make_meeting(session, bob, MONDAY + timedelta(days=30 + day))
    assert len(exported(db, personas.alice.id)) == 60


def test_the_csv_gives_routing_and_calendar_trouble(db: Database, personas: Personas, world: World) -> None:
    (row,) = exported(db, personas.alice.id, status="booked")
    assert (row["visitor_name"], row["calendar"], row["calendar_error"]) == (
        "deleted visitor", "failed", "Google answered 503",
    )  # fmt: skip
    assert row["routing"] == "round robin (strict); team Sales; skipped Bob (no free slot)"


def test_the_csv_of_an_agent_holds_only_their_meetings(db: Database, personas: Personas, world: World) -> None:
    assert {r["agent"] for r in exported(db, personas.bob.id)} == {"Bob"}


def test_a_visitor_name_cannot_become_a_spreadsheet_formula(db: Database, personas: Personas) -> None:
    with db.write() as session:
        person = make_person(session, "eve@example.com", '=HYPERLINK("http://evil")', None)
        make_meeting(session, make_agent(session, "bob@example.com", "Bob"), at(5, 10), person=person)
    (row,) = exported(db, personas.alice.id)
    assert row["visitor_name"] == '\'=HYPERLINK("http://evil")'
