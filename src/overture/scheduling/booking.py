"""Booking a meeting from a `book_meeting` card: who may take it (routing), which times to offer, and the booking.

Routing, in order: the visitor's account owner (an account table on the Routing page), then the card's routing:
one named agent, a team's rotation (`round_robin` or `team`), or the first matching rule (its agents rotate), with
the card's team as the fallback when no rule matches. An account owner with no free slot falls back to the card's
routing. A team in `strict` mode offers the next agent's slots; in `availability` mode the union of its agents'.

Booking happens in two steps, because reading calendars is a network call and must not hold a transaction open:
`prepare` (outside any transaction) reads again the calendars of the agents who may take the chosen time, then
`book` (inside the caller's writing transaction) routes among them, re-checks against Overture's own meetings and
inserts the meeting. Two meetings of one agent cannot overlap: the database refuses the second (migration 0009),
whatever process writes it, and `book` answers `Taken` so the visitor gets fresh slots instead of an error.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.calendars import registry
from overture.calendars.models import CalendarConnection
from overture.calendars.world import CalendarWorld
from overture.db import Wake, wake_after_commit
from overture.dialogues.document import BookMeeting as BookMeetingSpec
from overture.errors import InvalidInput, NotFound, Problem
from overture.people.email_domains import domain_of, normalize_domain
from overture.people.models import Person
from overture.scheduling import accounts, invites, notices, rotation, rules
from overture.scheduling.availability import BookedMeeting, Slot, agent_slot_seconds, free_slots
from overture.scheduling.busy import BusyTimes, read_busy
from overture.scheduling.clock import load_zone, to_instant
from overture.scheduling.models import Agent, Meeting, MeetingType, RoutingDecision, Team, TeamMember
from overture.scheduling.schedules import meeting_type_of, schedule_of
from overture.users.models import User

OVERLAP_CONSTRAINT = "meetings_no_overlap"
# Statuses that hold the agent's time (everything but cancelled).
HOLDING = ("booked", "rescheduled", "held", "no_show")
DEFAULT_TEAM = "sales"
# Days of meetings read around the offered range, so daily and weekly maximums count the whole week.
_CAP_MARGIN = timedelta(days=8)

TAKEN = "That time was just taken. Here are the times still free."

RouteMode = Literal["account", "agent", "team", "rule"]


@dataclass(frozen=True)
class BookingRequest:
    """What a booking is for: the card's spec, the visitor (their field values decide account and rule routing)
    and where it comes from."""

    spec: BookMeetingSpec
    person_id: int
    values: Mapping[str, Any]
    site_key: str | None = None
    dialogue_id: int | None = None
    conversation_id: int | None = None
    transcript: tuple[tuple[str, str], ...] = ()
    # Where the booking comes from when not a chat: "link" (a booking page, scheduling/booking_links.py). Carried
    # on the meeting.booked activity as its `channel`, so reports can count it as its own source.
    channel: str | None = None
    # False for an agent's own booking page: the visitor picked that agent, so the account owner is not asked first.
    owner_first: bool = True


@dataclass(frozen=True)
class Route:
    """Who may take a booking: the agents in turn order (one for an account owner or a named agent), the team whose
    rotation picks among them (None for one agent), and the route to try when none of them is free."""

    mode: RouteMode
    agent_ids: tuple[int, ...]
    team_id: int | None = None
    team_mode: str = "strict"
    note: str = ""
    fallback: Route | None = None

    def chain(self) -> list[Route]:
        routes: list[Route] = [self]
        while routes[-1].fallback is not None:
            routes.append(routes[-1].fallback)
        return routes


@dataclass(frozen=True)
class Offer:
    """The slots a visitor may pick (UTC), who they would meet when that is known (one agent, or strict mode), the
    duration, and why there are none."""

    slots: tuple[Slot, ...]
    duration: timedelta
    agent_name: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Prepared:
    """A chosen time and what `book` needs to take it: the routes, and the agents' calendars read just now."""

    request: BookingRequest
    start: datetime
    routes: tuple[Route, ...]
    busy: BusyTimes
    meeting_type_id: int | None


@dataclass(frozen=True)
class Booked:
    meeting: Meeting
    agent: Agent


@dataclass(frozen=True)
class Taken:
    """Nobody can take the chosen time any more (booked meanwhile, or the calendar changed)."""

    reason: str


@dataclass(frozen=True)
class Unavailable:
    """The booking cannot be made at all (no route, no calendar that can be checked); the admins were told."""

    reason: str


Outcome = Booked | Taken | Unavailable


# --- routing -------------------------------------------------------------------------------------------------


def _domains(values: Mapping[str, Any]) -> list[str]:
    """The visitor's company domain and email domain, for the account table."""
    company, email = values.get("company.domain"), values.get("person.email")
    found = [
        normalize_domain(company) if isinstance(company, str) else "",
        domain_of(email) if isinstance(email, str) else "",
    ]
    return [domain for domain in found if domain]


def _team_route(session: Session, team: Team, mode: RouteMode, note: str, fallback: Route | None = None) -> Route:
    order = [member.agent_id for member in rotation.members(session, team) if not member.paused]
    return Route(mode, tuple(order), team.id, team.mode, note, fallback)


def _team(session: Session, key: str | None, meeting_type: MeetingType | None) -> Team:
    if key is None and meeting_type is not None and meeting_type.team_id is not None:
        found = session.get(Team, meeting_type.team_id)
        if found is not None:
            return found
    wanted = key or DEFAULT_TEAM
    team = session.scalar(select(Team).where(Team.key == wanted))
    if team is None and key is None:
        # No team named: the only team there is, if there is exactly one.
        teams = list(session.scalars(select(Team).where(Team.kind == "team").limit(2)))
        team = teams[0] if len(teams) == 1 else None
    if team is None:
        raise NotFound(f"There is no team {wanted!r} to book with: create it on the Routing page.")
    return team


def _meeting_type(session: Session, spec: BookMeetingSpec) -> MeetingType | None:
    key = spec.meeting_type
    if key is None:
        return None
    found = session.scalar(select(MeetingType).where(MeetingType.key == key))
    if found is None:
        raise NotFound(f"There is no meeting type {key!r}: create it on the Routing page.")
    return found


def route(session: Session, request: BookingRequest, now: datetime) -> Route | None:
    """Who may take this booking, account owner first; None when nobody may (a rules card no rule matches, with
    no fallback team)."""
    spec = request.spec
    meeting_type = _meeting_type(session, spec)
    card: Route | None
    match spec.routing:
        case "agent":
            agent = _agent_by_email(session, spec.agent or "")
            card = Route("agent", (agent.id,), note=f"The card names {agent.name}.")
        case "rules":
            rule = rules.matching_rule(session, request.values, now)
            if rule is not None:
                team = session.get(Team, rule.team_id)
                assert team is not None
                card = _team_route(session, team, "rule", f"Rule {rule.name!r} matched.")
            elif spec.team is not None:
                card = _team_route(session, _team(session, spec.team, None), "team", "No rule matched: fallback team.")
            else:
                card = None
        case _:
            team = _team(session, spec.team, meeting_type)
            card = _team_route(session, team, "team", "")
    if not request.owner_first:
        return card
    owner = accounts.owner_for(session, _domains(request.values))
    holder = session.get(Agent, owner.agent_id) if owner is not None else None
    if owner is not None and holder is not None:
        note = f"Account {owner.company_name} ({owner.domain}) is owned by {holder.name}."
        return Route("account", (holder.id,), note=note, fallback=card)
    return card


def _agent_by_email(session: Session, email: str) -> Agent:
    agent = session.scalar(select(Agent).join(User, User.id == Agent.user_id).where(User.email == email.lower()))
    if agent is None:
        raise NotFound(f"There is no agent with the email {email!r}.")
    return agent


# --- slots ---------------------------------------------------------------------------------------------------


def _agents(session: Session, ids: Sequence[int]) -> dict[int, Agent]:
    return {agent.id: agent for agent in session.scalars(select(Agent).where(Agent.id.in_(ids)))}


def booked_meetings(
    session: Session, ids: Sequence[int], start: datetime, end: datetime, ignore: int | None = None
) -> dict[str, list[BookedMeeting]]:
    """Overture's meetings of these agents around [start, end), keyed like schedules (agent id as text)."""
    query = select(Meeting.agent_id, Meeting.starts_at, Meeting.ends_at).where(
        Meeting.agent_id.in_(ids),
        Meeting.status.in_(HOLDING),
        Meeting.ends_at > start - _CAP_MARGIN,
        Meeting.starts_at < end + _CAP_MARGIN,
    )
    if ignore is not None:
        query = query.where(Meeting.id != ignore)
    found: dict[str, list[BookedMeeting]] = {}
    for agent_id, starts, ends in session.execute(query):
        found.setdefault(str(agent_id), []).append(BookedMeeting(starts, ends))
    return found


def _window(agents: Sequence[Agent], meeting_type: MeetingType | None, now: datetime) -> tuple[datetime, datetime]:
    """The range of busy time that matters: from now to the end of the furthest horizon, with a day's margin for
    zones ahead of UTC."""
    horizon = max((agent.horizon_days for agent in agents), default=0)
    if meeting_type is not None and meeting_type.horizon_days is not None:
        horizon = meeting_type.horizon_days
    return now, now + timedelta(days=horizon + 2)


# How long an offered time stays bookable although the agent's minimum notice has moved past it meanwhile.
OFFER_GRACE = timedelta(minutes=10)


@dataclass
class _Candidates:
    """The agents of routes with their settings and calendars, ready to compute slots."""

    agents: dict[int, Agent]
    busy: BusyTimes
    booked: dict[str, list[BookedMeeting]]
    meeting_type: MeetingType | None
    minutes: int | None

    def slots(self, agent_id: int, now: datetime) -> list[tuple[int, int]]:
        agent = self.agents.get(agent_id)
        busy = self.busy.get(agent_id)
        if agent is None or busy is None or agent.attention is not None:
            return []
        kind = meeting_type_of(self.meeting_type, self.minutes)
        return agent_slot_seconds(schedule_of(agent), kind, busy, now, self.booked.get(str(agent_id), ()))

    def offered_lately(self, agent_id: int, start: int, now: datetime) -> bool:
        """Whether the agent has a slot starting at `start` (seconds) now, or had one within OFFER_GRACE: a visitor
        who takes a few minutes to pick the first time offered keeps it, though the minimum notice moved on."""
        if start <= now.timestamp():
            return False
        return any(start == begin for when in (now, now - OFFER_GRACE) for begin, _ in self.slots(agent_id, when))


def _gather(world: CalendarWorld, request: BookingRequest, now: datetime) -> tuple[list[Route], _Candidates]:
    """The routes of a booking and their agents, with their calendars as last read (the cache) and Overture's own
    meetings: what both offering and preparing compute slots from. Reads calendars, so outside any transaction."""
    with world.db.read() as session:
        routes = _routes(session, request, now)
        meeting_type = _meeting_type(session, request.spec)
        ids = sorted({agent_id for item in routes for agent_id in item.agent_ids})
        agents = _agents(session, ids)
        session.expunge_all()
    start, end = _window(list(agents.values()), meeting_type, now)
    # An agent who needs attention is offered nothing: their calendar is not read at all.
    busy = read_busy(world, [i for i in ids if agents[i].attention is None], start, end, now)
    with world.db.read() as session:
        booked = booked_meetings(session, ids, start, end)
    return routes, _Candidates(agents, busy, booked, meeting_type, request.spec.minutes)


def offer(world: CalendarWorld, request: BookingRequest, now: datetime) -> Offer:
    """The times to offer the visitor. Call it outside any transaction: it may read calendars."""
    routes, candidates = _gather(world, request, now)
    agents, busy, booked, meeting_type = candidates.agents, candidates.busy, candidates.booked, candidates.meeting_type
    duration = _duration(candidates, sorted(agents))
    for item in routes:
        if item.team_id is None or item.team_mode == "strict":
            # One agent, or a strict team: the first agent in turn order who has a slot.
            for agent_id in _turn_order(world, item):
                found = candidates.slots(agent_id, now)
                if found:
                    slots = tuple(Slot(to_instant(a), to_instant(b), (str(agent_id),)) for a, b in found)
                    return Offer(slots, slots[0].end - slots[0].start, agents[agent_id].name)
            continue
        schedules = [
            schedule_of(agents[i])
            for i in item.agent_ids
            if i in agents and busy.get(i) is not None and agents[i].attention is None
        ]
        kind = meeting_type_of(meeting_type, request.spec.minutes)
        team_busy = {str(i): times for i, times in busy.items() if times is not None}
        union = free_slots(schedules, kind, team_busy, now, booked)
        if union:
            return Offer(tuple(union), duration)
    return Offer((), duration, reason="Nobody is free to meet in the coming weeks.")


def _length(meeting_type: MeetingType | None, minutes: int | None, agent: Agent) -> timedelta:
    """How long a meeting with this agent lasts: the card's or the meeting type's length, else the agent's own."""
    return meeting_type_of(meeting_type, minutes).duration or timedelta(minutes=agent.duration_minutes)


def _duration(candidates: _Candidates, ids: Sequence[int]) -> timedelta:
    kind = meeting_type_of(candidates.meeting_type, candidates.minutes)
    if kind.duration is not None:
        return kind.duration
    first = candidates.agents.get(ids[0]) if ids else None
    return timedelta(minutes=first.duration_minutes if first is not None else 30)


def _turn_order(world: CalendarWorld, item: Route) -> list[int]:
    """A route's agents in the order they get their turn, as rotation.next_agent gives it: those holding a turn
    given back first, then those after the team's pointer, wrapping round."""
    if item.team_id is None:
        return list(item.agent_ids)
    with world.db.read() as session:
        team = session.get(Team, item.team_id)
        pointer = team.last_agent_id if team is not None else None
        credited = set(session.scalars(select(TeamMember.agent_id).where(
            TeamMember.team_id == item.team_id, TeamMember.credits > 0)))  # fmt: skip
    order = list(item.agent_ids)
    if pointer in order:
        index = order.index(pointer)
        order = order[index + 1 :] + order[: index + 1]
    return [i for i in order if i in credited] + [i for i in order if i not in credited]


def _routes(session: Session, request: BookingRequest, now: datetime) -> list[Route]:
    found = route(session, request, now)
    return found.chain() if found is not None else []


# --- booking -------------------------------------------------------------------------------------------------


def prepare(world: CalendarWorld, request: BookingRequest, start: datetime, now: datetime) -> Prepared | Unavailable:
    """Reads again, fresh, the calendars of the agents who may take `start` (by what was known a moment ago).
    Call it outside any transaction, then pass the result to `book`. Unavailable when no route exists."""
    if start.tzinfo is None:
        raise InvalidInput("The chosen time has no time zone.", [Problem("slot", "Send an ISO time with its offset.")])
    routes, candidates = _gather(world, request, now)
    if not routes:
        return Unavailable("Nobody takes this kind of meeting: no routing rule matched and the card has no team.")
    wanted = int(start.timestamp())
    maybe = [i for i in sorted(candidates.agents) if candidates.offered_lately(i, wanted, now)]
    window_start, window_end = _window(list(candidates.agents.values()), candidates.meeting_type, now)
    fresh = read_busy(world, maybe, window_start, window_end, now, fresh=True) if maybe else {}
    meeting_type = candidates.meeting_type
    return Prepared(request, start, tuple(routes), fresh, meeting_type.id if meeting_type is not None else None)


def book(
    session: Session,
    world: CalendarWorld,
    prepared: Prepared,
    *,
    visitor_zone: str,
    now: datetime,
) -> Outcome:
    """Books the prepared time in the caller's writing transaction: routes among the agents free then (rotation
    pointer moved, decision in the ledger), inserts the meeting (the database refuses an overlap), records the
    activity and queues the invitation and the agent's notification. `Taken` leaves nothing written."""
    load_zone(visitor_zone, "time_zone")
    person = session.get(Person, prepared.request.person_id)
    if person is None or not person.contact_email:
        raise InvalidInput("The visitor's email is needed to send the invitation.", [Problem("email", "Required.")])
    ids = sorted({agent_id for item in prepared.routes for agent_id in item.agent_ids})
    agents = _agents(session, ids)
    meeting_type = session.get(MeetingType, prepared.meeting_type_id) if prepared.meeting_type_id else None
    window_start, window_end = _window(list(agents.values()), meeting_type, now)
    booked = booked_meetings(session, ids, window_start, window_end)
    candidates = _Candidates(agents, prepared.busy, booked, meeting_type, prepared.request.spec.minutes)
    wanted = int(prepared.start.timestamp())

    def free(agent_id: int) -> bool:
        return candidates.offered_lately(agent_id, wanted, now)

    for item in prepared.routes:
        savepoint = session.begin_nested()
        try:
            agent_id, decision_id = _assign(session, item, free, now)
            if agent_id is None:
                savepoint.rollback()
                continue
            meeting = _insert(session, world, prepared, agents[agent_id], item, decision_id, visitor_zone, now)
            savepoint.commit()
        except (IntegrityError, DBAPIError) as exc:
            savepoint.rollback()
            if OVERLAP_CONSTRAINT not in str(exc.orig) and "exclusion" not in str(exc.orig).lower():
                raise
            return Taken(TAKEN)
        agent = agents[agent_id]
        _after_booking(session, world, meeting, person, agent, prepared, now)
        return Booked(meeting, agent)
    read = prepared.busy
    if read and all(times is None for times in read.values()):
        # Nothing is booked on a calendar that cannot be checked; the agent and the admins hear of it.
        reason = "No calendar of the agents who could take this time could be checked."
        notices.queue_booking_failed(session, reason=reason, agent=agents.get(next(iter(read))),
                                     visitor_email=person.contact_email, start=prepared.start, now=now)  # fmt: skip
        return Unavailable(reason)
    return Taken(TAKEN)


def report_failure(world: CalendarWorld, request: BookingRequest, start: datetime, reason: str, now: datetime) -> None:
    """A booking broke on something unexpected (the caller's transaction rolled back): the agents who could take
    it and the admins are told, in a transaction of its own, so the visitor's request is not lost in a log."""
    with world.db.write() as session:
        routes = _routes(session, request, now)
        first = next((agent_id for item in routes for agent_id in item.agent_ids), None)
        person = session.get(Person, request.person_id)
        email = person.contact_email if person else None
        notices.queue_booking_failed(session, reason=reason, agent=session.get(Agent, first) if first else None,
                                     visitor_email=email, start=start, now=now)  # fmt: skip


def _assign(session: Session, item: Route, free: Any, now: datetime) -> tuple[int | None, int]:
    """The agent of this route free at the chosen time, and the ledger row saying why."""
    if item.team_id is not None:
        team = session.get(Team, item.team_id)
        assert team is not None
        assignment = rotation.next_agent(session, team, now, free)
        decision = session.get(RoutingDecision, assignment.decision_id)
        if decision is not None and item.note:
            decision.mode = item.mode if decision.mode != "credit_back" else decision.mode
            decision.note = (item.note + " " + decision.note).strip()[:500]
        return assignment.agent_id, assignment.decision_id
    agent_id = item.agent_ids[0]
    chosen = agent_id if free(agent_id) else None
    skipped = [] if chosen is not None else [{"agent_id": agent_id, "reason": rotation.NO_FREE_SLOT}]
    decision = RoutingDecision(team_id=None, mode=item.mode, note=item.note[:500], agent_id=chosen,
                               skipped=skipped, decided_at=now)  # fmt: skip
    session.add(decision)
    session.flush()
    return chosen, decision.id


def _insert(
    session: Session,
    world: CalendarWorld,
    prepared: Prepared,
    agent: Agent,
    item: Route,
    decision_id: int,
    visitor_zone: str,
    now: datetime,
) -> Meeting:
    provider = session.scalar(select(CalendarConnection.provider).where(CalendarConnection.agent_id == agent.id))
    meeting_type = session.get(MeetingType, prepared.meeting_type_id) if prepared.meeting_type_id else None
    host = urlsplit(world.settings.base_url).hostname or "overture.invalid"
    meeting = Meeting(
        public_id="m_" + secrets.token_urlsafe(12),
        uid=invites.new_uid(host),
        agent_id=agent.id,
        person_id=prepared.request.person_id,
        conversation_id=prepared.request.conversation_id,
        dialogue_id=prepared.request.dialogue_id,
        team_id=item.team_id,
        meeting_type_id=prepared.meeting_type_id,
        routing_decision_id=decision_id,
        site_key=prepared.request.site_key,
        channel=prepared.request.channel or "chat",
        title=f"{meeting_type.name if meeting_type else 'Meeting'} with {agent.name}",
        starts_at=prepared.start,
        ends_at=prepared.start + _length(meeting_type, prepared.request.spec.minutes, agent),
        visitor_zone=visitor_zone,
        meeting_link=agent.meeting_link,
        status="booked",
        calendar_state="pending" if registry.writes_events(provider) else "none",
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    session.flush()  # the database checks the overlap here
    return meeting


def _after_booking(
    session: Session,
    world: CalendarWorld,
    meeting: Meeting,
    person: Person,
    agent: Agent,
    prepared: Prepared,
    now: datetime,
) -> None:
    record(
        session,
        person,
        ActivityType.meeting_booked,
        now,
        {
            "meeting": meeting.public_id,
            "agent": agent.email,
            "start": meeting.starts_at.isoformat(),
            "end": meeting.ends_at.isoformat(),
            **({"channel": prepared.request.channel} if prepared.request.channel else {}),
        },  # fmt: skip
        dialogue_id=prepared.request.dialogue_id,
        conversation_id=prepared.request.conversation_id,
    )
    notices.queue_booked(session, meeting, base_url=world.settings.base_url, secret_key=world.secret_key,
                         transcript=list(prepared.request.transcript), now=now)  # fmt: skip
    if meeting.calendar_state == "pending":
        wake_after_commit(session, Wake.calendar)  # a worker writes the event once the booking is committed


# --- reschedule and reassign ----------------------------------------------------------------------------------


def agent_is_free(
    world: CalendarWorld,
    agent_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    ignore_meeting_id: int | None = None,
) -> bool:
    """Whether the agent can take [start, end): their calendar read fresh, their other meetings, working hours,
    notice, buffers and maximums. Call it outside any transaction, then write (the database still refuses an
    overlap that appears meanwhile)."""
    with world.db.read() as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"There is no agent {agent_id}.")
        session.expunge(agent)
        booked = booked_meetings(session, [agent_id], start, end, ignore_meeting_id)
    if agent.attention is not None:
        return False
    busy = read_busy(world, [agent_id], start - timedelta(days=1), end + timedelta(days=1), now, fresh=True)
    times = busy.get(agent_id)
    if times is None:
        return False
    schedule = schedule_of(agent)
    kind = meeting_type_of(None, int((end - start).total_seconds() // 60))
    wanted = (int(start.timestamp()), int(end.timestamp()))
    # An admin may move a meeting beyond the horizon visitors see.
    schedule = replace(schedule, horizon_days=max(schedule.horizon_days, (start.date() - now.date()).days + 1))
    return wanted in agent_slot_seconds(schedule, kind, times, now, booked.get(str(agent_id), ()))


def reschedule_slots(world: CalendarWorld, meeting: Meeting, now: datetime) -> list[Slot]:
    """The times the meeting's agent could move it to (same duration), for the visitor's reschedule page."""
    with world.db.read() as session:
        agent = session.get(Agent, meeting.agent_id)
        if agent is None:
            return []
        session.expunge(agent)
        start, end = _window([agent], None, now)
        booked = booked_meetings(session, [agent.id], start, end, meeting.id)
    busy = read_busy(world, [agent.id], start, end, now).get(agent.id)
    if busy is None or agent.attention is not None:
        return []
    minutes = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
    kind = meeting_type_of(None, minutes)
    found = agent_slot_seconds(schedule_of(agent), kind, busy, now, booked.get(str(agent.id), ()))
    return [Slot(to_instant(a), to_instant(b), (str(agent.id),)) for a, b in found]
