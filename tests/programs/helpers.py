"""Shared by the programs tests: people and a chat program made directly through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from overture.activities.models import Activity
from overture.db import Database
from overture.people import service as people
from overture.people.models import Person
from overture.programs import service
from overture.programs.schemas import StatusIn

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
CHAT_STATUSES = ["Invited", "Engaged", "Meeting booked", "Attended"]


def new_person(db: Database, *, at: datetime = NOW, **values: Any) -> int:
    with db.write() as session:
        person, _ = people.visitor(session, None, at)
        for column, value in values.items():
            setattr(person, column, value)
        session.flush()
        return person.id


def new_program(db: Database, name: str = "Spring chat", statuses: list[str] | None = None) -> int:
    with db.write() as session:
        program = service.create_program(
            session,
            name,
            "chat",
            [StatusIn(name=s, success=s == "Attended") for s in statuses or CHAT_STATUSES],
            NOW,
        )
        return program.id


def activities_of(db: Database, person_id: int, prefix: str) -> list[Activity]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Activity)
                .where(Activity.person_id == person_id, Activity.type.startswith(prefix))
                .order_by(Activity.id)
            )
        )


def person(session: Any, person_id: int) -> Person:
    found = session.get(Person, person_id)
    assert found is not None
    return found
