"""Rows of every kind the retention purge decides about, all made at one instant, and what is left of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from analytics.reports import offer
from overture.activities.models import Activity
from overture.conversations.models import Conversation
from overture.db import Database
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.people.models import Company, PageView, Person
from overture.scheduling.models import Meeting
from scheduling.rows import make_agent, make_meeting

from support import publish

# When every row is made.
THEN = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)

# Activities by label: (type, attributes).
ACTIVITIES: dict[str, tuple[str, dict[str, Any]]] = {
    "triggered": ("dialogue.triggered", {}),
    "engaged": ("dialogue.engaged", {}),
    "link": ("link.clicked", {"url": "https://example.com/guide.pdf"}),
    "name captured": ("field.captured", {"field": "person.first_name", "value": "Ada"}),
    "email captured": ("field.captured", {"field": "person.email", "value": "ada@acme.com"}),
    "goal": ("goal.reached", {"goal": "signed_up"}),
    "meeting booked": ("meeting.booked", {}),
    "meeting outcome": ("meeting.outcome", {"outcome": "held"}),
}
RAW_ACTIVITIES = {"triggered", "engaged", "link", "name captured"}
OUTCOMES = set(ACTIVITIES) - RAW_ACTIVITIES

# Conversations by label, and whose they are.
CONVERSATIONS = ("anonymous", "known", "deleted person", "anonymous with a meeting")
ANONYMOUS_TRANSCRIPTS = {"anonymous", "deleted person"}


@dataclass(frozen=True)
class Made:
    known_id: int
    anonymous_id: int
    company_id: int
    meeting_id: int


def make_rows(db: Database, at: datetime = THEN) -> Made:
    publish(db, offer(), now=at)
    with db.write() as session:
        dialogue = session.scalar(select(Dialogue).where(Dialogue.key == "offer"))
        assert dialogue is not None
        version_id = session.scalar(select(DialogueVersion.id).where(DialogueVersion.dialogue_id == dialogue.id))
        company = Company(name="Acme", created_at=at, updated_at=at)
        session.add(company)
        session.flush()
        known = Person(email="ada@acme.com", company_id=company.id, created_at=at, last_seen_at=at)
        anonymous = Person(created_at=at, last_seen_at=at)
        session.add_all([known, anonymous])
        session.flush()
        meeting = make_meeting(session, make_agent(session, "rita@example.com", "Rita"), at, person=known)
        owners = {
            "anonymous": anonymous.id,
            "known": known.id,
            "deleted person": None,
            "anonymous with a meeting": anonymous.id,
        }
        for label, owner in owners.items():
            conversation = Conversation(
                public_id=label, token_hash="0" * 64, person_id=owner, visitor_id="v_" + uuid.uuid4().hex,
                dialogue_id=dialogue.id, version_id=version_id, state={"transcript": [label]}, started_at=at,
                updated_at=at,
            )  # fmt: skip
            session.add(conversation)
            session.flush()
            if label == "anonymous with a meeting":
                meeting.conversation_id = conversation.id
        for label, (kind, attributes) in ACTIVITIES.items():
            session.add(
                Activity(
                    person_id=known.id, type=kind, occurred_at=at, session_number=1, dialogue_id=dialogue.id,
                    attributes={**attributes, "label": label},
                )
            )  # fmt: skip
        session.add(PageView(person_id=anonymous.id, url="https://example.com/", session_number=1, occurred_at=at))
        session.flush()
        return Made(known.id, anonymous.id, company.id, meeting.id)


@dataclass(frozen=True)
class Left:
    activities: set[str]
    page_views: int
    conversations: set[str]
    people: int
    companies: int
    meetings: int


def left(db: Database) -> Left:
    with db.read() as session:
        return Left(
            activities={row["label"] for row in session.scalars(select(Activity.attributes))},
            page_views=len(session.scalars(select(PageView.id)).all()),
            conversations=set(session.scalars(select(Conversation.public_id))),
            people=len(session.scalars(select(Person.id)).all()),
            companies=len(session.scalars(select(Company.id)).all()),
            meetings=len(session.scalars(select(Meeting.id)).all()),
        )


EVERYTHING = Left(set(ACTIVITIES), 1, set(CONVERSATIONS), 2, 1, 1)
