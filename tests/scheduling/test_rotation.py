"""Round-robin routing of a team against the real database: the Dynamic Chat example, skips that keep their turn,
membership changes, nobody free, the ledger, and concurrent bookings serialized by the team row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.scheduling import rotation
from overture.scheduling.models import Agent, RoutingDecision, Team
from overture.scheduling.rotation import NO_FREE_SLOT, PAUSED, Assignment, Skip
from overture.users import service as users

from support import PASSWORD

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
EVERYONE: rotation.HasSlot = lambda _agent_id: True  # noqa: E731


def _agents(db: Database, count: int) -> list[int]:
    """`count` agents in a team "sales", in rotation order; returns their agent ids (agent 1 first)."""
    ids = []
    with db.write() as session:
        team = rotation.create_team(session, "sales", "Sales")
        for number in range(1, count + 1):
            user = users.create_user(session, f"agent{number}@example.com", "agent", f"Agent {number}", PASSWORD)
            agent = rotation.create_agent(session, user)
            rotation.add_member(session, team, agent)
            ids.append(agent.id)
    return ids


def _route(db: Database, has_slot: rotation.HasSlot = EVERYONE) -> Assignment:
    with db.write() as session:
        return rotation.next_agent(session, "sales", NOW, has_slot)


def _pointer(db: Database) -> int | None:
    with db.read() as session:
        return session.scalar(select(Team.last_agent_id).where(Team.key == "sales"))


def test_after_agent_3_the_next_bookings_go_to_4_then_5_then_back_to_1(db: Database) -> None:
    a1, a2, a3, a4, a5 = _agents(db, 5)
    assert [_route(db).agent_id for _ in range(3)] == [a1, a2, a3]
    assert _pointer(db) == a3

    fourth = _route(db)
    assert (fourth.pointer_before, fourth.agent_id, fourth.pointer_after) == (a3, a4, a4)
    assert [_route(db).agent_id for _ in range(2)] == [a5, a1]
    assert _pointer(db) == a1


def test_a_paused_agent_is_skipped_and_keeps_their_place(db: Database) -> None:
    a1, a2, a3, a4, a5 = _agents(db, 5)
    for _ in range(3):
        _route(db)
    with db.write() as session:
        rotation.set_paused(session, "sales", a4, True)

    skipping = _route(db)
    assert skipping.agent_id == a5
    assert skipping.skipped == (Skip(a4, PAUSED),)
    assert [_route(db).agent_id for _ in range(4)] == [a1, a2, a3, a5]

    with db.write() as session:
        rotation.set_paused(session, "sales", a4, False)
    assert [_route(db).agent_id for _ in range(5)] == [a1, a2, a3, a4, a5]


def test_round_robin_skips_agent_without_free_slot_records_why_and_keeps_their_turn_order(db: Database) -> None:
    a1, a2, a3, a4, a5 = _agents(db, 5)
    for _ in range(3):
        _route(db)

    skipping = _route(db, {a1, a2, a3, a5})
    assert (skipping.agent_id, skipping.skipped) == (a5, (Skip(a4, NO_FREE_SLOT),))
    assert (
        skipping.explanation == f"Agent {a5} is next after agent {a3} in team sales; agent {a4} skipped (no free slot)."
    )
    with db.read() as session:
        row = session.get(RoutingDecision, skipping.decision_id)
        assert row is not None
        assert (row.agent_id, row.pointer_before, row.pointer_after) == (a5, a3, a5)
        assert row.skipped == [{"agent_id": a4, "reason": "no free slot"}]

    # Agent 4 is back in the rotation where they were, between 3 and 5.
    assert [_route(db).agent_id for _ in range(5)] == [a1, a2, a3, a4, a5]


def test_removing_the_agent_who_took_the_last_meeting_gives_the_next_turn_to_the_one_after_them(db: Database) -> None:
    a1, a2, a3, a4, a5 = _agents(db, 5)
    for _ in range(3):
        _route(db)
    with db.write() as session:
        rotation.remove_member(session, "sales", a3)
    assert _pointer(db) == a2
    with db.read() as session:
        assert rotation.next_in_line(session, "sales") == a4
    assert [_route(db).agent_id for _ in range(5)] == [a4, a5, a1, a2, a4]

    with db.write() as session:
        rotation.remove_member(session, "sales", a4)  # they hold the pointer again
    assert _pointer(db) == a2
    assert _route(db).agent_id == a5


def test_removing_the_first_agent_while_they_hold_the_pointer_wraps_to_the_last(db: Database) -> None:
    a1, a2, _a3 = _agents(db, 3)
    assert _route(db).agent_id == a1
    with db.write() as session:
        rotation.remove_member(session, "sales", a1)
    assert _route(db).agent_id == a2


def test_a_new_member_joins_at_the_end_and_reordering_moves_turns_but_not_the_pointer(db: Database) -> None:
    a1, a2, a3 = _agents(db, 3)
    assert _route(db).agent_id == a1
    with db.write() as session:
        user = users.create_user(session, "late@example.com", "agent", "Late", PASSWORD)
        late = rotation.create_agent(session, user).id
        rotation.add_member(session, "sales", session.get_one(Agent, late))
    assert [_route(db).agent_id for _ in range(4)] == [a2, a3, late, a1]

    with db.write() as session:
        rotation.reorder(session, "sales", [a1, late, a3, a2])
    assert [_route(db).agent_id for _ in range(4)] == [late, a3, a2, a1]

    with db.write() as session, pytest.raises(InvalidInput, match="each of its members exactly once"):
        rotation.reorder(session, "sales", [a1, a2])
    with db.write() as session, pytest.raises(Conflict, match="already a member"):
        rotation.add_member(session, "sales", session.get_one(Agent, a1))


def test_an_empty_team_says_nobody_is_free(db: Database) -> None:
    with db.write() as session:
        rotation.create_team(session, "sales", "Sales", mode="availability")
    empty = _route(db)
    assert empty.nobody_free
    assert empty.explanation == "Nobody is free: team sales has no members."
    assert _pointer(db) is None


def test_when_every_agent_is_skipped_nobody_is_free_and_the_pointer_stays(db: Database) -> None:
    a1, a2, a3 = _agents(db, 3)
    assert _route(db).agent_id == a1
    with db.write() as session:
        rotation.set_paused(session, "sales", a2, True)

    nobody = _route(db, set())
    assert nobody.nobody_free
    assert nobody.skipped == (Skip(a2, PAUSED), Skip(a3, NO_FREE_SLOT), Skip(a1, NO_FREE_SLOT))
    assert nobody.explanation.startswith("Nobody is free in team sales: ")
    assert (nobody.pointer_before, nobody.pointer_after) == (a1, a1)
    assert _route(db).agent_id == a3


def test_a_lone_free_agent_takes_every_meeting(db: Database) -> None:
    a1, _a2 = _agents(db, 2)
    assert [_route(db, {a1}).agent_id for _ in range(3)] == [a1, a1, a1]


def test_only_users_with_the_agent_role_can_become_agents(db: Database) -> None:
    with db.write() as session:
        admin = users.create_user(session, "boss@example.com", "admin", "Boss", PASSWORD)
        with pytest.raises(InvalidInput, match="only users with the agent role"):
            rotation.create_agent(session, admin)
        with pytest.raises(InvalidInput, match="strict or availability"):
            rotation.create_team(session, "x", "X", mode="random")


def test_twenty_concurrent_bookings_follow_the_rotation_exactly(db: Database) -> None:
    agents = _agents(db, 5)
    bookings = 20
    start = threading.Barrier(bookings)

    def book(_: int) -> Assignment:
        start.wait()
        with db.write() as session:  # each booking is its own transaction on its own connection
            return rotation.next_agent(session, "sales", NOW, EVERYONE)

    with ThreadPoolExecutor(max_workers=bookings) as pool:
        results = list(pool.map(book, range(bookings)))

    in_commit_order = sorted(results, key=lambda assignment: assignment.decision_id)
    assert [a.agent_id for a in in_commit_order] == agents * 4
    # Each booking saw the pointer the previous one left: no turn was taken twice or lost.
    assert [a.pointer_before for a in in_commit_order] == [None] + [a.pointer_after for a in in_commit_order[:-1]]
    assert _pointer(db) == agents[-1]
    with db.read() as session:
        ledger = list(session.scalars(select(RoutingDecision.agent_id).order_by(RoutingDecision.id)))
    assert ledger == agents * 4
