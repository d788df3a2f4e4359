"""The emails of a meeting's life: the visitor's invitation, update and cancellation (iMIP, with the iCalendar
object), the agent's notifications, the failure notice to the agent and the admins, and the visitor's reminders.

Every function queues outbox rows in the caller's transaction and does no network call: the mail goes out only if
the booking (or change) commits. Each describes the meeting as the row now stands, so the caller changes the row
first (times, status, agent). SEQUENCE: a reschedule's caller has already incremented `Meeting.sequence` (the
contract of issue #6); a cancellation and a reassignment increment it here, as `invites.cancel` does, and store it.
The visitor's address and name come from the meeting's person; a meeting without one sends the visitor nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.dialogues.models import Dialogue
from overture.mail import notification
from overture.mail.invitation import InvitationDetails, queue_cancellation, queue_invitation
from overture.mail.models import OutboxMessage
from overture.mail.schemas import NewMessage
from overture.mail.service import enqueue
from overture.people.models import Company, Person
from overture.scheduling import invites, links
from overture.scheduling.models import Agent, Meeting
from overture.sites.models import Site
from overture.users.models import User
from overture.users.roles import Role

log = structlog.get_logger(__name__)

# A meeting on the calendar (not cancelled, no outcome yet) is the one a reminder is for.
REMINDED_STATUSES = ("booked", "rescheduled")


@dataclasses.dataclass(frozen=True)
class _Facts:
    """What the emails of one meeting say, read once from its rows."""

    meeting: Meeting
    agent: Agent
    person: Person | None
    visitor: notification.Visitor
    dialogue: str


def queue_booked(
    session: Session,
    meeting: Meeting,
    *,
    base_url: str,
    secret_key: str,
    transcript: list[tuple[str, str]],
    now: datetime,
) -> list[OutboxMessage]:
    """The visitor's invitation (the site's body, METHOD:REQUEST) and the agent's notification with the visitor's
    details, the transcript as (role, text) pairs and one-click held / no-show links. Returns the queued rows."""
    facts = _facts(session, meeting)
    queued = []
    if facts.visitor.email:
        ics = invites.request(_invite(facts), now).ics
        body = _invitation_body(session, meeting)
        queued.append(queue_invitation(session, _details(facts, base_url, secret_key), ics, body))
    queued.append(enqueue(session, _booked_notice(facts, transcript, base_url, secret_key)))
    return queued


def queue_rescheduled(
    session: Session, meeting: Meeting, *, base_url: str, secret_key: str, now: datetime
) -> list[OutboxMessage]:
    """An updated invitation (METHOD:REQUEST, the same UID, the SEQUENCE the caller already incremented) at the new
    time, and a note to the agent. The reminders start over for the new time."""
    facts = _facts(session, meeting)
    meeting.reminders_sent = []
    queued = []
    if facts.visitor.email:
        ics = invites.request(_invite(facts), now).ics
        details = _details(facts, base_url, secret_key)
        queued.append(queue_invitation(session, details, ics, _invitation_body(session, meeting), updated=True))
    queued.append(enqueue(session, notification.rescheduled_notice(_agent_meeting(facts))))
    return queued


def queue_link_added(
    session: Session, meeting: Meeting, *, base_url: str, secret_key: str, now: datetime
) -> list[OutboxMessage]:
    """The visitor's invitation again, now with the video link the agent's calendar made (Google Meet, Teams): the
    same UID, the SEQUENCE the caller already incremented. Reminders and the agent are left alone."""
    facts = _facts(session, meeting)
    if not facts.visitor.email:
        return []
    ics = invites.request(_invite(facts), now).ics
    details = _details(facts, base_url, secret_key)
    return [queue_invitation(session, details, ics, _invitation_body(session, meeting), updated=True)]


def queue_cancelled(
    session: Session, meeting: Meeting, *, by: str, base_url: str, secret_key: str, now: datetime
) -> list[OutboxMessage]:
    """METHOD:CANCEL to the visitor (SEQUENCE incremented here and stored on the meeting) and a note to the agent
    saying who cancelled (`by`: "visitor", or the name or email of the user who did)."""
    facts = _facts(session, meeting)
    cancelled = invites.cancel(_invite(facts), now)
    _store_sequence(meeting, cancelled.meeting.sequence, now)
    queued = []
    if facts.visitor.email:
        queued.append(queue_cancellation(session, _details(facts, base_url, secret_key), cancelled.ics))
    queued.append(enqueue(session, notification.cancelled_notice(_agent_meeting(facts), by)))
    return queued


def queue_reassigned(
    session: Session, meeting: Meeting, previous_agent: Agent, *, base_url: str, secret_key: str, now: datetime
) -> list[OutboxMessage]:
    """After the caller moved the meeting to its new agent: an updated invitation to the visitor with the new agent
    as organizer (SEQUENCE incremented here and stored), the new agent's notification (with outcome links) and a
    note to the previous agent."""
    facts = _facts(session, meeting)
    moved = invites.reschedule(_invite(facts), meeting.starts_at, meeting.ends_at, now)
    _store_sequence(meeting, moved.meeting.sequence, now)
    queued = []
    if facts.visitor.email:
        details = _details(facts, base_url, secret_key)
        queued.append(queue_invitation(session, details, moved.ics, _invitation_body(session, meeting), updated=True))
    queued.append(enqueue(session, _booked_notice(facts, [], base_url, secret_key, reassigned_from=previous_agent)))
    previous = dataclasses.replace(
        _agent_meeting(facts),
        agent_name=previous_agent.name,
        agent_email=previous_agent.email,
        agent_zone=previous_agent.time_zone,
    )
    queued.append(enqueue(session, notification.reassigned_away_notice(previous, facts.agent.name)))
    return queued


def queue_booking_failed(
    session: Session,
    *,
    reason: str,
    agent: Agent | None,
    visitor_email: str | None,
    start: datetime | None,
    now: datetime,
) -> list[OutboxMessage]:
    """Tells the agent (when one was chosen) and every active admin that a booking failed, and why. Times are on
    the agent's clock (UTC for the admins when there is no agent)."""
    zone = agent.time_zone if agent is not None else "UTC"
    recipients = [agent.email] if agent is not None else []
    admins = session.scalars(
        select(User.email).where(User.role == Role.admin, User.is_active.is_(True)).order_by(User.id)
    )
    recipients += [email for email in admins if email not in recipients]
    log.warning("meeting.booking_failed", reason=reason, agent_id=agent.id if agent else None, at=now.isoformat())
    return [
        enqueue(
            session,
            notification.booking_failed_notice(
                address,
                reason=reason,
                agent_name=agent.name if agent is not None else "",
                visitor_email=visitor_email or "",
                start=start,
                zone=zone,
            ),
        )
        for address in recipients
    ]


def queue_due_reminders(
    session: Session, now: datetime, leads_minutes: list[int], *, base_url: str, secret_key: str
) -> int:
    """Queues the visitor's reminders now due; returns how many were queued.

    For a meeting on the calendar that has not started, a lead (minutes before the start) is due once the start is
    that close. When several leads are due at once (a meeting booked 30 minutes ahead: both 24 h and 1 h), only the
    shortest is sent, and the longer ones are recorded as passed: the visitor gets one reminder, never a "24 hours"
    one half an hour before. Each lead is recorded in `Meeting.reminders_sent`, so no reminder goes twice. Rows
    another worker holds are skipped (SKIP LOCKED on PostgreSQL; SQLite writers are serialized)."""
    leads = sorted({lead for lead in leads_minutes if lead > 0})
    if not leads:
        return 0
    candidates = session.scalars(
        select(Meeting)
        .where(
            Meeting.status.in_(REMINDED_STATUSES),
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(minutes=leads[-1]),
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for meeting in candidates:
        done = set(meeting.reminders_sent or [])
        due = [lead for lead in leads if lead not in done and meeting.starts_at - timedelta(minutes=lead) <= now]
        if not due:
            continue
        meeting.reminders_sent = sorted(done | set(due), reverse=True)
        facts = _facts(session, meeting)
        if facts.visitor.email:
            enqueue(session, notification.reminder(_details(facts, base_url, secret_key), now))
            sent += 1
    session.flush()
    return sent


# --- reading the meeting's facts ----------------------------------------------------------------------------


def _facts(session: Session, meeting: Meeting) -> _Facts:
    agent = session.get(Agent, meeting.agent_id)
    if agent is None:  # the foreign key forbids it; a clear error rather than an AttributeError later
        raise LookupError(f"meeting {meeting.public_id} names agent {meeting.agent_id}, who does not exist")
    person = session.get(Person, meeting.person_id) if meeting.person_id is not None else None
    dialogue = session.get(Dialogue, meeting.dialogue_id) if meeting.dialogue_id is not None else None
    return _Facts(meeting, agent, person, _visitor(session, person), dialogue.name if dialogue else "")


def _visitor(session: Session, person: Person | None) -> notification.Visitor:
    if person is None:
        return notification.Visitor(name="", email="")
    name = " ".join(part.strip() for part in (person.first_name or "", person.last_name or "") if part.strip())
    company = session.get(Company, person.company_id) if person.company_id is not None else None
    return notification.Visitor(
        name=name,
        email=person.contact_email or "",
        company=(company.name or "") if company is not None else "",
        phone=person.phone or "",
    )


def _invite(facts: _Facts) -> invites.MeetingInvite:
    meeting = facts.meeting
    return invites.MeetingInvite(
        uid=meeting.uid,
        sequence=meeting.sequence,
        start=meeting.starts_at,
        end=meeting.ends_at,
        agent_zone=facts.agent.time_zone,
        agent_name=facts.agent.name,
        agent_email=facts.agent.email,
        visitor_name=facts.visitor.name,
        visitor_email=facts.visitor.email,
        title=meeting.title,
        meeting_link=meeting.meeting_link,
    )


def _details(facts: _Facts, base_url: str, secret_key: str) -> InvitationDetails:
    meeting = facts.meeting
    return InvitationDetails(
        visitor_name=facts.visitor.name,
        visitor_first_name=((facts.person.first_name or "").strip() if facts.person is not None else ""),
        visitor_email=facts.visitor.email,
        visitor_zone=meeting.visitor_zone or "UTC",
        agent_name=facts.agent.name,
        title=meeting.title,
        start=meeting.starts_at,
        end=meeting.ends_at,
        meeting_link=meeting.meeting_link,
        reschedule_link=links.url(base_url, secret_key, meeting.public_id, "reschedule"),
        cancel_link=links.url(base_url, secret_key, meeting.public_id, "cancel"),
    )


def _agent_meeting(facts: _Facts) -> notification.AgentMeeting:
    meeting = facts.meeting
    return notification.AgentMeeting(
        title=meeting.title,
        start=meeting.starts_at,
        end=meeting.ends_at,
        agent_name=facts.agent.name,
        agent_email=facts.agent.email,
        agent_zone=facts.agent.time_zone,
        visitor=facts.visitor,
        meeting_link=meeting.meeting_link,
        dialogue=facts.dialogue,
    )


def _booked_notice(
    facts: _Facts,
    transcript: list[tuple[str, str]],
    base_url: str,
    secret_key: str,
    reassigned_from: Agent | None = None,
) -> NewMessage:
    public_id = facts.meeting.public_id
    return notification.booked_notice(
        _agent_meeting(facts),
        transcript,
        held_link=links.url(base_url, secret_key, public_id, "held"),
        no_show_link=links.url(base_url, secret_key, public_id, "no_show"),
        reassigned_from=reassigned_from.name if reassigned_from is not None else "",
    )


def _invitation_body(session: Session, meeting: Meeting) -> str | None:
    """The body of the meeting's site, None for the default one."""
    if not meeting.site_key:
        return None
    return session.scalar(select(Site.invitation_body).where(Site.key == meeting.site_key))


def _store_sequence(meeting: Meeting, sequence: int, now: datetime) -> None:
    meeting.sequence = sequence
    meeting.updated_at = now
