"""Sending the queued deliveries: claimed one at a time by compare-and-set, sent signed through the outbound client
(http.py) with no transaction open, and recorded with their attempt.

- **Retries**: a failed attempt (no 2xx answer: another status, a redirect, a timeout, no connection) is tried
  again on Svix's schedule, each wait stretched or shortened by up to 10 % (jitter, so that a receiver that comes
  back is not hit by every retry at once): at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h;
  after the eighth attempt (about 27 hours) the delivery has failed. An admin can send any delivery again.
- **Disabling**: an endpoint whose attempts have all failed for a day (`DISABLE_AFTER`, since its first failure
  after its last success) is disabled, its waiting deliveries fail, and every active admin gets an email through
  the mail outbox.
- **Private addresses**: refused by the outbound client unless the endpoint allows them (an admin's choice).
- **Two workers** never send one delivery at once: the claim moves the row's version (compare-and-set), and on
  PostgreSQL the candidate is read with FOR UPDATE SKIP LOCKED, so racing workers take different rows. A worker
  that dies after its claim leaves the row `sending`; it is claimed again after `CLAIM_TIMEOUT`, so a delivery is
  sent at least once (receivers deduplicate on `webhook-id`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from overture.db import Database, utcnow
from overture.errors import OvertureError
from overture.http import BlockedAddress, HttpClient
from overture.mail import service as mail
from overture.mail.schemas import NewMessage
from overture.users.models import User
from overture.users.roles import Role
from overture.webhooks import signing
from overture.webhooks.models import EXCERPT_BYTES, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SCHEDULE = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.1
DISABLE_AFTER = timedelta(days=1)
DEADLINE = 15.0  # seconds for one attempt, answer included
MAX_BYTES = 256 * 1024  # of an answer; a receiver has nothing to say at length
# A claimed delivery whose worker died is taken up again after this long (well past DEADLINE).
CLAIM_TIMEOUT = timedelta(minutes=5)


class Outbound:
    """The HTTP clients of deliveries, built on first use: the guarded one, and one that reaches private addresses
    for the endpoints an admin allowed that for. `transport` replaces the network (tests of failures)."""

    def __init__(self, *, user_agent: str = "Overture-Webhooks") -> None:
        self._user_agent = user_agent
        self._clients: dict[bool, HttpClient] = {}
        self._lock = threading.Lock()

    def client(self, allow_private: bool) -> HttpClient:
        with self._lock:
            if allow_private not in self._clients:
                self._clients[allow_private] = HttpClient(
                    allow_private=allow_private,
                    retries=0,
                    deadline=DEADLINE,
                    max_bytes=MAX_BYTES,
                    user_agent=self._user_agent,
                )
            return self._clients[allow_private]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def retry_delay(delivery_id: int, attempts: int) -> timedelta | None:
    """How long after its `attempts`-th failed attempt a delivery is tried again; None when it has had them all."""
    if attempts >= len(SCHEDULE):
        return None
    stretch = random.Random(f"{delivery_id}:{attempts}").uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - not a secret
    return SCHEDULE[attempts] * stretch


@dataclass(frozen=True)
class _Claimed:
    id: int
    version: int
    attempts: int
    event_id: str
    body: str
    endpoint_id: int
    url: str
    secret: str
    allow_private: bool


@dataclass(frozen=True)
class _Outcome:
    succeeded: bool
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str | None


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: list[int] = field(default_factory=list)  # endpoints disabled by this run


def _claim_next(db: Database, now: datetime) -> _Claimed | None:
    while True:
        with db.write() as session:
            row = session.execute(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(
                    WebhookEndpoint.enabled.is_(True),
                    or_(
                        (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now),
                        (WebhookDelivery.status == "sending")
                        & (WebhookDelivery.next_attempt_at <= now - CLAIM_TIMEOUT),
                    ),
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).first()
            if row is None:
                return None
            delivery, endpoint = row
            claimed = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id, WebhookDelivery.version == delivery.version)
                .values(status="sending", next_attempt_at=now, version=delivery.version + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return _Claimed(
                    delivery.id, delivery.version + 1, delivery.attempts, delivery.event_id, delivery.body,
                    endpoint.id, endpoint.url, endpoint.secret, endpoint.allow_private,
                )  # fmt: skip
        # Another worker took this row between our read and our update: look for the next one.


def _send(outbound: Outbound, claimed: _Claimed, at: datetime) -> _Outcome:
    body = claimed.body.encode()
    headers = signing.headers(claimed.secret, claimed.event_id, at, body)
    started = time.monotonic()
    try:
        response = outbound.client(claimed.allow_private).request(
            "POST", claimed.url, headers=headers, content=body, deadline=DEADLINE, max_bytes=MAX_BYTES
        )
    except BlockedAddress as exc:
        return _Outcome(False, None, _ms(started), "", str(exc))
    except OvertureError as exc:  # Unreachable, TooSlow, TooLarge, OutboundBusy
        return _Outcome(False, None, _ms(started), "", str(exc))
    excerpt = response.content[:EXCERPT_BYTES].decode("utf-8", "replace")
    succeeded = 200 <= response.status_code < 300
    error = None if succeeded else f"The endpoint answered {response.status_code}."
    return _Outcome(succeeded, response.status_code, _ms(started), excerpt, error)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(db: Database, claimed: _Claimed, outcome: _Outcome, now: datetime, report: DeliveryReport) -> None:
    attempts = claimed.attempts + 1
    with db.write() as session:
        session.add(
            WebhookAttempt(
                delivery_id=claimed.id, at=now, succeeded=outcome.succeeded, status_code=outcome.status_code,
                duration_ms=outcome.duration_ms, response_excerpt=outcome.excerpt, error=outcome.error,
            )
        )  # fmt: skip
        mine = update(WebhookDelivery).where(
            WebhookDelivery.id == claimed.id, WebhookDelivery.version == claimed.version
        )
        values: dict[str, object] = {"attempts": attempts, "last_status_code": outcome.status_code,
                                     "last_error": outcome.error, "version": claimed.version + 1}  # fmt: skip
        endpoint = session.get(WebhookEndpoint, claimed.endpoint_id)
        if outcome.succeeded:
            values.update(status="delivered", delivered_at=now)
            report.delivered += 1
            if endpoint is not None and endpoint.failing_since is not None:
                endpoint.failing_since = None
        else:
            delay = retry_delay(claimed.id, attempts)
            if delay is None:
                values.update(status="failed")
                report.failed += 1
            else:
                values.update(status="pending", next_attempt_at=now + delay)
                report.retried += 1
            if endpoint is not None:
                _count_failure(session, endpoint, now, report)
        session.execute(mine.values(**values).execution_options(synchronize_session=False))


def _count_failure(session: Session, endpoint: WebhookEndpoint, now: datetime, report: DeliveryReport) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        return
    if not endpoint.enabled or now - endpoint.failing_since < DISABLE_AFTER:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = (
        f"Every delivery failed from {endpoint.failing_since:%Y-%m-%d %H:%M} UTC to {now:%Y-%m-%d %H:%M} UTC."
    )
    endpoint.updated_at = now
    session.flush()
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="failed", last_error="The endpoint was disabled after a day of failed deliveries.")
        .execution_options(synchronize_session=False)
    )
    _tell_admins(session, endpoint)
    report.disabled.append(endpoint.id)


def _tell_admins(session: Session, endpoint: WebhookEndpoint) -> None:
    admins = list(session.scalars(select(User.email).where(User.role == Role.admin.value, User.is_active.is_(True))))
    if not admins:
        return
    text = (
        f"Overture disabled the webhook endpoint {endpoint.url}"
        + (f" ({endpoint.description})" if endpoint.description else "")
        + f".\n\n{endpoint.disabled_reason}\n\n"
        "Its waiting deliveries are marked failed. Once the receiver works again, enable the endpoint on the "
        "Webhooks page (Integrations) and send the failed deliveries again from its log.\n"
    )
    mail.enqueue(
        session,
        NewMessage(to=admins, subject=f"Webhook endpoint disabled: {endpoint.url}"[:300], text_body=text,
                   kind="webhook_disabled"),
    )  # fmt: skip


def deliver_due(
    db: Database, outbound: Outbound, clock: Callable[[], datetime] = utcnow, limit: int = 100
) -> DeliveryReport:
    """Sends up to `limit` due deliveries. Each attempt is signed at the time it is sent (`clock`), as receivers
    check the timestamp. Never raises for a receiver's failure."""
    report = DeliveryReport()
    for _ in range(limit):
        claimed = _claim_next(db, clock())
        if claimed is None:
            break
        outcome = _send(outbound, claimed, clock())
        _record(db, claimed, outcome, clock(), report)
    return report
