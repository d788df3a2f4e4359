"""Webhook endpoints and the deliveries queued for them.

Events become rows first (the outbox pattern): `catch_up` reads the activity feed (activities/feed.py) as the
consumer `webhooks` and writes, in the same transaction, one delivery per (enabled endpoint subscribed to the event,
event id), skipping those that exist (the feed is at least once, and the pair is unique in the database). The job
sends them (webhooks/delivery.py). `queue_delivery` queues one event of the caller's own (a test event, an
automation's "call a webhook" action) on the same machinery.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from overture.activities import feed
from overture.activities.service import ActivityType
from overture.db import Database, Wake, wake_after_commit
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.http import is_public_address
from overture.webhooks import events, signing
from overture.webhooks.models import URL_LENGTH, WebhookAttempt, WebhookDelivery, WebhookEndpoint

CONSUMER = "webhooks"
DESCRIPTION_LENGTH = 500
# Delivered and failed deliveries (and their attempts) are kept this long for the log, then deleted.
KEEP_LOG = timedelta(days=30)
PURGE_BATCH = 1000


# --- endpoints ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointInput:
    url: str
    description: str = ""
    event_types: tuple[str, ...] = ()
    enabled: bool = True
    allow_private: bool = False


def _check(given: EndpointInput) -> EndpointInput:
    problems: list[Problem] = []
    url = given.url.strip()
    parts = urlsplit(url)
    if not url:
        problems.append(Problem("url", "Give the address that receives the events."))
    elif len(url) > URL_LENGTH:
        problems.append(Problem("url", f"The address is longer than {URL_LENGTH} characters."))
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(Problem("url", "The address must start with https:// (or http://) and name a server."))
    elif not given.allow_private and _private_host(parts.hostname):
        problems.append(
            Problem(
                "url",
                f"{parts.hostname} is a private or local address. Tick “Allow private addresses” to deliver to a "
                "server on your own network.",
            )
        )
    description = given.description.strip()
    if len(description) > DESCRIPTION_LENGTH:
        problems.append(Problem("description", f"The description is longer than {DESCRIPTION_LENGTH} characters."))
    unknown = [t for t in given.event_types if t not in events.EVENT_TYPES]
    if unknown:
        problems.append(Problem("event_types", f"Unknown event types: {', '.join(unknown)}."))
    # No event type: the endpoint receives only what automations send it (a chat tool's incoming webhook).
    if problems:
        raise InvalidInput("The webhook endpoint was not saved.", problems)
    chosen = tuple(t for t in events.EVENT_TYPES if t in given.event_types)  # in the catalogue's order, once each
    return EndpointInput(url, description, chosen, given.enabled, given.allow_private)


def _private_host(host: str) -> bool:
    """True for a host that is plainly private: `localhost` or a private, loopback... address literal. A name is
    checked again at every delivery, where it is resolved (http.py)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not is_public_address(host)


def create_endpoint(session: Session, given: EndpointInput, now: datetime) -> WebhookEndpoint:
    """Adds an endpoint with a new secret (the caller shows it once)."""
    checked = _check(given)
    feed.begin(session, CONSUMER, now)
    endpoint = WebhookEndpoint(
        url=checked.url,
        description=checked.description,
        event_types=list(checked.event_types),
        secret=signing.new_secret(),
        enabled=checked.enabled,
        allow_private=checked.allow_private,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(session: Session, endpoint: WebhookEndpoint, given: EndpointInput, now: datetime) -> None:
    checked = _check(given)
    endpoint.url = checked.url
    endpoint.description = checked.description
    endpoint.event_types = list(checked.event_types)
    endpoint.allow_private = checked.allow_private
    set_enabled(session, endpoint, checked.enabled, now)
    endpoint.updated_at = now


def set_enabled(session: Session, endpoint: WebhookEndpoint, enabled: bool, now: datetime) -> None:
    """Turning an endpoint on starts its count of failures afresh."""
    if enabled and not endpoint.enabled:
        endpoint.failing_since = None
        endpoint.disabled_reason = None
    endpoint.enabled = enabled
    endpoint.updated_at = now


def rotate_secret(session: Session, endpoint: WebhookEndpoint, now: datetime) -> str:
    """Gives the endpoint a new secret: every delivery from now on is signed with it."""
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    return endpoint.secret


def delete_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    session.delete(endpoint)


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


# --- events become deliveries ---------------------------------------------------------------------------------------


def catch_up(db: Database, now: datetime, *, again: bool = False) -> int:
    """Turns the activities recorded since the last read into deliveries, a batch per transaction; `again` (the
    periodic run) reads the feed's look-back window once more. Returns the deliveries queued."""
    queued = 0
    while True:
        with db.write() as session:
            batch = feed.read(session, CONSUMER, now, again=again)
            queued += _fan_out(session, batch.activities, now)
            feed.advance(session, batch, now)
        again = False
        if not batch.more:
            return queued


def _fan_out(session: Session, activities: list[Any], now: datetime) -> int:
    """Queues the deliveries the activities make. The periodic run reads the last 20 minutes again: what was
    already queued is found by one query per batch (by activity id), and only the rest is built."""
    endpoints = [e for e in list_endpoints(session) if e.enabled]
    if not endpoints or not activities:
        return 0
    wanted = {t for e in endpoints for t in e.event_types}
    present = _queued(session, [a.id for a in activities])
    rows: list[dict[str, Any]] = []
    for activity in activities:
        # Only what happened since the endpoint was added: a new endpoint is not sent the past.
        listeners = [e for e in endpoints if e.created_at <= activity.occurred_at]
        types = [activity.type] + (
            sorted(events.PERSON_EVENTS) if activity.type == ActivityType.field_captured.value else []
        )
        missing = {
            (endpoint.id, event_type)
            for endpoint in listeners
            for event_type in types
            if event_type in wanted
            and event_type in endpoint.event_types
            and (endpoint.id, events.event_id(activity, event_type)) not in present
        }
        if not missing:
            continue
        for event_type, data in events.events_of(session, activity):
            message_id = events.event_id(activity, event_type)
            body = events.envelope(event_type, activity.occurred_at, data)
            for endpoint in listeners:
                if (endpoint.id, event_type) in missing:
                    rows.append(_row(endpoint.id, message_id, event_type, body, now, activity.id))
    if rows:
        session.execute(insert(WebhookDelivery), rows)
        wake_after_commit(session, Wake.webhooks)
    return len(rows)


def _queued(session: Session, activity_ids: list[int]) -> set[tuple[int, str]]:
    """The (endpoint, event id) pairs already queued for these activities. The feed's advisory lock (PostgreSQL) or
    the writing transaction (SQLite) keeps two readers from queuing the same pair at once."""
    found: set[tuple[int, str]] = set()
    for first in range(0, len(activity_ids), 500):
        chunk = activity_ids[first : first + 500]
        query = select(WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
        found.update((e, m) for e, m in session.execute(query.where(WebhookDelivery.activity_id.in_(chunk))))
    return found


def _row(
    endpoint_id: int, message_id: str, event_type: str, body: str, now: datetime, activity_id: int | None = None
) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "event_id": message_id,
        "event_type": event_type,
        "activity_id": activity_id,
        "body": body,
        "created_at": now,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "version": 0,
    }


def queue_delivery(
    session: Session,
    endpoint: WebhookEndpoint,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    event_id: str | None = None,
    raw_body: dict[str, Any] | None = None,
) -> WebhookDelivery:
    """Queues one signed delivery of an event of the caller's own to `endpoint`, in the caller's transaction (a
    test event; the automations' "call a webhook" action). The body is the usual envelope around `data`, or
    `raw_body` as it is. `event_id` makes it idempotent: queuing the same id to the same endpoint again returns
    the delivery already queued."""
    message_id = event_id or events.new_event_id()
    existing = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == message_id
        )
    )
    if existing is not None:
        return existing
    body = (
        json.dumps(raw_body, ensure_ascii=False, separators=(",", ":"), default=str)
        if raw_body is not None
        else events.envelope(event_type, now, data)
    )
    delivery = WebhookDelivery(**_row(endpoint.id, message_id, event_type, body, now))
    session.add(delivery)
    session.flush()
    wake_after_commit(session, Wake.webhooks)
    return delivery


def send_test(session: Session, endpoint: WebhookEndpoint, now: datetime) -> WebhookDelivery:
    """A `webhook.test` event for the endpoint, whatever it subscribes to."""
    return queue_delivery(
        session, endpoint, events.TEST, {"endpoint_id": endpoint.id, "message": "A test event from Overture."}, now
    )


# --- the log ------------------------------------------------------------------------------------------------------


def list_deliveries(
    session: Session, endpoint: WebhookEndpoint, *, limit: int = 50, before: int | None = None
) -> tuple[list[WebhookDelivery], int | None]:
    """The endpoint's deliveries, newest first, a page at a time by a keyset cursor: (rows, the cursor of the next
    page or None)."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def count_deliveries(session: Session, endpoint: WebhookEndpoint) -> dict[str, int]:
    counted = session.execute(
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .group_by(WebhookDelivery.status)
    )
    return {status: int(count) for status, count in counted}


def get_delivery(session: Session, delivery_id: int, endpoint_id: int | None = None) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or (endpoint_id is not None and delivery.endpoint_id != endpoint_id):
        raise NotFound(f"There is no webhook delivery {delivery_id}.")
    return delivery


def attempts_of(session: Session, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(
        session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id.desc())
        )
    )


def redeliver(session: Session, delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """Sends a delivery again, now, with a fresh schedule of retries (same event id: a receiver that had it
    deduplicates). Refused while it is being sent, or when its endpoint is off."""
    endpoint = get_endpoint(session, delivery.endpoint_id)
    if not endpoint.enabled:
        raise Conflict("This endpoint is disabled: enable it before sending its deliveries again.")
    changed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.version == delivery.version,
            WebhookDelivery.status != "sending",
        )
        .values(status="pending", attempts=0, next_attempt_at=now, version=delivery.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This delivery is being sent right now; try again in a moment.")
    session.refresh(delivery)
    wake_after_commit(session, Wake.webhooks)
    return delivery


def purge_log(db: Database, now: datetime, keep: timedelta = KEEP_LOG) -> int:
    """Deletes the deliveries done (delivered or failed) more than `keep` ago, with their attempts, in batches of
    short transactions (the daily job). Returns how many went."""
    deleted = 0
    while True:
        with db.write() as session:
            ids = list(
                session.scalars(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.status.in_(("delivered", "failed")), WebhookDelivery.created_at < now - keep)
                    .limit(PURGE_BATCH)
                )
            )
            if ids:
                session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
                session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < PURGE_BATCH:
            return deleted
