"""Recording activities. One function, called inside the transaction of the change the activity describes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.db import Wake, wake_after_commit
from overture.people.models import Person


class ActivityType(StrEnum):
    dialogue_triggered = "dialogue.triggered"
    dialogue_engaged = "dialogue.engaged"
    dialogue_completed = "dialogue.completed"
    dialogue_dropped = "dialogue.dropped"
    dialogue_dismissed = "dialogue.dismissed"
    field_captured = "field.captured"
    link_clicked = "link.clicked"
    goal_reached = "goal.reached"
    meeting_booked = "meeting.booked"
    meeting_rescheduled = "meeting.rescheduled"
    meeting_cancelled = "meeting.cancelled"
    meeting_outcome = "meeting.outcome"
    program_status_changed = "program.status_changed"
    program_removed = "program.removed"
    list_added = "list.added"
    list_removed = "list.removed"
    # Recorded by the Marketo integration (integrations/marketo/activities_import.py) from the lead's activities in
    # Marketo, at Marketo's activityDate and in no Overture session (session_number 0). What each is about (the page
    # address, the form, the email, "program / new status") is in attributes["subject"]; attributes["marketo_guid"]
    # is Marketo's key of it.
    marketo_visited_web_page = "marketo.visited_web_page"
    marketo_filled_out_form = "marketo.filled_out_form"
    marketo_clicked_link = "marketo.clicked_link"
    marketo_opened_email = "marketo.opened_email"
    marketo_clicked_email = "marketo.clicked_email"
    marketo_changed_program_status = "marketo.changed_program_status"


# DESIGN.md section 5: these count once per visitor per session (per dialogue).
ONCE_PER_SESSION = frozenset({ActivityType.dialogue_triggered, ActivityType.dialogue_engaged})


# Built once (they run at nearly every reply); `dialogue_id IS NULL` needs its own statement.
_IN_SESSION = select(Activity.id).where(
    Activity.person_id == bindparam("person_id"),
    Activity.type == bindparam("type"),
    Activity.session_number == bindparam("session"),
)
_SAME_SESSION = _IN_SESSION.where(Activity.dialogue_id == bindparam("dialogue"))
_SAME_SESSION_NO_DIALOGUE = _IN_SESSION.where(Activity.dialogue_id.is_(None))


def record(
    session: Session,
    person: Person,
    type: ActivityType,
    occurred_at: datetime,
    attributes: dict[str, Any] | None = None,
    *,
    dialogue_id: int | None = None,
    conversation_id: int | None = None,
) -> bool:
    """Adds an activity to the caller's transaction; False when a once-per-session one already exists.

    Written with one INSERT statement rather than through the unit of work: activities are never changed once
    written, and this runs at nearly every reply."""
    if type in ONCE_PER_SESSION:
        already = session.scalar(
            _SAME_SESSION_NO_DIALOGUE if dialogue_id is None else _SAME_SESSION,
            {"person_id": person.id, "type": type.value, "session": person.session_number, "dialogue": dialogue_id},
        )
        if already is not None:
            return False
    session.execute(
        insert(Activity),
        {
            "person_id": person.id,
            "type": type.value,
            "occurred_at": occurred_at,
            "session_number": person.session_number,
            "dialogue_id": dialogue_id,
            "conversation_id": conversation_id,
            "attributes": attributes or {},
        },
    )
    # The consumers of the activity feed (webhooks) run once this commits (debounced by the job queue).
    wake_after_commit(session, Wake.activities)
    return True


def for_person(session: Session, person_id: int) -> list[Activity]:
    return list(session.scalars(select(Activity).where(Activity.person_id == person_id).order_by(Activity.id)))
