"""Custom routing rules against the real database: conditions checked as a dialogue's branch is, rules tried by
priority, each rule's agents rotating in the rule's own team, reordering, and deleting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from overture.db import Database
from overture.errors import Conflict, InvalidInput
from overture.scheduling import rotation, rules, teams
from overture.scheduling.models import Agent, RoutingRule, Team
from overture.users import service as users

from support import PASSWORD

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BIG = {"field": "company.employees", "op": "gte", "value": 1000}
FRENCH = {"field": "company.country", "op": "equals", "value": "FR"}
SOFTWARE = {"field": "company.industry", "op": "in", "value": ["Software", "Fintech"]}


def _agents(db: Database, *names: str) -> list[Agent]:
    with db.write() as session:
        made = []
        for name in names:
            user = users.create_user(session, f"{name.lower()}@example.com", "agent", name, PASSWORD)
            made.append(rotation.create_agent(session, user))
        session.expunge_all()
        return made


def _rule(db: Database, key: str, conditions: Any, agents: list[Agent], priority: int = 100) -> None:
    with db.write() as session:
        members = [session.get_one(Agent, agent.id) for agent in agents]
        rules.create(session, key, key.title(), conditions, members, priority=priority)


def _match(db: Database, values: dict[str, Any]) -> str | None:
    with db.read() as session:
        found = rules.matching_rule(session, values, NOW)
        return found.key if found else None


def test_the_first_rule_by_priority_whose_conditions_hold_wins(db: Database) -> None:
    ann, ben, cat = _agents(db, "Ann", "Ben", "Cat")
    _rule(db, "france", FRENCH, [ann], priority=20)
    _rule(db, "enterprise", BIG, [ben], priority=10)
    _rule(db, "software", SOFTWARE, [cat], priority=20)

    big_french = {"company.employees": 5000, "company.country": "fr"}
    assert _match(db, big_french) == "enterprise", "priority 10 is tried before 20"
    assert _match(db, {"company.employees": "250", "company.country": "FR", "company.industry": "software"}) == (
        "france"
    ), "equal priorities: the older rule first"
    assert _match(db, {"company.industry": "Fintech", "person.email": "x@y.com"}) == "software"
    assert _match(db, {"company.employees": 20}) is None, "no rule holds: the card's fallback applies"
    assert _match(db, {}) is None

    with db.write() as session:
        assert [r.key for r in rules.reorder(session, ["software", "france", "enterprise"])] == [
            "software",
            "france",
            "enterprise",
        ]
    assert _match(db, big_french) == "france"
    with db.read() as session:
        assert [(r.key, r.priority) for r in rules.list_rules(session)] == [
            ("software", 10),
            ("france", 20),
            ("enterprise", 30),
        ]


def test_nested_conditions_hold_as_in_a_dialogue_branch(db: Database) -> None:
    (ann,) = _agents(db, "Ann")
    _rule(db, "named-big", {"all": [BIG, {"not": {"field": "person.email", "op": "is_empty"}}]}, [ann])
    assert _match(db, {"company.employees": 1000, "person.email": "a@b.com"}) == "named-big"
    assert _match(db, {"company.employees": 1000, "person.email": " "}) is None


def test_a_rules_agents_rotate_in_its_own_hidden_team(db: Database) -> None:
    ann, ben = _agents(db, "Ann", "Ben")
    _rule(db, "enterprise", BIG, [ann, ben])
    with db.read() as session:
        rule = rules.get(session, "enterprise")
        team = rules.team_of(session, rule)
        assert (team.key, team.kind, team.name) == ("rule:enterprise", "rule", "Enterprise")
        assert teams.list_teams(session) == []
    routed = []
    for _ in range(3):
        with db.write() as session:
            routed.append(rotation.next_agent(session, "rule:enterprise", NOW, lambda _agent_id: True).agent_id)
    assert routed == [ann.id, ben.id, ann.id]


def test_changing_a_rules_agents_keeps_who_stays_in_place_and_the_pointer(db: Database) -> None:
    ann, ben, cat, dan = _agents(db, "Ann", "Ben", "Cat", "Dan")
    _rule(db, "enterprise", BIG, [ann, ben, cat])
    with db.write() as session:
        rotation.next_agent(session, "rule:enterprise", NOW, lambda _agent_id: True)  # Ann
    with db.write() as session:
        rule = rules.get(session, "enterprise")
        rules.update(session, rule, agents=[session.get_one(Agent, i) for i in (dan.id, cat.id, ann.id)])
    with db.read() as session:
        info = teams.info(session, rules.team_of(session, rules.get(session, "enterprise")))
        assert [(m.agent.name, m.is_next) for m in info.members] == [("Ann", False), ("Cat", True), ("Dan", False)]
    assert ben


def test_bad_rules_name_every_problem_with_its_path_and_change_nothing(db: Database) -> None:
    (ann,) = _agents(db, "Ann")
    bad_conditions = {
        "all": [
            {"field": "company.employes", "op": "gte", "value": 200},
            {"field": "company.employees", "op": "gte", "value": "many"},
            {"field": "visit.country", "op": "equals", "value": "FR"},
            {"field": "company.industry", "op": "gte", "value": "Soft"},
        ]
    }
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        rules.create(session, "Bad Key", "", bad_conditions, [], priority=-1)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("key", "Use lower-case letters, digits, - and _, starting with a letter or digit (at most 80)."),
        ("name", "Fill this in."),
        ("priority", "A whole number from 0 to 1000000."),
        ("conditions.all.0.field", "company.employes is not a field. Did you mean company.employees?"),
        ("conditions.all.1.value", "company.employees is a number, so 'gte' needs a number, not 'many'."),
        ("conditions.all.3.op", refused.value.problems[5].message),
        ("conditions.all.2.field", "visit.country: routing rules look at person.* and company.* fields only."),
        ("agents", "Pick one or more agents."),
    ]
    assert refused.value.problems[5].message.startswith(
        "The operator 'gte' does not work on company.industry (text field)"
    )
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        rules.create(session, "shape", "Shape", {"fild": "x"}, [session.get_one(Agent, ann.id)])
    assert [p.path for p in refused.value.problems] == ["conditions"]
    with db.read() as session:
        assert session.scalars(select(RoutingRule)).all() == []
        assert session.scalars(select(Team)).all() == []

    _rule(db, "enterprise", BIG, [ann])
    with db.write() as session, pytest.raises(Conflict):
        rules.create(session, "enterprise", "Again", BIG, [session.get_one(Agent, ann.id)])
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        rules.update(session, rules.get(session, "enterprise"), name="Big", conditions={"any": []}, agents=[])
    assert [p.path for p in refused.value.problems] == ["conditions.any", "agents"]
    with db.read() as session:
        rule = rules.get(session, "enterprise")
        assert (rule.name, rule.conditions) == ("Enterprise", BIG)


def test_a_rule_is_changed_and_deleted_with_its_team(db: Database) -> None:
    (ann,) = _agents(db, "Ann")
    _rule(db, "enterprise", BIG, [ann])
    with db.write() as session:
        rules.update(
            session,
            rules.get(session, "enterprise"),
            name="Big accounts",
            description="Over a thousand people.\nSeen by Ann.",
            priority=5,
            conditions=FRENCH,
        )
    with db.read() as session:
        rule = rules.get(session, "enterprise")
        assert (rule.name, rule.description, rule.priority, rule.conditions) == (
            "Big accounts",
            "Over a thousand people.\nSeen by Ann.",
            5,
            FRENCH,
        )
        assert rules.team_of(session, rule).name == "Big accounts"
    with db.write() as session:
        rules.delete(session, rules.get(session, "enterprise"))
    with db.read() as session:
        assert rules.list_rules(session) == []
        assert session.scalars(select(Team)).all() == []
        assert session.get(Agent, ann.id) is not None


def test_reordering_must_name_every_rule_once(db: Database) -> None:
    (ann,) = _agents(db, "Ann")
    _rule(db, "a", BIG, [ann])
    _rule(db, "b", FRENCH, [ann])
    with db.write() as session, pytest.raises(InvalidInput, match="every rule exactly once"):
        rules.reorder(session, ["a"])
