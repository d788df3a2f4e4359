"""A meeting's changes after booking: the outcome after the end, cancel, reschedule and reassign, each recorded as
an activity, each with its emails, the calendar to update and the rotation ledger; and the database's own refusal
of two overlapping meetings of one agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.db import Database
from overture.errors import Conflict, Forbidden, InvalidInput
from overture.mail.models import OutboxMessage
from overture.scheduling import meeting_list, meetings
from overture.scheduling.models import Agent, Meeting, RoutingDecision, TeamMember
from overture.users import service as users

from .rows import (
    BASE_URL,
    SECRET_KEY,
    at,
    make_agent,
    make_decision,
    make_meeting,
    make_person,
    make_team,
)
from support import Personas

NOW = at(4, 12)
LINKS = {"base_url": BASE_URL, "secret_key": SECRET_KEY}


@dataclass
class Ids:
    bob: int
    dave: int
    team: int
    meeting: int
    person: int


@pytest.fixture
def ids(db: Database, personas: Personas) -> Ids:
    """Bob's meeting with Chloé on Thursday 10:00-10:30 UTC, booked through the sales team (which gives turns back);
    Dave is the other agent, on a calendar that takes events (CalDAV)."""
    with db.write() as session:
        bob = make_agent(session, "bob@example.com", "Bob")
        dave = make_agent(session, "dave@example.com", "Dave Dee", provider="caldav")
        team = make_team(session, "sales", [bob, dave], credit_back=True)
        chloe = make_person(session, "chloe@customer.example", "Chloé", "Martin")
        decision = make_decision(session, bob, team, mode="round_robin", pointer_after=bob.id)
        meeting = make_meeting(session, bob, at(5, 10), person=chloe, team_id=team.id,
                               routing_decision_id=decision.id)  # fmt: skip
        return Ids(bob.id, dave.id, team.id, meeting.id, chloe.id)


def meeting_of(session: Session, ids: Ids) -> Meeting:
    found = session.get(Meeting, ids.meeting)
    assert found is not None
    return found


def meeting_of_db(db: Database, ids: Ids) -> Meeting:
    with db.read() as session:
        return meeting_of(session, ids)


def activities(db: Database, ids: Ids) -> list[tuple[str, dict[str, object]]]:
    with db.read() as session:
        rows = session.scalars(select(Activity).where(Activity.person_id == ids.person).order_by(Activity.id))
        return [(row.type, row.attributes) for row in rows]


def outbox(db: Database) -> list[tuple[list[str], str]]:
    with db.read() as session:
        return [(row.to, row.subject) for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def credits(db: Database, ids: Ids, agent_id: int) -> int:
    with db.read() as session:
        member = session.scalar(
            select(TeamMember).where(TeamMember.team_id == ids.team, TeamMember.agent_id == agent_id)
        )
        assert member is not None
        return member.credits


def user(session: Session, persona_id: int) -> users.User:
    return users.get_user(session, persona_id)


# --- outcome ----------------------------------------------------------------------------------------------------


def test_the_outcome_cannot_be_marked_before_the_end(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session, pytest.raises(InvalidInput) as caught:
        meetings.mark_outcome(session, meeting_of(session, ids), "held", user(session, personas.bob.id), at(5, 10, 29))
    assert "has not ended yet" in caught.value.message
    assert "2026-03-05T10:30:00Z" in caught.value.message
    assert activities(db, ids) == []


def test_the_agent_marks_the_meeting_held_after_its_end(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        meetings.mark_outcome(session, meeting_of(session, ids), "held", user(session, personas.bob.id), at(5, 10, 30))
    with db.read() as session:
        meeting = meeting_of(session, ids)
        assert (meeting.status, meeting.outcome_at) == ("held", at(5, 10, 30))
    assert activities(db, ids) == [
        ("meeting.outcome", {"meeting": meeting.public_id, "outcome": "held", "by": "bob@example.com"})
    ]
    assert credits(db, ids, ids.bob) == 0


def test_a_no_show_gives_the_turn_back(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        meetings.mark_outcome(session, meeting_of(session, ids), "no_show", user(session, personas.sam.id), at(6, 9))
    assert credits(db, ids, ids.bob) == 1
    assert activities(db, ids)[0][1]["outcome"] == "no_show"


def test_the_one_click_link_marks_without_a_user(db: Database, ids: Ids) -> None:
    with db.write() as session:
        meetings.mark_outcome(session, meeting_of(session, ids), "held", None, at(6, 9))
    assert activities(db, ids)[0][1]["by"] == "link"


def test_another_agent_cannot_mark_the_outcome(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        dave = users.get_user(session, session.get(Agent, ids.dave).user_id)  # type: ignore[union-attr]
        with pytest.raises(Forbidden):
            meetings.mark_outcome(session, meeting_of(session, ids), "held", dave, at(6, 9))


def test_an_outcome_is_marked_once_and_never_on_a_cancelled_meeting(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        meetings.mark_outcome(session, meeting_of(session, ids), "held", None, at(6, 9))
    with db.write() as session, pytest.raises(Conflict, match="already marked as held"):
        meetings.mark_outcome(session, meeting_of(session, ids), "no_show", None, at(6, 9))
    with db.write() as session:
        meeting_of(session, ids).status = "cancelled"
    with db.write() as session, pytest.raises(Conflict, match="cancelled"):
        meetings.mark_outcome(session, meeting_of(session, ids), "held", None, at(6, 9))


def test_an_unknown_outcome_is_refused(db: Database, ids: Ids) -> None:
    with db.write() as session, pytest.raises(InvalidInput):
        meetings.mark_outcome(session, meeting_of(session, ids), "maybe", None, at(6, 9))


# --- cancel -----------------------------------------------------------------------------------------------------


def test_cancel_frees_the_time_tells_both_sides_and_gives_the_turn_back(db: Database, ids: Ids) -> None:
    with db.write() as session:
        meetings.cancel(session, meeting_of(session, ids), by="visitor", now=NOW, **LINKS)
    with db.read() as session:
        meeting = meeting_of(session, ids)
        assert (meeting.status, meeting.cancelled_at, meeting.sequence) == ("cancelled", NOW, 1)
        # Nothing was written on Bob's built-in calendar, so there is nothing to remove.
        assert meeting.calendar_state == "none"
    assert activities(db, ids) == [("meeting.cancelled", {"meeting": meeting.public_id, "by": "visitor"})]
    assert credits(db, ids, ids.bob) == 1
    sent = outbox(db)
    assert ["chloe@customer.example"] in [to for to, _ in sent]
    assert ["bob@example.com"] in [to for to, _ in sent]


def test_an_admins_cancel_names_the_admin_to_the_agent(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        alice = user(session, personas.alice.id)
        meetings.cancel(session, meeting_of(session, ids), by="admin", now=NOW, actor=alice, **LINKS)
    assert activities(db, ids)[0][1] == {"meeting": meeting_of_db(db, ids).public_id, "by": "admin",
                                         "user": "alice@example.com"}  # fmt: skip
    with db.read() as session:
        note = session.scalar(select(OutboxMessage).where(OutboxMessage.subject.startswith("Meeting cancelled")))
        assert note is not None and note.to == ["bob@example.com"]
        assert "It was cancelled by Alice" in note.text_body


def test_cancel_removes_a_written_event(db: Database, ids: Ids) -> None:
    with db.write() as session:
        meeting = meeting_of(session, ids)
        meeting.calendar_state, meeting.calendar_href, meeting.calendar_error = "written", "/cal/1.ics", None
    with db.write() as session:
        meetings.cancel(session, meeting_of(session, ids), by="admin", now=NOW, **LINKS)
    with db.read() as session:
        assert meeting_of(session, ids).calendar_state == "cancel_pending"


def test_a_meeting_cannot_be_cancelled_twice(db: Database, ids: Ids) -> None:
    with db.write() as session:
        meetings.cancel(session, meeting_of(session, ids), by="visitor", now=NOW, **LINKS)
    sent = len(outbox(db))
    with db.write() as session, pytest.raises(Conflict, match="already cancelled"):
        meetings.cancel(session, meeting_of(session, ids), by="visitor", now=NOW, **LINKS)
    assert len(outbox(db)) == sent
    assert len(activities(db, ids)) == 1


def test_a_started_meeting_cannot_be_cancelled(db: Database, ids: Ids) -> None:
    with db.write() as session, pytest.raises(Conflict, match="already started or taken place"):
        meetings.cancel(session, meeting_of(session, ids), by="visitor", now=at(5, 10), **LINKS)


# --- the database refuses overlaps --------------------------------------------------------------------------------


def _insert(session: Session, agent_id: int, start: datetime, public_id: str, status: str = "booked") -> None:
    session.execute(
        insert(Meeting).values(
            public_id=public_id, uid=f"{public_id}@test", sequence=0, agent_id=agent_id, title="Direct",
            starts_at=start, ends_at=start + timedelta(minutes=30), visitor_zone="UTC", meeting_link="",
            status=status, calendar_state="none", calendar_attempts=0, calendar_removals=[], reminders_sent=[],
            created_at=NOW, updated_at=NOW,
        )
    )  # fmt: skip


def test_the_database_refuses_two_overlapping_meetings_of_one_agent(db: Database, ids: Ids) -> None:
    with pytest.raises(IntegrityError, match="meetings_no_overlap"), db.write() as session:
        _insert(session, ids.bob, at(5, 10, 15), "direct-1")
    # Another agent, a meeting back to back, or a cancelled one: all allowed.
    with db.write() as session:
        _insert(session, ids.dave, at(5, 10, 15), "direct-2")
        _insert(session, ids.bob, at(5, 10, 30), "direct-3")
        _insert(session, ids.bob, at(5, 10, 15), "direct-4", status="cancelled")


# --- reschedule -------------------------------------------------------------------------------------------------


def test_reschedule_moves_the_meeting_and_sends_an_update(db: Database, ids: Ids) -> None:
    with db.write() as session:
        meeting = meeting_of(session, ids)
        meeting.calendar_state, meeting.reminders_sent = "written", [1440]
    with db.write() as session:
        meetings.reschedule(session, meeting_of(session, ids), at(6, 14), now=NOW, **LINKS)
    with db.read() as session:
        meeting = meeting_of(session, ids)
        assert (meeting.starts_at, meeting.ends_at, meeting.status) == (at(6, 14), at(6, 14, 30), "rescheduled")
        assert (meeting.sequence, meeting.calendar_state, meeting.reminders_sent) == (1, "pending", [])
    assert activities(db, ids) == [
        ("meeting.rescheduled", {"meeting": meeting.public_id, "previous_start": "2026-03-05T10:00:00Z",
                                 "start": "2026-03-06T14:00:00Z"}),
    ]  # fmt: skip
    assert any(to == ["chloe@customer.example"] for to, _ in outbox(db))


def test_reschedule_into_another_meeting_is_refused_by_the_database(db: Database, ids: Ids) -> None:
    with db.write() as session:
        make_meeting(session, session.get(Agent, ids.bob), at(6, 14), person=None)  # type: ignore[arg-type]
    with db.write() as session:
        with pytest.raises(Conflict, match="just taken"):
            meetings.reschedule(session, meeting_of(session, ids), at(6, 14, 15), now=NOW, **LINKS)
        # The savepoint undid the move: the same transaction goes on with the meeting as it was.
        meeting = meeting_of(session, ids)
        assert (meeting.starts_at, meeting.status, meeting.sequence) == (at(5, 10), "booked", 0)
    with db.read() as session:
        assert meeting_of(session, ids).starts_at == at(5, 10)
    assert activities(db, ids) == []
    assert outbox(db) == []


def test_reschedule_refuses_a_past_time_and_a_cancelled_meeting(db: Database, ids: Ids) -> None:
    with db.write() as session, pytest.raises(InvalidInput, match="future"):
        meetings.reschedule(session, meeting_of(session, ids), at(4, 11), now=NOW, **LINKS)
    with db.write() as session:
        meetings.cancel(session, meeting_of(session, ids), by="visitor", now=NOW, **LINKS)
    with db.write() as session, pytest.raises(Conflict, match="already cancelled"):
        meetings.reschedule(session, meeting_of(session, ids), at(6, 14), now=NOW, **LINKS)


# --- reassign ---------------------------------------------------------------------------------------------------


def test_reassign_moves_the_meeting_calendars_ledger_and_invitation(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        meeting = meeting_of(session, ids)
        meeting.calendar_state, meeting.calendar_href, meeting.calendar_etag = "written", "/bob/1.ics", '"e1"'
    with db.write() as session:
        dave = session.get(Agent, ids.dave)
        assert dave is not None
        meetings.reassign(session, meeting_of(session, ids), dave, by=user(session, personas.alice.id), now=NOW,
                          **LINKS)  # fmt: skip
    with db.read() as session:
        meeting = meeting_of(session, ids)
        assert meeting.agent_id == ids.dave
        assert meeting.calendar_removals == [
            {"agent_id": ids.bob, "uid": meeting.uid, "href": "/bob/1.ics", "etag": '"e1"'}
        ]
        assert (meeting.calendar_state, meeting.calendar_href, meeting.calendar_etag) == ("pending", None, None)
        assert meeting.sequence == 1
        decision = session.get(RoutingDecision, meeting.routing_decision_id)
        assert decision is not None
        assert (decision.mode, decision.agent_id) == ("reassigned", ids.dave)
        assert decision.note.startswith("Reassigned from Bob to Dave Dee by Alice.")
        row = meeting_list.meeting_row(session, meeting, NOW)
        assert row.routing is not None and row.routing.mode_label == "reassigned"
    assert credits(db, ids, ids.bob) == 1
    assert activities(db, ids) == [
        ("meeting.rescheduled", {"meeting": meeting.public_id, "reassigned_from": "bob@example.com",
                                 "to": "dave@example.com", "by": "alice@example.com"}),
    ]  # fmt: skip
    recipients = [to for to, _ in outbox(db)]
    assert ["chloe@customer.example"] in recipients
    assert ["dave@example.com"] in recipients
    assert ["bob@example.com"] in recipients


def test_reassign_to_a_builtin_calendar_writes_nothing(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        erin = make_agent(session, "erin@example.com", "Erin")
        meetings.reassign(session, meeting_of(session, ids), erin, by=user(session, personas.sam.id), now=NOW,
                          **LINKS)  # fmt: skip
    with db.read() as session:
        meeting = meeting_of(session, ids)
        # Bob's built-in calendar had no event either: nothing to remove.
        assert (meeting.calendar_state, meeting.calendar_removals) == ("none", [])


def test_reassign_onto_a_busy_agent_is_refused_by_the_database(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        dave = session.get(Agent, ids.dave)
        assert dave is not None
        make_meeting(session, dave, at(5, 9, 45))
    with db.write() as session:
        dave = session.get(Agent, ids.dave)
        assert dave is not None
        with pytest.raises(Conflict, match="Dave Dee just got another meeting"):
            meetings.reassign(session, meeting_of(session, ids), dave, by=user(session, personas.alice.id), now=NOW,
                              **LINKS)  # fmt: skip
        assert meeting_of(session, ids).agent_id == ids.bob
    assert credits(db, ids, ids.bob) == 0
    assert activities(db, ids) == []


def test_only_admins_and_sales_admins_reassign(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        dave = session.get(Agent, ids.dave)
        assert dave is not None
        with pytest.raises(Forbidden):
            meetings.reassign(session, meeting_of(session, ids), dave, by=user(session, personas.bob.id), now=NOW,
                              **LINKS)  # fmt: skip


def test_reassign_to_the_same_agent_is_refused(db: Database, personas: Personas, ids: Ids) -> None:
    with db.write() as session:
        bob = session.get(Agent, ids.bob)
        assert bob is not None
        with pytest.raises(InvalidInput, match="already this agent's"):
            meetings.reassign(session, meeting_of(session, ids), bob, by=user(session, personas.alice.id), now=NOW,
                              **LINKS)  # fmt: skip
