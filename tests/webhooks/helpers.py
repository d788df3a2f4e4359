"""Rows the webhook tests start from: a person, their activities, an endpoint pointed at a local receiver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from overture.activities.service import ActivityType, record
from overture.db import Database
from overture.people.models import Person
from overture.webhooks import service as webhooks
from overture.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.receiver import Receiver


def person(db: Database, **fields: Any) -> int:
    with db.write() as session:
        row = Person(**fields)
        session.add(row)
        session.flush()
        return row.id


def activity(
    db: Database, person_id: int, type: ActivityType, now: datetime, attributes: dict[str, Any] | None = None
) -> None:
    with db.write() as session:
        found = session.get(Person, person_id)
        assert found is not None
        record(session, found, type, now, attributes)


def endpoint(db: Database, receiver: Receiver, types: list[str], now: datetime, **extra: Any) -> int:
    """An endpoint at the receiver; loopback allowed explicitly, as an admin would for a server on the LAN."""
    with db.write() as session:
        given = webhooks.EndpointInput(
            url=receiver.url, event_types=tuple(types), allow_private=extra.pop("allow_private", True), **extra
        )
        row = webhooks.create_endpoint(session, given, now)
        receiver.secret = row.secret
        return row.id


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.read() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def attempts(db: Database) -> list[WebhookAttempt]:
    with db.read() as session:
        return list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))


def stored_endpoint(db: Database, endpoint_id: int) -> WebhookEndpoint:
    with db.read() as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return row
