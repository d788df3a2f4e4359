"""Custom routing rules: named, described, tried by priority (lowest number first; equal numbers in the order the
rules were made). A rule holds when its conditions (a CONDITION of the dialogue grammar, DESIGN.md section 4) hold
over the visitor's person and company fields; its meeting then goes to its agents, who rotate in a team of kind
"rule" that the rule owns (key `rule:<rule key>`, never shown among the teams).

Conditions are checked by the dialogue validation itself (dialogues/validation.py, the code that checks a branch's
`if`), so a rule accepts exactly the fields, operators and values a dialogue's branch accepts, limited to person.*
and company.* fields (those are what booking knows of the visitor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.dialogues.document import AllOf, AnyOf, Condition, FieldCondition, NotOf
from overture.dialogues.validation import validate
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.service import field_schema
from overture.scheduling import rotation, teams
from overture.scheduling.models import Agent, RoutingRule, Team
from overture.targeting.conditions import describe, evaluate

TEAM_PREFIX = "rule:"
KEY_LIMIT = 80 - len(TEAM_PREFIX)
PRIORITY_LIMIT = 1_000_000
ROUTING_FIELDS = ("person.", "company.")
# Where the condition sits in the flow document it is validated in (see check_conditions).
_WRAPPED = "flow.cards.rule.branch.0.if"


@cache
def _adapter() -> TypeAdapter[Condition]:
    return TypeAdapter(Condition)


def parse_conditions(data: Any) -> Condition:
    """A stored condition as the model `evaluate` walks."""
    return _adapter().validate_python(data)


def _fields_of(condition: Condition, path: str) -> Iterator[tuple[str, str]]:
    match condition:
        case AllOf(all=parts):
            for i, part in enumerate(parts):
                yield from _fields_of(part, f"{path}.all.{i}")
        case AnyOf(any=parts):
            for i, part in enumerate(parts):
                yield from _fields_of(part, f"{path}.any.{i}")
        case NotOf(not_=part):
            yield from _fields_of(part, f"{path}.not")
        case FieldCondition(field=name):
            yield f"{path}.field", name


def check_conditions(session: Session, data: Any) -> dict[str, Any]:
    """The conditions as stored (normalised plain data). Raises InvalidInput with every problem, paths starting
    with `conditions` (`conditions.all.1.op`).

    The condition is checked as the `if` of a branch card in a one-card flow, by the dialogue validation, so the
    rules and the messages are the dialogues' own."""
    document = {
        "key": "routing-rule",
        "name": "Routing rule",
        "flow": {
            "start": "rule",
            "cards": {"rule": {"branch": [{"if": data, "goto": "done"}, {"else": "done"}]}, "done": {"end": True}},
        },
    }
    parsed, found = validate(document, fields=field_schema(session), flows=None, kind="flow")
    problems = [Problem(_unwrap(p.path), p.message) for p in found]
    condition = None
    if parsed is not None:
        branch = parsed.flow.cards["rule"].branch or []
        condition = getattr(branch[0], "if_", None) if branch else None
    if condition is not None:
        for path, name in _fields_of(condition, "conditions"):
            if not name.startswith(ROUTING_FIELDS) and not any(p.path == path for p in problems):
                problems.append(Problem(path, f"{name}: routing rules look at person.* and company.* fields only."))
    if problems or condition is None:
        count = len(problems)
        raise InvalidInput(f"The conditions have {count} problem{'s' if count != 1 else ''}.", problems)
    data_out: dict[str, Any] = condition.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data_out


def described(rule: RoutingRule) -> str:
    """The rule's conditions in words, for lists: "all of (company.employees gte 1000; ...)"."""
    try:
        return describe(parse_conditions(rule.conditions))
    except ValueError:
        return "(conditions that can no longer be read: edit the rule)"


def _unwrap(path: str) -> str:
    return "conditions" + path.removeprefix(_WRAPPED) if path.startswith(_WRAPPED) else "conditions"


# --- rules ----------------------------------------------------------------------------------------------------


def list_rules(session: Session) -> list[RoutingRule]:
    """Every rule in the order they are tried."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.id)))


def get(session: Session, key: str) -> RoutingRule:
    rule = session.scalar(select(RoutingRule).where(RoutingRule.key == key))
    if rule is None:
        raise NotFound(f"There is no routing rule '{key}'.")
    return rule


def team_of(session: Session, rule: RoutingRule) -> Team:
    return session.get_one(Team, rule.team_id)


def _check_key(key: str) -> None:
    teams.check_key(key)
    if len(key) > KEY_LIMIT:
        raise InvalidInput(
            "The key is too long.", [Problem("key", f"A rule's key has at most {KEY_LIMIT} characters.")]
        )


def _check_priority(priority: int) -> int:
    if not 0 <= priority <= PRIORITY_LIMIT:
        raise InvalidInput(
            "The priority is out of range.", [Problem("priority", f"A whole number from 0 to {PRIORITY_LIMIT}.")]
        )
    return priority


def _check_agents(agents: Sequence[Agent]) -> Sequence[Agent]:
    if not agents:
        raise InvalidInput("A rule needs an agent.", [Problem("agents", "Pick one or more agents.")])
    return agents


def create(
    session: Session,
    key: str,
    name: str,
    conditions: Any,
    agents: Sequence[Agent],
    *,
    description: str = "",
    priority: int = 100,
) -> RoutingRule:
    """A new rule with its own rotation of `agents` (in that order). Raises InvalidInput listing every bad value,
    Conflict for a used key."""
    stored: dict[str, Any] = {}
    problems = teams.collect(
        lambda: _check_key(key),
        lambda: teams.check_text(name, "name", 200),
        lambda: teams.check_text(description, "description", 1000, required=False, multiline=True),
        lambda: _check_priority(priority),
        lambda: stored.update(check_conditions(session, conditions)),
        lambda: _check_agents(agents),
    )
    if problems:
        raise InvalidInput("The rule cannot be created.", problems)
    if session.scalar(select(RoutingRule.id).where(RoutingRule.key == key)) is not None:
        raise Conflict(f"A rule with the key '{key}' already exists.", [Problem("key", "This key is already used.")])
    team = rotation.create_team(session, TEAM_PREFIX + key, name.strip())
    team.kind = "rule"
    for agent in agents:
        rotation.add_member(session, team, agent)
    rule = RoutingRule(
        key=key,
        name=name.strip(),
        description=description.strip(),
        priority=priority,
        conditions=stored,
        team_id=team.id,
    )
    session.add(rule)
    session.flush()
    return rule


def update(
    session: Session,
    rule: RoutingRule,
    *,
    name: str | None = None,
    description: str | None = None,
    priority: int | None = None,
    conditions: Any = None,
    agents: Sequence[Agent] | None = None,
) -> RoutingRule:
    """Changes what is given (None: unchanged). Raises InvalidInput listing every bad value before changing
    anything."""
    stored: dict[str, Any] = {}
    problems = teams.collect(
        lambda: name is None or teams.check_text(name, "name", 200),
        lambda: (
            description is None or teams.check_text(description, "description", 1000, required=False, multiline=True)
        ),
        lambda: priority is None or _check_priority(priority),
        lambda: conditions is None or stored.update(check_conditions(session, conditions)),
        lambda: agents is None or _check_agents(agents),
    )
    if problems:
        raise InvalidInput("The rule cannot be changed.", problems)
    if name is not None:
        rule.name = name.strip()
        team_of(session, rule).name = rule.name
    if description is not None:
        rule.description = description.strip()
    if priority is not None:
        rule.priority = priority
    if conditions is not None:
        rule.conditions = stored
    if agents is not None:
        set_agents(session, rule, agents)
    session.flush()
    return rule


def set_agents(session: Session, rule: RoutingRule, agents: Sequence[Agent]) -> None:
    """The rule's agents become `agents`: those who stay keep their place and the pointer; newcomers join at the
    end of the rotation in the order given; those left out are removed."""
    _check_agents(agents)
    team = team_of(session, rule)
    wanted = {agent.id for agent in agents}
    for member in rotation.members(session, team):
        if member.agent_id not in wanted:
            rotation.remove_member(session, team, member.agent_id)
    present = {member.agent_id for member in rotation.members(session, team)}
    for agent in agents:
        if agent.id not in present:
            rotation.add_member(session, team, agent)


def delete(session: Session, rule: RoutingRule) -> None:
    """Deletes the rule and its rotation."""
    team = team_of(session, rule)
    session.delete(rule)
    session.flush()
    session.delete(team)
    session.flush()


def reorder(session: Session, keys: Sequence[str]) -> list[RoutingRule]:
    """Sets the order rules are tried in: `keys` names every rule once; priorities become 10, 20, 30..."""
    rules = {rule.key: rule for rule in list_rules(session)}
    if sorted(keys) != sorted(rules):
        raise InvalidInput(
            "The new order must name every rule exactly once.",
            [Problem("keys", f"expected the rules {sorted(rules)}, got {list(keys)}.")],
        )
    for position, key in enumerate(keys, start=1):
        rules[key].priority = position * 10
    session.flush()
    return [rules[key] for key in keys]


def matching_rule(session: Session, values: Mapping[str, Any], now: datetime) -> RoutingRule | None:
    """The first rule, in priority order, whose conditions hold over `values` (person.* and company.* field values
    by dotted name); None when no rule holds. A stored condition that no longer reads is passed over."""
    for rule in list_rules(session):
        try:
            if evaluate(parse_conditions(rule.conditions), values, now=now):
                return rule
        except ValueError:
            continue
    return None
