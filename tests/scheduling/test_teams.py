"""Team management on top of the rotation: creating, changing and deleting teams, and the members as the Routing
page shows them (rotation order, who is next, paused, needs attention), against the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput, NotFound
from overture.scheduling import rotation, teams
from overture.scheduling.models import Agent, Team
from overture.users import service as users

from support import PASSWORD, publish

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _agent(db: Database, name: str) -> int:
    with db.write() as session:
        user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
        return rotation.create_agent(session, user).id


def _sales(db: Database, *names: str) -> list[int]:
    ids = [_agent(db, name) for name in names]
    with db.write() as session:
        team = teams.create(session, "sales", "Sales")
        for agent_id in ids:
            teams.add_agent(session, team, session.get_one(Agent, agent_id))
    return ids


def _book(db: Database) -> int | None:
    with db.write() as session:
        return rotation.next_agent(session, "sales", NOW, lambda _agent_id: True).agent_id


def _shown(db: Database) -> list[tuple[str, bool, bool]]:
    """(name, is next, paused) of each member, in rotation order, as the page reads them."""
    with db.read() as session:
        info = teams.info(session, teams.get(session, "sales"))
        return [(m.agent.name, m.is_next, m.paused) for m in info.members]


def test_a_team_is_created_changed_and_listed_without_rule_teams(db: Database) -> None:
    with db.write() as session:
        created = teams.create(session, "sales", "  Sales  ", mode="availability", credit_back=True)
        assert (created.name, created.mode, created.credit_back, created.kind) == (
            "Sales",
            "availability",
            True,
            "team",
        )
        hidden = rotation.create_team(session, "rule:vip", "VIP")
        hidden.kind = "rule"
    with db.write() as session:
        team = teams.get(session, "sales")
        teams.update(session, team, name="Sales EMEA", mode="strict", credit_back=False)
    with db.read() as session:
        assert [(t.key, t.name, t.mode, t.credit_back) for t in teams.list_teams(session)] == [
            ("sales", "Sales EMEA", "strict", False)
        ]
        with pytest.raises(NotFound):
            teams.get(session, "rule:vip")


def test_bad_team_values_are_all_named_and_nothing_changes(db: Database) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        teams.create(session, "Bad Key", "", mode="fastest")
    assert [p.path for p in refused.value.problems] == ["key", "name", "mode"]
    with db.write() as session:
        teams.create(session, "sales", "Sales")
    with db.write() as session, pytest.raises(Conflict):
        teams.create(session, "sales", "Again")
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        teams.update(session, teams.get(session, "sales"), name="x" * 201, mode="fastest", credit_back=True)
    assert [p.path for p in refused.value.problems] == ["name", "mode"]
    with db.read() as session:
        team = teams.get(session, "sales")
        assert (team.name, team.mode, team.credit_back) == ("Sales", "strict", False)


def test_the_next_agent_is_marked_and_follows_each_booking(db: Database) -> None:
    _sales(db, "Ann", "Ben", "Cat")
    assert _shown(db) == [("Ann", True, False), ("Ben", False, False), ("Cat", False, False)]
    _book(db)
    assert _shown(db) == [("Ann", False, False), ("Ben", True, False), ("Cat", False, False)]
    _book(db)
    _book(db)
    assert _shown(db)[0] == ("Ann", True, False), "after the last member, the first is next again"


def test_a_paused_agent_is_shown_paused_and_the_next_one_is_marked(db: Database) -> None:
    ann, ben, _cat = _sales(db, "Ann", "Ben", "Cat")
    _book(db)  # Ann took it: Ben is next
    with db.write() as session:
        teams.set_paused(session, teams.get(session, "sales"), ben, True)
    assert _shown(db) == [("Ann", False, False), ("Ben", False, True), ("Cat", True, False)]
    with db.write() as session:
        teams.set_paused(session, teams.get(session, "sales"), ben, False)
    assert _shown(db)[1] == ("Ben", True, False), "resumed, Ben has his turn back in his place"
    assert ann


def test_moving_an_agent_changes_the_order_but_not_the_pointer(db: Database) -> None:
    ann, ben, cat = _sales(db, "Ann", "Ben", "Cat")
    _book(db)  # Ann
    with db.write() as session:
        teams.move(session, teams.get(session, "sales"), cat, -1)  # Cat before Ben
    assert _shown(db) == [("Ann", False, False), ("Cat", True, False), ("Ben", False, False)]
    with db.write() as session:
        team = teams.get(session, "sales")
        teams.move(session, team, ann, -1)  # already first: stays
        teams.move(session, team, ann, +5)  # to the end
    assert [name for name, _, _ in _shown(db)] == ["Cat", "Ben", "Ann"]
    assert _shown(db)[0] == ("Cat", True, False), "the pointer stayed on Ann, now last: Cat, after her, is next"
    assert _book(db) == cat
    with db.write() as session:
        teams.set_order(session, teams.get(session, "sales"), [ben, cat, ann])
    assert _shown(db) == [("Ben", False, False), ("Cat", False, False), ("Ann", True, False)]
    with db.write() as session, pytest.raises(NotFound):
        teams.move(session, teams.get(session, "sales"), 999, 1)


def test_removing_the_agent_who_took_the_last_meeting_keeps_the_next_one(db: Database) -> None:
    ann, _ben, _cat = _sales(db, "Ann", "Ben", "Cat")
    _book(db)  # Ann
    with db.write() as session:
        teams.remove_agent(session, teams.get(session, "sales"), ann)
    assert _shown(db) == [("Ben", True, False), ("Cat", False, False)]


def test_members_show_their_calendar_and_why_they_need_attention(db: Database) -> None:
    ann, _ben = _sales(db, "Ann", "Ben")
    with db.write() as session:
        session.get_one(Agent, ann).attention = "The Google calendar refused the token."
    with db.read() as session:
        info = teams.info(session, teams.get(session, "sales"))
    assert [(m.agent.name, m.agent.attention, m.agent.calendar) for m in info.members] == [
        ("Ann", "The Google calendar refused the token.", None),
        ("Ben", None, None),
    ]
    assert info.next_agent is not None and info.next_agent.name == "Ben", "booking skips Ann: her calendar failed"


def test_the_agent_marked_next_is_the_one_the_next_booking_goes_to(db: Database) -> None:
    ann, ben, cat, dan = _sales(db, "Ann", "Ben", "Cat", "Dan")
    with db.write() as session:
        session.get_one(Team, teams.get(session, "sales").id).credit_back = True

    def check(step: str) -> None:
        with db.read() as session:
            shown = teams.info(session, teams.get(session, "sales")).next_agent_id
            blocked = {a.id for a in session.scalars(select(Agent).where(Agent.attention.is_not(None)))}
        with db.write() as session:
            booked = rotation.next_agent(session, "sales", NOW, lambda agent_id: agent_id not in blocked).agent_id
        assert shown == booked, step

    check("first meeting")  # Ann
    with db.write() as session:
        teams.set_paused(session, teams.get(session, "sales"), ben, True)
    check("Ben paused")  # Cat
    with db.write() as session:
        session.get_one(Agent, dan).attention = "CalDAV answers 401."
    check("Dan needs attention")  # Ann
    with db.write() as session:
        rotation.give_turn_back(session, teams.get(session, "sales").id, cat)
    check("Cat has a turn given back")  # Cat, before the pointer's order
    with db.write() as session:
        for agent_id in (ann, cat):
            teams.set_paused(session, teams.get(session, "sales"), agent_id, True)
    check("nobody can take it")
    with db.read() as session:
        assert teams.info(session, teams.get(session, "sales")).next_agent is None


def test_an_empty_team_has_nobody_next(db: Database) -> None:
    with db.write() as session:
        teams.create(session, "sales", "Sales")
    with db.read() as session:
        info = teams.info(session, teams.get(session, "sales"))
    assert (info.members, info.next_agent_id, info.next_agent) == ([], None, None)


def test_a_team_a_dialogue_books_with_cannot_be_deleted(db: Database) -> None:
    _sales(db, "Ann")
    with db.write() as session:
        teams.create(session, "support", "Support")
    publish(
        db,
        {
            "key": "demo",
            "name": "Demo",
            "flow": {
                "start": "book",
                "cards": {
                    "book": {
                        "book_meeting": {"routing": "team", "team": "sales"},
                        "on_booked": "done",
                        "on_unavailable": "done",
                    },
                    "done": {"say": "Thanks", "end": True},
                },
            },
        },
    )
    with db.write() as session, pytest.raises(Conflict, match="these dialogues book meetings with it: demo"):
        teams.delete(session, teams.get(session, "sales"))
    with db.write() as session:
        teams.delete(session, teams.get(session, "support"))
    with db.read() as session:
        assert [t.key for t in teams.list_teams(session)] == ["sales"]
        assert session.query(Team).filter(Team.key == "support").count() == 0


def test_deleting_a_team_takes_its_rotation_but_not_its_agents(db: Database) -> None:
    ann, _ben = _sales(db, "Ann", "Ben")
    with db.write() as session:
        teams.delete(session, teams.get(session, "sales"))
    with db.read() as session:
        assert teams.list_teams(session) == []
        assert [a.name for a in teams.list_agents(session)] == ["Ann", "Ben"]
        assert session.get(Agent, ann) is not None


def test_agents_are_found_by_email_in_any_case_and_unknown_ones_are_named(db: Database) -> None:
    ann = _agent(db, "Ann")
    with db.read() as session:
        assert [a.id for a in teams.agents_for_emails(session, ["ANN@example.com"])] == [ann]
        with pytest.raises(InvalidInput) as refused:
            teams.agents_for_emails(session, ["ann@example.com", "nobody@example.com", "Ann@example.com"])
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("agents.1", "nobody@example.com is not an agent."),
        ("agents.2", "Ann@example.com is given twice."),
    ]
