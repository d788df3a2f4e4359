"""The events a captured field makes besides its own: person.created when the person becomes known (their email
is captured the first time), person.updated at every captured field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from overture.activities.service import ActivityType
from overture.db import Database
from overture.webhooks import service as webhooks
from overture.webhooks.models import WebhookDelivery
from webhooks.helpers import activity, endpoint, person
from webhooks.receiver import receiving

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def queued(db: Database) -> list[tuple[str, dict[str, object]]]:
    with db.read() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [(row.event_type, json.loads(row.body)["data"]) for row in rows]


def test_a_first_email_makes_the_person_created_and_every_field_updates_them(db: Database) -> None:
    with receiving() as receiver:
        endpoint(db, receiver, ["person.created", "person.updated"], T0)
    ana = person(db, email="ana@example.com")
    captured = ActivityType.field_captured
    activity(db, ana, captured, T0 + timedelta(seconds=1), {"field": "person.email", "value": "ana@example.com"})
    activity(db, ana, captured, T0 + timedelta(seconds=2), {"field": "person.title", "value": "CTO"})
    activity(db, ana, captured, T0 + timedelta(seconds=3), {"field": "person.email", "value": "ana@example.com"})
    activity(db, ana, ActivityType.goal_reached, T0 + timedelta(seconds=4), {"goal": "demo"})

    webhooks.catch_up(db, T0 + timedelta(seconds=5))

    events = queued(db)
    assert [t for t, _ in events] == ["person.created", "person.updated", "person.updated", "person.updated"]
    assert events[0][1]["changed"] == {"person.email": "ana@example.com"}
    assert events[2][1]["changed"] == {"person.title": "CTO"}
    person_data = events[0][1]["person"]
    assert isinstance(person_data, dict) and person_data["email"] == "ana@example.com"
