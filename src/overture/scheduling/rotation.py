"""Round robin, as Dynamic Chat does it: members of a team in rotation order, a stored pointer naming the agent who
took the last meeting, and the next meeting going to the first member after the pointer who is neither paused nor
without a free slot. Skipped members keep their place; every routing is written to the ledger with its reasons.

Concurrency: the pointer is read and moved in the caller's writing transaction with the team row locked
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite writers are already serialized by BEGIN IMMEDIATE, see
`Database.write`), and the update is also a compare-and-set on `Team.version`, so two bookings can never both
take the same turn. Call these functions inside `db.write()`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.scheduling.models import TEAM_MODES, Agent, RoutingDecision, Team, TeamMember
from overture.users.models import User
from overture.users.roles import Role

PAUSED = "paused"
NO_FREE_SLOT = "no free slot"

# Who has a free slot for this booking: the ids of those agents, or a function of an agent id. A function is called
# inside the transaction, so it must answer from data at hand (the busy-time cache), never over the network.
HasSlot = Collection[int] | Callable[[int], bool]


@dataclass(frozen=True, slots=True)
class Skip:
    agent_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """The outcome of one routing. `agent_id` is None when nobody in the team is free; `pointer_before` and
    `pointer_after` are agent ids (None before the first meeting)."""

    team_key: str
    agent_id: int | None
    pointer_before: int | None
    pointer_after: int | None
    skipped: tuple[Skip, ...]
    decision_id: int

    @property
    def nobody_free(self) -> bool:
        return self.agent_id is None

    @property
    def explanation(self) -> str:
        """A sentence for the admin saying why this agent (or nobody) got the meeting."""
        skips = "; ".join(f"agent {skip.agent_id} skipped ({skip.reason})" for skip in self.skipped)
        if self.agent_id is None:
            if not self.skipped:
                return f"Nobody is free: team {self.team_key} has no members."
            return f"Nobody is free in team {self.team_key}: {skips}."
        chosen = f"Agent {self.agent_id} is next after agent {self.pointer_before} in team {self.team_key}"
        if self.pointer_before is None:
            chosen = f"Agent {self.agent_id} takes the first meeting of team {self.team_key}"
        return f"{chosen}; {skips}." if skips else f"{chosen}."


# --- agents and teams ---------------------------------------------------------------------------------------


def create_agent(session: Session, user: User) -> Agent:
    """The agent profile of `user`. Raises InvalidInput when the user does not have the agent role, Conflict when
    the user already has a profile."""
    if user.role != Role.agent:
        raise InvalidInput(
            f"{user.email} cannot take meetings: only users with the agent role can.",
            [Problem("user", "the user must have the agent role.")],
        )
    if session.scalar(select(Agent.id).where(Agent.user_id == user.id)) is not None:
        raise Conflict(f"{user.email} is already an agent.")
    agent = Agent(user=user)
    session.add(agent)
    session.flush()
    return agent


def create_team(session: Session, key: str, name: str, mode: str = "strict") -> Team:
    """A new team with an empty rotation. Raises InvalidInput for an unknown mode, Conflict for a used key."""
    if mode not in TEAM_MODES:
        raise InvalidInput(
            f"The team mode {mode!r} is not known: use strict or availability.",
            [Problem("mode", "the mode must be strict or availability.")],
        )
    if session.scalar(select(Team.id).where(Team.key == key)) is not None:
        raise Conflict(f"A team with the key {key!r} already exists.", [Problem("key", "this key is already used.")])
    team = Team(key=key, name=name, mode=mode)
    session.add(team)
    session.flush()
    return team


def _locked_team(session: Session, team: Team | str) -> Team:
    """The team's row, read again and locked until the transaction ends, so pointer and order are current."""
    condition = Team.key == team if isinstance(team, str) else Team.id == team.id
    query = select(Team).where(condition).with_for_update().execution_options(populate_existing=True)
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"There is no team {team if isinstance(team, str) else team.key!r}.")
    return found


def members(session: Session, team: Team) -> list[TeamMember]:
    """The team's members in rotation order."""
    query = (
        select(TeamMember)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.position, TeamMember.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _member(session: Session, team: Team, agent_id: int) -> TeamMember:
    found = session.scalar(select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.agent_id == agent_id))
    if found is None:
        raise NotFound(f"Agent {agent_id} is not a member of team {team.key}.")
    return found


def add_member(session: Session, team: Team | str, agent: Agent) -> TeamMember:
    """Adds the agent at the end of the rotation. Raises Conflict when the agent is already a member."""
    locked = _locked_team(session, team)
    if session.scalar(select(TeamMember.id).where(TeamMember.team_id == locked.id, TeamMember.agent_id == agent.id)):
        raise Conflict(f"Agent {agent.id} is already a member of team {locked.key}.")
    last = session.scalar(select(func.max(TeamMember.position)).where(TeamMember.team_id == locked.id))
    member = TeamMember(team_id=locked.id, agent_id=agent.id, position=0 if last is None else last + 1)
    session.add(member)
    session.flush()
    return member


def remove_member(session: Session, team: Team | str, agent_id: int) -> None:
    """Takes the agent out of the rotation. When they hold the pointer, the pointer moves back to the member before
    them, so the member after them is still next."""
    locked = _locked_team(session, team)
    order = members(session, locked)
    leaving = _member(session, locked, agent_id)
    if locked.last_agent_id == agent_id:
        index = order.index(leaving)
        rest = order[:index] + order[index + 1 :]
        # The member before the leaver (wrapping round); none left means the rotation starts afresh.
        _move_pointer(session, locked, rest[index - 1].agent_id if rest else None)
    session.delete(leaving)
    session.flush()


def reorder(session: Session, team: Team | str, agent_ids: Sequence[int]) -> None:
    """Sets the rotation order to `agent_ids`, which must name every member once. The pointer stays on its agent."""
    locked = _locked_team(session, team)
    order = members(session, locked)
    current = sorted(member.agent_id for member in order)
    if sorted(agent_ids) != current:
        raise InvalidInput(
            f"The new order of team {locked.key} must name each of its members exactly once.",
            [Problem("order", f"expected the agents {current}, got {list(agent_ids)}.")],
        )
    by_agent = {member.agent_id: member for member in order}
    for position, agent_id in enumerate(agent_ids):
        by_agent[agent_id].position = position
    session.flush()


def set_paused(session: Session, team: Team | str, agent_id: int, paused: bool) -> None:
    """Pauses (skipped by routing, keeps their place) or resumes a member."""
    locked = _locked_team(session, team)
    _member(session, locked, agent_id).paused = paused
    session.flush()


def next_in_line(session: Session, team: Team | str) -> int | None:
    """The agent who gets the next meeting if every unpaused member has a free slot (what the Routing page shows)."""
    found = _team(session, team)
    for member in _after_pointer(members(session, found), found.last_agent_id):
        if not member.paused:
            return member.agent_id
    return None


def _team(session: Session, team: Team | str) -> Team:
    if not isinstance(team, str):
        return team
    found = session.scalar(select(Team).where(Team.key == team))
    if found is None:
        raise NotFound(f"There is no team {team!r}.")
    return found


# --- routing ------------------------------------------------------------------------------------------------


def _after_pointer(order: list[TeamMember], pointer: int | None) -> list[TeamMember]:
    """The members in the order they get their turn: those after the pointer, wrapping round, the pointer's agent
    last (so a lone free agent takes every meeting). No pointer, or one no longer in the team: from the first."""
    index = next((i for i, member in enumerate(order) if member.agent_id == pointer), -1)
    return order[index + 1 :] + order[: index + 1]


def _move_pointer(session: Session, team: Team, agent_id: int | None) -> None:
    """Compare-and-set on the version: a rowcount other than 1 means another writer moved the pointer first."""
    result = session.execute(
        update(Team)
        .where(Team.id == team.id, Team.version == team.version)
        .values(last_agent_id=agent_id, version=team.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"The rotation of team {team.key} changed at the same moment; try again.")
    team.last_agent_id = agent_id
    team.version += 1
    session.flush()


def next_agent(session: Session, team: Team | str, now: datetime, has_slot: HasSlot) -> Assignment:
    """Routes one booking of `team`: a member holding a turn given back (credit back) and free takes it first, the
    pointer staying put; otherwise the first member after the pointer who is not paused and has a free slot gets
    it, and the pointer moves to them. The decision is written to the ledger, all in the caller's transaction.
    Paused and slot-less members are skipped with their reason and keep their place. When nobody is free (or the
    team is empty) the pointer stays and the Assignment's `agent_id` is None."""
    locked = _locked_team(session, team)
    free = has_slot if callable(has_slot) else has_slot.__contains__
    before = locked.last_agent_id
    skipped: list[Skip] = []
    chosen: int | None = None
    order = _after_pointer(members(session, locked), before)
    credited = next((m for m in order if m.credits > 0 and not m.paused and free(m.agent_id)), None)
    if credited is not None:
        credited.credits -= 1
        chosen = credited.agent_id
        # The version still moves: a concurrent routing must not take the same credit.
        _move_pointer(session, locked, before)
    else:
        for member in order:
            if member.paused:
                skipped.append(Skip(member.agent_id, PAUSED))
            elif not free(member.agent_id):
                skipped.append(Skip(member.agent_id, NO_FREE_SLOT))
            else:
                chosen = member.agent_id
                break
        if chosen is not None:
            _move_pointer(session, locked, chosen)
    decision = RoutingDecision(
        team_id=locked.id,
        mode="credit_back" if credited is not None else locked.mode,
        note=f"Agent {chosen} had a turn given back." if credited is not None else "",
        agent_id=chosen,
        pointer_before=before,
        pointer_after=locked.last_agent_id,
        skipped=[{"agent_id": skip.agent_id, "reason": skip.reason} for skip in skipped],
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    return Assignment(locked.key, chosen, before, locked.last_agent_id, tuple(skipped), decision.id)


def give_turn_back(session: Session, team_id: int, agent_id: int) -> bool:
    """Credit back: when the team gives turns back, the agent whose meeting was cancelled, marked no-show or
    reassigned away gets a credit and takes the next meeting they are free for. Returns whether a credit was given
    (False: the team does not give turns back, or the agent left it)."""
    locked = _locked_team_by_id(session, team_id)
    if locked is None or not locked.credit_back:
        return False
    member = session.scalar(select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.agent_id == agent_id))
    if member is None:
        return False
    member.credits += 1
    session.flush()
    return True


def _locked_team_by_id(session: Session, team_id: int) -> Team | None:
    query = select(Team).where(Team.id == team_id).with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)
