"""Writing meetings to the agents' calendars, by a job, with retries: the meeting is booked in Overture first and
its calendar event follows.

A meeting whose `calendar_state` is pending, cancel_pending or failed, or that has events left to remove, is due
when `calendar_retry_at` is empty or past. What to write follows from the meeting as it stands: a cancelled
meeting's event is removed, any other is created (no `calendar_href` yet) or updated; events listed in
`calendar_removals` (the previous agent's, after a reassignment) are removed from those agents' calendars. An agent
with no calendar, or the builtin one, has nothing to write: the state becomes "none".

One meeting at a time: claim the row (a compare-and-set on its state and retry time, which also hides it from other
workers for CLAIM_TIMEOUT), read what is needed, close the transaction, call the provider, then record the result
in a short transaction. If the meeting changed meanwhile (rescheduled, cancelled, reassigned), the reference to the
event written is kept and the meeting is due again at once, so the next pass writes the newer state. A failure
leaves the meeting booked: state "failed", the error for the admin, and a retry after 1, 2, 4... minutes (at most an
hour, or later when the provider said so); a calendar refusing our credentials or gone also marks the agent
"needs attention".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm import Session

from overture.calendars import registry
from overture.calendars.connections import open_calendar
from overture.calendars.models import CalendarConnection
from overture.calendars.provider import Attendee, CalendarError, CalendarProvider, Event, EventRef, RetryLater
from overture.calendars.world import CalendarWorld
from overture.people.models import Person
from overture.scheduling import attention, notices
from overture.scheduling.models import Agent, Meeting

log = structlog.get_logger(__name__)
T = TypeVar("T")

DUE_STATES = ("pending", "cancel_pending", "failed")
# A claim whose worker died is taken up again after this long (calls to a calendar time out well before).
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
# Failures only the agent can fix: they also mark the agent as needing attention.
ATTENTION_FAILURES = frozenset({"credentials", "gone"})


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """1, 2, 4, 8... minutes after the 1st, 2nd, 3rd, 4th... failure, at most an hour; never sooner than the
    provider's Retry-After."""
    backoff = min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), MAX_BACKOFF)
    if retry_after is not None and retry_after > 0:
        return max(backoff, timedelta(seconds=retry_after))
    return backoff


@dataclass
class _Claim:
    """A claimed meeting as it was read: what to write, where, and the values that tell whether it changed."""

    meeting_id: int
    token: datetime
    state: str
    status: str
    agent_id: int
    sequence: int
    starts_at: datetime
    ends_at: datetime
    href: str | None
    etag: str | None
    removals: list[dict[str, Any]]
    event: Event
    connection: CalendarConnection | None
    removal_connections: dict[int, CalendarConnection]

    @property
    def cancel(self) -> bool:
        return self.status == "cancelled"


@dataclass
class _Outcome:
    """What the calls did: the main event's new state and reference, the removals still to do, the first error."""

    state: str | None = None
    ref: EventRef | None = None
    removed: bool = False
    removals_left: list[dict[str, Any]] = field(default_factory=list)
    error: CalendarError | None = None
    error_agent_id: int | None = None


def sync_due(world: CalendarWorld, now: datetime, limit: int = 50) -> int:
    """Writes, updates or removes the calendar events of up to `limit` due meetings; returns how many meetings were
    worked on (written, or failed and set to retry). Never raises for a calendar error."""
    worked = 0
    for _ in range(limit):
        claim = _claim_next(world, now)
        if claim is None:
            break
        _record(world, claim, _sync(world, claim), now)
        worked += 1
    return worked


# --- claiming ---------------------------------------------------------------------------------------------------


def _claim_next(world: CalendarWorld, now: datetime) -> _Claim | None:
    """Claims the due meeting waiting longest; None when none is due."""
    while True:
        with world.db.write() as session:
            candidate = session.scalars(
                select(Meeting)
                .where(
                    # Events left to remove count too: a meeting reassigned to an agent with nothing to write
                    # ("none") still has the previous agent's event to take off their calendar.
                    or_(Meeting.calendar_state.in_(DUE_STATES), cast(Meeting.calendar_removals, Text) != "[]"),
                    or_(Meeting.calendar_retry_at.is_(None), Meeting.calendar_retry_at <= now),
                )
                .order_by(Meeting.calendar_retry_at.asc().nulls_first(), Meeting.id)
                .limit(1)
            ).first()
            if candidate is None:
                return None
            token = now + CLAIM_TIMEOUT
            was = candidate.calendar_retry_at
            claimed = session.execute(
                update(Meeting)
                .where(
                    Meeting.id == candidate.id,
                    Meeting.calendar_state == candidate.calendar_state,
                    Meeting.calendar_retry_at.is_(None) if was is None else Meeting.calendar_retry_at == was,
                )
                .values(calendar_retry_at=token)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return _read_claim(session, candidate, token)
        # Another worker claimed it between our read and our update: look for the next one.


def _read_claim(session: Session, meeting: Meeting, token: datetime) -> _Claim:
    agent = session.get(Agent, meeting.agent_id)
    assert agent is not None  # a foreign key with ON DELETE RESTRICT
    removals = [dict(item) for item in meeting.calendar_removals or []]
    agent_ids = {meeting.agent_id} | {int(item["agent_id"]) for item in removals if item.get("agent_id") is not None}
    connections = {
        connection.agent_id: connection
        for connection in session.scalars(select(CalendarConnection).where(CalendarConnection.agent_id.in_(agent_ids)))
    }
    # Detached: the provider is opened and called after this transaction ends.
    for connection in connections.values():
        session.expunge(connection)
    return _Claim(
        meeting_id=meeting.id,
        token=token,
        state=meeting.calendar_state,
        status=meeting.status,
        agent_id=meeting.agent_id,
        sequence=meeting.sequence,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        href=meeting.calendar_href,
        etag=meeting.calendar_etag,
        removals=removals,
        event=_event(session, meeting, agent),
        connection=connections.get(meeting.agent_id),
        removal_connections=connections,
    )


def _event(session: Session, meeting: Meeting, agent: Agent) -> Event:
    person = session.get(Person, meeting.person_id) if meeting.person_id is not None else None
    attendees: tuple[Attendee, ...] = ()
    visitor = "a visitor"
    if person is not None and person.contact_email:
        name = " ".join(part for part in (person.first_name, person.last_name) if part)
        attendees = (Attendee(person.contact_email, name),)
        visitor = f"{name} <{person.contact_email}>" if name else person.contact_email
    description = f"Meeting with {visitor}, booked through Overture."
    if meeting.meeting_link:
        description += f"\n\nJoin the meeting: {meeting.meeting_link}"
    # On the agent's clock: a provider that keeps zones (Google) shows the event in the agent's zone.
    zone = _zone(agent.time_zone)
    return Event(
        uid=meeting.uid,
        summary=meeting.title,
        start=meeting.starts_at.astimezone(zone),
        end=meeting.ends_at.astimezone(zone),
        organizer=Attendee(agent.email, agent.name),
        attendees=attendees,
        description=description,
        location=meeting.meeting_link,
        sequence=meeting.sequence,
        created=meeting.created_at,
    )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# --- calling the calendars (no transaction open) ----------------------------------------------------------------


def _writable(connection: CalendarConnection | None) -> bool:
    return connection is not None and registry.writes_events(connection.provider)


def _sync(world: CalendarWorld, claim: _Claim) -> _Outcome:
    outcome = _Outcome()
    for removal in claim.removals:
        connection = claim.removal_connections.get(int(removal.get("agent_id") or 0))
        if not removal.get("href") or not _writable(connection):
            continue  # nothing was written there, or nowhere to remove it from
        assert connection is not None
        ref = EventRef(str(removal.get("uid") or claim.event.uid), str(removal["href"]), removal.get("etag"))
        try:
            _force_on_change(open_calendar(world, connection).cancel_event, ref)
        except CalendarError as exc:
            outcome.removals_left.append(removal)
            _fail(outcome, exc, connection.agent_id, claim)
    if not _writable(claim.connection):
        outcome.state = "none"
        return outcome
    assert claim.connection is not None
    try:
        provider = open_calendar(world, claim.connection)
        if claim.cancel:
            if claim.href:
                _force_on_change(provider.cancel_event, EventRef(claim.event.uid, claim.href, claim.etag))
            outcome.removed = True
            outcome.state = "cancelled"
        else:
            outcome.ref = _write(provider, claim)
            outcome.state = "written"
    except CalendarError as exc:
        _fail(outcome, exc, claim.agent_id, claim)
    return outcome


def _write(provider: CalendarProvider, claim: _Claim) -> EventRef:
    if not claim.href:
        return provider.create_event(claim.event)
    ref = EventRef(claim.event.uid, claim.href, claim.etag)
    return _force_on_change(lambda ref: provider.update_event(ref, claim.event), ref)


def _force_on_change(call: Callable[[EventRef], T], ref: EventRef) -> T:
    """Calls `call(ref)`; when the provider refuses because the event changed in the calendar since we wrote it (an
    agent moved it by hand), calls again without the version check: the meeting in Overture is what the visitor was
    sent, so the calendar must match it."""
    try:
        return call(ref)
    except CalendarError as exc:
        if exc.reason != "changed" or ref.etag is None:
            raise
    return call(EventRef(ref.uid, ref.href, None))


def _fail(outcome: _Outcome, exc: CalendarError, agent_id: int, claim: _Claim) -> None:
    log.warning(
        "calendar.sync_failed", meeting_id=claim.meeting_id, agent_id=agent_id, reason=exc.reason, error=exc.message
    )
    if outcome.error is None:
        outcome.error, outcome.error_agent_id = exc, agent_id


# --- recording the result ---------------------------------------------------------------------------------------


def _record(world: CalendarWorld, claim: _Claim, outcome: _Outcome, now: datetime) -> None:
    with world.db.write() as session:
        meeting = session.get(Meeting, claim.meeting_id, with_for_update=True, populate_existing=True)
        if meeting is None:
            return
        same_agent = meeting.agent_id == claim.agent_id
        unchanged = same_agent and (
            meeting.calendar_retry_at == claim.token
            and meeting.calendar_state == claim.state
            and meeting.status == claim.status
            and meeting.sequence == claim.sequence
            and meeting.starts_at == claim.starts_at
            and meeting.ends_at == claim.ends_at
            and meeting.calendar_href == claim.href
        )
        done = [item for item in claim.removals if item not in outcome.removals_left]
        removals = [item for item in meeting.calendar_removals or [] if item not in done]
        if outcome.ref is not None:
            if same_agent:
                meeting.calendar_href, meeting.calendar_etag = outcome.ref.href, outcome.ref.etag
                _adopt_join_url(session, world, meeting, outcome.ref, now)
            else:  # reassigned while we wrote: the event just written is on the wrong calendar
                removals.append({"agent_id": claim.agent_id, "uid": outcome.ref.uid, "href": outcome.ref.href,
                                 "etag": outcome.ref.etag})  # fmt: skip
        if outcome.removed and same_agent:
            meeting.calendar_href = meeting.calendar_etag = None
        meeting.calendar_removals = removals
        if not unchanged:
            # Changed meanwhile: due again at once, to write what it is now.
            if meeting.calendar_retry_at == claim.token:
                meeting.calendar_retry_at = None
            if meeting.calendar_state not in DUE_STATES:
                meeting.calendar_state = "pending"
        elif outcome.error is not None:
            meeting.calendar_attempts += 1
            meeting.calendar_state = "failed"
            meeting.calendar_error = outcome.error.message
            retry_after = outcome.error.retry_after if isinstance(outcome.error, RetryLater) else None
            meeting.calendar_retry_at = now + retry_delay(meeting.calendar_attempts, retry_after)
        else:
            meeting.calendar_state = outcome.state or "written"
            meeting.calendar_attempts = 0
            meeting.calendar_error = None
            meeting.calendar_retry_at = None
        _follow_agents(session, claim, outcome, now, world.settings.base_url)


def _adopt_join_url(session: Session, world: CalendarWorld, meeting: Meeting, ref: EventRef, now: datetime) -> None:
    """The video link Google or Microsoft made for a meeting that had none becomes the meeting's link, and the
    visitor gets the invitation again with it (same UID, SEQUENCE up)."""
    if not ref.join_url or meeting.meeting_link or meeting.status == "cancelled":
        return
    meeting.meeting_link = ref.join_url[:2000]
    meeting.sequence += 1
    notices.queue_link_added(session, meeting, base_url=world.settings.base_url, secret_key=world.secret_key,
                              now=now)  # fmt: skip


def _follow_agents(session: Session, claim: _Claim, outcome: _Outcome, now: datetime, base_url: str) -> None:
    """A calendar that refuses our credentials or is gone needs its agent; one that just worked is fine again."""
    error = outcome.error
    if error is not None and error.reason in ATTENTION_FAILURES and outcome.error_agent_id is not None:
        failing = session.get(Agent, outcome.error_agent_id)
        if failing is not None:
            attention.mark(session, failing, error.message, now, base_url)
    if outcome.state in ("written", "cancelled") and (error is None or outcome.error_agent_id != claim.agent_id):
        agent = session.get(Agent, claim.agent_id)
        if agent is not None and agent.attention is not None and _writable(claim.connection):
            attention.clear(session, agent)
