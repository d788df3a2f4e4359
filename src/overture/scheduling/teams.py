"""Managing teams (kind "team") as the Routing page does: create, rename, mode, credit back, delete, and each team's
agents in rotation order with who is next. The rotation itself (members, order, pause, pointer) is rotation.py's:
every change here goes through its functions, so the pointer rules hold whoever changes a team.

Also the agents themselves as routing sees them (their calendar, whether they need attention) and the lookup of an
agent by email that accounts and rules share.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from overture.calendars.models import CalendarConnection
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.scheduling import rotation
from overture.scheduling.models import TEAM_MODES, Agent, Team, TeamMember
from overture.users.models import User

KEY = re.compile(KEY_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class AgentInfo:
    """An agent as the Routing page shows them: who, their calendar (provider, or None when not connected), and why
    they need attention (None when routing can use them)."""

    id: int
    name: str
    email: str
    active: bool
    calendar: str | None
    attention: str | None


@dataclass(frozen=True)
class MemberInfo:
    agent: AgentInfo
    position: int  # 1 for the first in rotation order
    paused: bool
    credits: int
    is_next: bool
    skipped: str | None = None  # why booking would pass them over now


@dataclass(frozen=True)
class TeamInfo:
    """A team with its members in rotation order, read from the database now (pointer included)."""

    team: Team
    members: list[MemberInfo]
    next_agent_id: int | None

    @property
    def next_agent(self) -> AgentInfo | None:
        return next((m.agent for m in self.members if m.is_next), None)


# --- checks shared by the routing modules -----------------------------------------------------------------------


def check_key(key: str, path: str = "key") -> str:
    """A key as dialogues name it: lower-case letters, digits, - and _. Raises InvalidInput."""
    if not KEY.match(key):
        raise InvalidInput(
            f"'{key}' cannot be a key.",
            [Problem(path, "Use lower-case letters, digits, - and _, starting with a letter or digit (at most 80).")],
        )
    return key


def check_text(value: str, path: str, limit: int, *, required: bool = True, multiline: bool = False) -> str:
    """The value trimmed; raises InvalidInput when it is empty (and required), too long, or holds control
    characters (PostgreSQL refuses NUL; new lines are allowed in `multiline` texts)."""
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"The {path.replace('_', ' ')} is required.", [Problem(path, "Fill this in.")])
    if len(value) > limit:
        raise InvalidInput(
            f"The {path.replace('_', ' ')} is too long.", [Problem(path, f"At most {limit} characters.")]
        )
    text = value.replace("\n", "").replace("\r", "").replace("\t", "") if multiline else value
    if _CONTROL.search(text):
        raise InvalidInput(
            f"The {path.replace('_', ' ')} has invisible control characters.", [Problem(path, "Remove them.")]
        )
    return value


def check_mode(mode: str) -> str:
    if mode not in TEAM_MODES:
        raise InvalidInput(
            f"The team mode {mode!r} is not known.",
            [Problem("mode", "strict (the next agent's slots) or availability (any free member's slots).")],
        )
    return mode


# --- agents ---------------------------------------------------------------------------------------------------


def agent_for_email(session: Session, email: str) -> Agent | None:
    """The agent whose user has this email (any case), or None."""
    if _CONTROL.search(email) or len(email) > 320:
        return None  # no address holds these (and PostgreSQL refuses NUL in a query)
    return session.scalar(
        select(Agent).join(User, User.id == Agent.user_id).where(func.lower(User.email) == email.strip().lower())
    )


def agents_for_emails(session: Session, emails: Sequence[str], path: str = "agents") -> list[Agent]:
    """The agents of `emails`, in that order. Raises InvalidInput naming every email that is no agent's (path
    `agents.N`) and every email given twice."""
    found: list[Agent] = []
    problems: list[Problem] = []
    seen: set[int] = set()
    for index, email in enumerate(emails):
        agent = agent_for_email(session, email)
        if agent is None:
            problems.append(Problem(f"{path}.{index}", f"{email} is not an agent."))
        elif agent.id in seen:
            problems.append(Problem(f"{path}.{index}", f"{email} is given twice."))
        else:
            seen.add(agent.id)
            found.append(agent)
    if problems:
        raise InvalidInput("Some agents are not known.", problems)
    return found


def get_agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"There is no agent {agent_id}.")
    return agent


def agent_infos(session: Session, agent_ids: Sequence[int] | None = None) -> dict[int, AgentInfo]:
    """Every agent (or those of `agent_ids`) by id, with their calendar provider and attention, read now."""
    query = select(Agent, CalendarConnection.provider).outerjoin(
        CalendarConnection, CalendarConnection.agent_id == Agent.id
    )
    if agent_ids is not None:
        query = query.where(Agent.id.in_(list(agent_ids)))
    rows = session.execute(query.options(joinedload(Agent.user)).execution_options(populate_existing=True))
    return {
        agent.id: AgentInfo(agent.id, agent.name, agent.email, agent.user.is_active, provider, agent.attention)
        for agent, provider in rows
    }


def list_agents(session: Session) -> list[AgentInfo]:
    """Every agent, by name."""
    return sorted(agent_infos(session).values(), key=lambda info: (info.name.lower(), info.email))


# --- teams ----------------------------------------------------------------------------------------------------


def list_teams(session: Session) -> list[Team]:
    """The teams of kind "team" (rules' own teams are shown with their rule), by name."""
    return list(session.scalars(select(Team).where(Team.kind == "team").order_by(func.lower(Team.name), Team.key)))


def get(session: Session, key: str) -> Team:
    team = session.scalar(select(Team).where(Team.key == key, Team.kind == "team"))
    if team is None:
        raise NotFound(f"There is no team '{key}'.")
    return team


def collect(*checks: Callable[[], object]) -> list[Problem]:
    """Runs every check and returns the problems of those that raise InvalidInput (all of them, not the first)."""
    problems: list[Problem] = []
    for check in checks:
        try:
            check()
        except InvalidInput as exc:
            problems.extend(exc.problems)
    return problems


def create(session: Session, key: str, name: str, mode: str = "strict", credit_back: bool = False) -> Team:
    """A new team with no members. Raises InvalidInput listing every bad value, Conflict for a used key."""
    problems = collect(lambda: check_key(key), lambda: check_text(name, "name", 200), lambda: check_mode(mode))
    if problems:
        raise InvalidInput("The team cannot be created.", problems)
    team = rotation.create_team(session, key, name.strip(), mode)
    team.credit_back = credit_back
    session.flush()
    return team


def update(
    session: Session,
    team: Team,
    *,
    name: str | None = None,
    mode: str | None = None,
    credit_back: bool | None = None,
) -> Team:
    """Changes what is given (None: unchanged); the rotation and its pointer stay as they are. Raises InvalidInput
    listing every bad value, before changing anything."""
    problems = collect(lambda: name is None or check_text(name, "name", 200), lambda: mode is None or check_mode(mode))
    if problems:
        raise InvalidInput("The team cannot be changed.", problems)
    if name is not None:
        team.name = name.strip()
    if mode is not None:
        team.mode = mode
    if credit_back is not None:
        team.credit_back = credit_back
    session.flush()
    return team


def dialogues_naming(session: Session, key: str) -> list[str]:
    """Keys of the dialogues and flows (not archived) whose draft or live version has a book_meeting card naming
    the team `key`."""
    return dialogues.keys_whose_documents(session, lambda document: _names_team(document, key))


def _names_team(document: Any, key: str) -> bool:
    cards = document.get("flow", {}).get("cards", {})
    if not isinstance(cards, dict):
        return False
    return any(
        isinstance(card, dict)
        and isinstance(card.get("book_meeting"), dict)
        and card["book_meeting"].get("team") == key
        for card in cards.values()
    )


def delete(session: Session, team: Team) -> None:
    """Deletes the team and its rotation. Raises Conflict when a dialogue books meetings with it."""
    naming = dialogues_naming(session, team.key)
    if naming:
        raise Conflict(
            f"The team '{team.key}' cannot be deleted: these dialogues book meetings with it: {', '.join(naming)}."
        )
    session.delete(team)
    session.flush()


# --- members --------------------------------------------------------------------------------------------------


def info(session: Session, team: Team, reasons: Mapping[int, str | None] | None = None) -> TeamInfo:
    """The team's members in rotation order with the next one marked, the pointer read from the database now.

    Next is who booking would pick now (rotation.next_agent's rules): a member holding a turn given back (credit
    back) first, else the first member after the pointer; paused members are skipped, and so are those booking
    would skip now, each with its reason: `reasons` from lineup.skip_reasons (no calendar, out of office, no free
    time...). Without `reasons`, only a calendar that needs attention counts."""
    session.refresh(team)
    order = rotation.members(session, team)
    agents = agent_infos(session, [member.agent_id for member in order])

    def skipped(member: TeamMember) -> str | None:
        if member.paused:
            return "Paused."
        if reasons is not None:
            return reasons.get(member.agent_id, "Not an agent any more.")
        attention = agents[member.agent_id].attention
        return None if attention is None else f"Their calendar needs attention: {attention}"

    why = {member.agent_id: skipped(member) for member in order}
    index = next((i for i, m in enumerate(order) if m.agent_id == team.last_agent_id), -1)
    # After the pointer, wrapping round, the pointer's own agent last.
    turns = order[index + 1 :] + order[: index + 1]
    able = [m for m in turns if why[m.agent_id] is None]
    chosen = next((m for m in able if m.credits > 0), able[0] if able else None)
    next_id = chosen.agent_id if chosen is not None else None
    members = [
        MemberInfo(agents[m.agent_id], position, m.paused, m.credits, m.agent_id == next_id, why[m.agent_id])
        for position, m in enumerate(order, start=1)
    ]
    return TeamInfo(team, members, next_id)


def _member_ids(session: Session, team: Team) -> list[int]:
    return [member.agent_id for member in rotation.members(session, team)]


def add_agent(session: Session, team: Team, agent: Agent) -> TeamMember:
    """Adds the agent at the end of the rotation. Raises Conflict when they are already a member."""
    return rotation.add_member(session, team, agent)


def remove_agent(session: Session, team: Team, agent_id: int) -> None:
    """Takes the agent out (when they hold the pointer, the member after them stays next). NotFound when they are
    not a member."""
    rotation.remove_member(session, team, agent_id)


def set_paused(session: Session, team: Team, agent_id: int, paused: bool) -> None:
    rotation.set_paused(session, team, agent_id, paused)


def set_order(session: Session, team: Team, agent_ids: Sequence[int]) -> None:
    """The new rotation order (every member once); the pointer stays on its agent."""
    rotation.reorder(session, team, agent_ids)


def move(session: Session, team: Team, agent_id: int, steps: int) -> None:
    """Moves the agent `steps` places later in the rotation (negative: earlier), stopping at either end. NotFound
    when they are not a member."""
    order = _member_ids(session, team)
    if agent_id not in order:
        raise NotFound(f"Agent {agent_id} is not a member of team {team.key}.")
    index = order.index(agent_id)
    order.pop(index)
    order.insert(max(0, min(len(order), index + steps)), agent_id)
    rotation.reorder(session, team, order)
