"""The events webhooks carry: their types, their stable ids and their bodies (schema version 1, docs/webhooks.md).

Every body is `{"type": ..., "version": 1, "timestamp": ..., "data": {...}}` (Standard Webhooks' payload shape,
plus the version of the data's schema). A change that adds keys keeps the version; one that removes or changes a
key would be a new version, sent as its own event type (`meeting.booked.v2`) that endpoints subscribe to.

The events come from the activity log (activities/feed.py): every activity type is an event of the same name, and
two more are derived from a captured field, so nothing is written on the visitor's path to make them:

- `person.created`: the person became known, that is their email was captured for the first time (a visitor is a
  person row from their first page view, but nobody to a receiver until then);
- `person.updated`: a field of the person was captured in a conversation (its name and value in `changed`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.dialogues.models import Dialogue
from overture.people.models import Company, Person
from overture.scheduling.models import Agent, Meeting
from overture.users.models import User

SCHEMA_VERSION = 1
PERSON_CREATED = "person.created"
PERSON_UPDATED = "person.updated"
TEST = "webhook.test"
EMAIL_FIELD = "person.email"
PERSON_EVENTS = frozenset({PERSON_CREATED, PERSON_UPDATED})

# What each activity type means to a receiver; every activity type is an event (tests/webhooks/test_events.py fails
# when a new one has no line here).
ACTIVITY_EVENTS: dict[str, str] = {
    ActivityType.dialogue_triggered.value: "A dialogue showed to a visitor.",
    ActivityType.dialogue_engaged.value: "A visitor answered a dialogue.",
    ActivityType.dialogue_completed.value: "A visitor reached the end of a dialogue.",
    ActivityType.dialogue_dropped.value: "A visitor left a dialogue half-way.",
    ActivityType.dialogue_dismissed.value: "A visitor closed a dialogue.",
    ActivityType.field_captured.value: "A visitor gave a field's value in a conversation.",
    ActivityType.link_clicked.value: "A visitor opened a link of a dialogue.",
    ActivityType.goal_reached.value: "A conversation reached one of its goals.",
    ActivityType.meeting_booked.value: "A meeting was booked.",
    ActivityType.meeting_rescheduled.value: "A meeting was moved or given to another agent.",
    ActivityType.meeting_cancelled.value: "A meeting was cancelled.",
    ActivityType.meeting_outcome.value: "A meeting's outcome was recorded (held, no-show...).",
    ActivityType.program_status_changed.value: "A person's status in a program changed.",
    ActivityType.program_removed.value: "A person was removed from a program.",
    ActivityType.list_added.value: "A person was added to a static list.",
    ActivityType.list_removed.value: "A person was removed from a static list.",
    ActivityType.marketo_visited_web_page.value: "Marketo recorded a visit of the person to a web page.",
    ActivityType.marketo_filled_out_form.value: "Marketo recorded the person filling out a form.",
    ActivityType.marketo_clicked_link.value: "Marketo recorded the person clicking a link.",
    ActivityType.marketo_opened_email.value: "Marketo recorded the person opening an email.",
    ActivityType.marketo_clicked_email.value: "Marketo recorded the person clicking a link in an email.",
    ActivityType.marketo_changed_program_status.value: "Marketo changed the person's status in a program.",
}
# What an admin may subscribe to, with what each means (the page's checkboxes, the API's list): every activity type
# (one without a line above still shows, under its own name) and the person's two.
EVENT_TYPES: dict[str, str] = {
    **{t.value: ACTIVITY_EVENTS.get(t.value, f"A {t.value} activity.") for t in ActivityType},
    PERSON_CREATED: "A person became known: their email was captured for the first time.",
    PERSON_UPDATED: "A field of a person was captured in a conversation.",
}
_MEETING_TYPES = frozenset(t for t in EVENT_TYPES if t.startswith("meeting."))


def event_id(activity: Activity, event_type: str) -> str:
    """The event's stable id: the same at every read of the activity (the feed is at least once), for every
    endpoint, and never the same for another activity, even one given the id of a purged one (SQLite)."""
    seed = f"{activity.id}|{activity.occurred_at.isoformat()}|{event_type}"
    return "msg_" + hashlib.sha256(seed.encode()).hexdigest()[:26]


def new_event_id() -> str:
    """An id for an event of no activity (a test event, an automation's call)."""
    return "msg_" + secrets.token_hex(13)


def iso(instant: datetime) -> str:
    """UTC, to the millisecond, as JavaScript's toISOString writes it: 2026-03-15T12:00:01.000Z."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(event_type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The body as sent and signed: compact JSON, keys in the order written."""
    body = {"type": event_type, "version": SCHEMA_VERSION, "timestamp": iso(timestamp), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def person_data(session: Session, person_id: int | None) -> dict[str, Any] | None:
    person = session.get(Person, person_id) if person_id is not None else None
    if person is None:
        return None
    company = session.get(Company, person.company_id) if person.company_id is not None else None
    return {
        "id": person.id,
        "email": person.email,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "phone": person.phone,
        "title": person.title,
        "language": person.language,
        "fields": dict(person.fields or {}),
        "company": None
        if company is None
        else {"id": company.id, "name": company.name, "domain": company.domain, "owner": company.owner},
        "created_at": iso(person.created_at),
    }


def _meeting_data(session: Session, public_id: Any) -> dict[str, Any] | None:
    if not isinstance(public_id, str):
        return None
    meeting = session.scalar(select(Meeting).where(Meeting.public_id == public_id))
    if meeting is None:
        return None
    agent = session.get(Agent, meeting.agent_id)
    user = session.get(User, agent.user_id) if agent is not None else None
    return {
        "id": meeting.public_id,
        "title": meeting.title,
        "status": meeting.status,
        "start": iso(meeting.starts_at),
        "end": iso(meeting.ends_at),
        "agent": None
        if user is None or agent is None
        else {"email": user.email, "name": agent.display_name or user.name},
        "meeting_link": meeting.meeting_link or None,
    }


def _first_email_capture(session: Session, activity: Activity) -> bool:
    earlier = session.scalar(
        select(Activity.id)
        .where(
            Activity.person_id == activity.person_id,
            Activity.type == ActivityType.field_captured.value,
            Activity.id < activity.id,
        )
        .where(Activity.attributes["field"].as_string() == EMAIL_FIELD)
        .limit(1)
    )
    return earlier is None


def events_of(session: Session, activity: Activity) -> list[tuple[str, dict[str, Any]]]:
    """The events (type, data) an activity makes: its own, and the person's when it captured a field."""
    dialogue = session.get(Dialogue, activity.dialogue_id) if activity.dialogue_id is not None else None
    person = person_data(session, activity.person_id)
    attributes = dict(activity.attributes or {})
    data: dict[str, Any] = {
        "activity": {
            "id": activity.id,
            "type": activity.type,
            "occurred_at": iso(activity.occurred_at),
            "session": activity.session_number,
            "attributes": attributes,
        },
        "person": person,
        "dialogue": None if dialogue is None else {"key": dialogue.key, "name": dialogue.name},
        "conversation_id": activity.conversation_id,
    }
    if activity.type in _MEETING_TYPES:
        data["meeting"] = _meeting_data(session, attributes.get("meeting"))
    made = [(activity.type, data)]
    if activity.type == ActivityType.field_captured.value and person is not None:
        field = str(attributes.get("field", ""))
        changed = {"person": person, "changed": {field: attributes.get("value")}, "activity_id": activity.id}
        if field == EMAIL_FIELD and _first_email_capture(session, activity):
            made.append((PERSON_CREATED, changed))
        made.append((PERSON_UPDATED, changed))
    return made
