"""The life of a booked meeting after the booking: the outcome after the end (held or no-show), cancel, reschedule
and reassign. What the Meetings list shows, and who may see which meeting, is in meeting_list.py.

Every function works in the caller's transaction, validates everything before changing anything, and records an
activity on the visitor with the change. The database refuses two overlapping meetings of one agent (constraint or
trigger "meetings_no_overlap"); a move that collides is undone inside a savepoint and reported as a Conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType, record
from overture.calendars import registry
from overture.calendars.models import CalendarConnection
from overture.db import Wake, wake_after_commit
from overture.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from overture.people.models import Person
from overture.scheduling import notices, rotation
from overture.scheduling.meeting_list import (
    MODE_LABELS,
    STATUS_LABELS,
    agent_of_user,
    is_manager,
    require_manager,
    utc_text,
)
from overture.scheduling.models import Agent, Meeting, RoutingDecision
from overture.users.models import User
from overture.users.roles import Role

OUTCOMES = ("held", "no_show")
CANCELLED_BY = ("visitor", "agent", "admin")
_OVERLAP = "meetings_no_overlap"


def require_may_change(session: Session, meeting: Meeting, user: User) -> None:
    """Admins and sales admins may change any meeting; an agent only their own. Raises Forbidden."""
    if is_manager(user):
        return
    own = agent_of_user(session, user) if Role(user.role) == Role.agent else None
    if own is None or own.id != meeting.agent_id:
        raise Forbidden("Only the meeting's agent, an admin or a sales admin can change this meeting.")


def _activity(session: Session, meeting: Meeting, type: ActivityType, now: datetime, **attributes: Any) -> None:
    """Records the change on the visitor (nothing when the person was deleted: there is nobody to record it on)."""
    person = session.get(Person, meeting.person_id) if meeting.person_id is not None else None
    if person is None:
        return
    record(
        session, person, type, now, {"meeting": meeting.public_id, **attributes},
        dialogue_id=meeting.dialogue_id, conversation_id=meeting.conversation_id,
    )  # fmt: skip


def require_upcoming(meeting: Meeting, now: datetime) -> None:
    """Only a meeting still to come can be cancelled or moved."""
    if meeting.status == "cancelled":
        raise Conflict("This meeting is already cancelled.")
    if meeting.status in OUTCOMES or meeting.starts_at <= now:
        raise Conflict("This meeting has already started or taken place: it can no longer be changed.")


def _write_again(meeting: Meeting) -> None:
    """The agent's calendar event must be written again (the sync job picks it up at once)."""
    if meeting.calendar_state != "none":
        meeting.calendar_state = "pending"
    meeting.calendar_attempts = 0
    meeting.calendar_retry_at = None
    meeting.calendar_error = None


def _calendar_queued(session: Session, meeting: Meeting) -> None:
    """Tells the request to wake the calendar sync when there is an event to write or remove."""
    if meeting.calendar_state in ("pending", "cancel_pending"):
        wake_after_commit(session, Wake.calendar)


def _is_overlap(exc: IntegrityError) -> bool:
    return _OVERLAP in str(exc.orig)


def mark_outcome(session: Session, meeting: Meeting, outcome: str, by: User | None, now: datetime) -> None:
    """Marks a meeting held or no-show, after its end only. `by` is the user who marks it (None: the agent's
    one-click link, already signed). A no-show gives the agent's turn back when the team does that. Raises
    InvalidInput (unknown outcome, before the end), Conflict (cancelled or already marked), Forbidden."""
    if outcome not in OUTCOMES:
        raise InvalidInput("The outcome must be held or no-show.", [Problem("outcome", "use held or no_show.")])
    if by is not None:
        require_may_change(session, meeting, by)
    if meeting.status == "cancelled":
        raise Conflict("This meeting was cancelled: it has no outcome to mark.")
    if meeting.status in OUTCOMES:
        raise Conflict(f"This meeting is already marked as {STATUS_LABELS[meeting.status].lower()}.")
    if now < meeting.ends_at:
        message = (
            f"The meeting has not ended yet (it ends at {utc_text(meeting.ends_at)}): mark it held or no-show after "
            "its end."
        )
        raise InvalidInput(message, [Problem("outcome", message)])
    meeting.status = outcome
    meeting.outcome_at = now
    meeting.updated_at = now
    if outcome == "no_show" and meeting.team_id is not None:
        rotation.give_turn_back(session, meeting.team_id, meeting.agent_id)
    _activity(session, meeting, ActivityType.meeting_outcome, now, outcome=outcome, by=by.email if by else "link")
    session.flush()


def cancel(
    session: Session,
    meeting: Meeting,
    *,
    by: str,
    now: datetime,
    base_url: str,
    secret_key: str,
    actor: User | None = None,
) -> None:
    """Cancels a meeting still to come: off the agent's calendar (cancel_pending, or nothing when nothing was
    written), the turn given back when the team does that, emails to both sides. `by` is visitor, agent or admin;
    `actor` the user who did it, named in the agent's email. Raises Conflict for a cancelled or past meeting."""
    if by not in CANCELLED_BY:
        raise InvalidInput("Who cancels must be visitor, agent or admin.", [Problem("by", "unknown canceller.")])
    require_upcoming(meeting, now)
    meeting.status = "cancelled"
    meeting.cancelled_at = now
    meeting.updated_at = now
    # The sequence rises with the METHOD:CANCEL that notices.queue_cancelled sends (it stores it on the meeting).
    if meeting.calendar_state != "none":
        meeting.calendar_state = "cancel_pending"
        meeting.calendar_attempts = 0
        meeting.calendar_retry_at = None
        meeting.calendar_error = None
    session.flush()
    if meeting.team_id is not None:
        rotation.give_turn_back(session, meeting.team_id, meeting.agent_id)
    _calendar_queued(session, meeting)
    who = {"user": actor.email} if actor is not None else {}
    _activity(session, meeting, ActivityType.meeting_cancelled, now, by=by, **who)
    named = (actor.name or actor.email) if actor is not None else by
    notices.queue_cancelled(session, meeting, by=named, base_url=base_url, secret_key=secret_key, now=now)
    session.flush()


def reschedule(
    session: Session, meeting: Meeting, new_start: datetime, *, now: datetime, base_url: str, secret_key: str
) -> None:
    """Moves the meeting to `new_start` (same length) with the same agent. The caller has checked the agent's
    calendar (booking.agent_is_free, outside the transaction); the database still refuses an overlap with another
    of the agent's meetings, reported as Conflict with nothing changed. Raises InvalidInput, Conflict."""
    require_upcoming(meeting, now)
    if new_start.utcoffset() is None:
        raise InvalidInput("The new time must carry its time zone.", [Problem("start", "no time zone.")])
    if new_start <= now:
        raise InvalidInput("Pick a time in the future.", [Problem("start", "this time has passed.")])
    if new_start == meeting.starts_at:
        raise InvalidInput("The meeting is already at that time.", [Problem("start", "pick another time.")])
    length = meeting.ends_at - meeting.starts_at
    previous = meeting.starts_at
    try:
        with session.begin_nested():
            meeting.starts_at = new_start
            meeting.ends_at = new_start + length
            meeting.status = "rescheduled"
            meeting.sequence += 1
            meeting.updated_at = now
            # Reminders are counted from the new time.
            meeting.reminders_sent = []
            _write_again(meeting)
            session.flush()
    except IntegrityError as exc:
        if not _is_overlap(exc):
            raise
        message = "That time was just taken: pick another."
        raise Conflict(message, [Problem("start", message)]) from None
    _calendar_queued(session, meeting)
    _activity(session, meeting, ActivityType.meeting_rescheduled, now, previous_start=utc_text(previous),
              start=utc_text(new_start))  # fmt: skip
    notices.queue_rescheduled(session, meeting, base_url=base_url, secret_key=secret_key, now=now)
    session.flush()


def _calendar_state_of(session: Session, agent: Agent) -> str:
    """pending for an agent whose calendar takes events; none for a calendar that takes none (the built-in
    one) or none connected."""
    provider = session.scalar(select(CalendarConnection.provider).where(CalendarConnection.agent_id == agent.id))
    return "pending" if registry.writes_events(provider) else "none"


def reassign(
    session: Session,
    meeting: Meeting,
    new_agent: Agent,
    *,
    by: User,
    now: datetime,
    base_url: str,
    secret_key: str,
) -> RoutingDecision:
    """Gives the meeting to `new_agent` (an admin's or sales admin's decision; the caller has checked that agent's
    calendar with booking.agent_is_free). The previous agent's event is listed for removal, the new agent's is to
    be written, the decision is kept in the routing ledger, the previous agent gets their turn back when the team
    does that, and both agents and the visitor are told. Raises Forbidden, InvalidInput, Conflict."""
    require_manager(by)
    require_upcoming(meeting, now)
    if new_agent.id == meeting.agent_id:
        raise InvalidInput("The meeting is already this agent's.", [Problem("agent", "pick another agent.")])
    if not new_agent.user.is_active or Role(new_agent.user.role) != Role.agent:
        raise InvalidInput(f"{new_agent.name} cannot take meetings.", [Problem("agent", "not an active agent.")])
    previous = session.get(Agent, meeting.agent_id)
    if previous is None:  # pragma: no cover - the foreign key is RESTRICT
        raise NotFound("The meeting's agent no longer exists.")
    old_decision = session.get(RoutingDecision, meeting.routing_decision_id) if meeting.routing_decision_id else None
    new_state = _calendar_state_of(session, new_agent)
    try:
        with session.begin_nested():
            if meeting.calendar_state != "none":
                removal = {"agent_id": previous.id, "uid": meeting.uid, "href": meeting.calendar_href,
                           "etag": meeting.calendar_etag}  # fmt: skip
                meeting.calendar_removals = [*(meeting.calendar_removals or []), removal]
            meeting.agent_id = new_agent.id
            meeting.calendar_href = None
            meeting.calendar_etag = None
            _write_again(meeting)
            meeting.calendar_state = new_state
            meeting.meeting_link = new_agent.meeting_link
            # The sequence rises with the updated invitation notices.queue_reassigned sends.
            meeting.updated_at = now
            session.flush()
    except IntegrityError as exc:
        if not _is_overlap(exc):
            raise
        message = f"{new_agent.name} just got another meeting at that time: pick another agent."
        raise Conflict(message, [Problem("agent", message)]) from None
    note = f"Reassigned from {previous.name} to {new_agent.name} by {by.name or by.email}."
    if old_decision is not None:
        before = MODE_LABELS.get(old_decision.mode, old_decision.mode)
        note += f" First routed by {before}" + (f": {old_decision.note}" if old_decision.note else ".")
    decision = RoutingDecision(team_id=None, mode="reassigned", note=note[:500], agent_id=new_agent.id,
                               skipped=[], decided_at=now)  # fmt: skip
    session.add(decision)
    session.flush()
    meeting.routing_decision_id = decision.id
    if meeting.team_id is not None:
        rotation.give_turn_back(session, meeting.team_id, previous.id)
    _calendar_queued(session, meeting)
    _activity(session, meeting, ActivityType.meeting_rescheduled, now, reassigned_from=previous.email,
              to=new_agent.email, by=by.email)  # fmt: skip
    notices.queue_reassigned(session, meeting, previous, base_url=base_url, secret_key=secret_key, now=now)
    session.flush()
    return decision


def agents_for_reassignment(session: Session, meeting: Meeting) -> list[Agent]:
    """The active agents who could take the meeting instead, by name."""
    agents = session.scalars(
        select(Agent)
        .join(User, User.id == Agent.user_id)
        .where(User.is_active, User.role == Role.agent.value, Agent.id != meeting.agent_id)
    )
    return sorted(agents, key=lambda agent: agent.name.lower())


def all_agents(session: Session) -> list[Agent]:
    """Every agent, for the list's filter."""
    agents = session.scalars(select(Agent).join(User, User.id == Agent.user_id))
    return sorted(agents, key=lambda agent: agent.name.lower())
