"""Webhook deliveries at a real local receiver, every one verified with the `standardwebhooks` package: signed,
retried on a schedule (the clock pinned and moved by hand), logged, sent again on request, an endpoint disabled
after a day of failures, private addresses refused, and never sent twice by two workers at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from overture.activities.service import ActivityType
from overture.db import Database
from overture.errors import InvalidInput
from overture.mail.models import OutboxMessage
from overture.webhooks import delivery as webhook_delivery
from overture.webhooks import service as webhooks
from overture.webhooks.delivery import Outbound, deliver_due
from overture.webhooks.models import WebhookEndpoint
from webhooks.helpers import activity, attempts, deliveries, endpoint, person, stored_endpoint
from webhooks.receiver import receiving

from support import Personas

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def outbound() -> Iterator[Outbound]:
    client = Outbound()
    yield client
    client.close()


def run(db: Database, outbound: Outbound, at: datetime, *, again: bool = False) -> webhook_delivery.DeliveryReport:
    """One round of the job at `at`: the feed read into deliveries, then the due deliveries sent."""
    with time_machine.travel(at, tick=False):
        webhooks.catch_up(db, at, again=again)
        return deliver_due(db, outbound)


def test_an_activity_reaches_the_receiver_signed_with_its_event_id_and_body(db: Database, outbound: Outbound) -> None:
    with receiving() as receiver:
        endpoint(db, receiver, ["goal.reached"], T0)
        ana = person(db, email="ana@example.com", first_name="Ana")
        activity(db, ana, ActivityType.goal_reached, T0 + timedelta(seconds=1), {"goal": "demo"})
        activity(db, ana, ActivityType.link_clicked, T0 + timedelta(seconds=2), {"url": "https://x.test"})

        report = run(db, outbound, T0 + timedelta(seconds=3))

    [got] = receiver.verified()
    assert report.delivered == 1, "link.clicked is not subscribed"
    assert got.id == deliveries(db)[0].event_id and got.id.startswith("msg_")
    body = got.payload
    assert body["type"] == "goal.reached" and body["version"] == 1
    assert body["timestamp"] == "2026-03-15T12:00:01Z"
    assert body["data"]["activity"]["attributes"] == {"goal": "demo"}
    assert body["data"]["person"]["email"] == "ana@example.com"
    assert got.headers["webhook-timestamp"] == str(int((T0 + timedelta(seconds=3)).timestamp()))
    [attempt] = attempts(db)
    assert (attempt.succeeded, attempt.status_code, attempt.response_excerpt) == (True, 200, '{"ok":true}')


def test_an_endpoint_is_not_sent_what_happened_before_it_was_added(db: Database, outbound: Outbound) -> None:
    ana = person(db)
    activity(db, ana, ActivityType.goal_reached, T0)
    with receiving() as receiver:
        endpoint(db, receiver, ["goal.reached"], T0 + timedelta(minutes=1))
        run(db, outbound, T0 + timedelta(minutes=2), again=True)
    assert receiver.received == []


def test_a_failing_receiver_is_tried_again_on_the_schedule_until_it_answers(db: Database, outbound: Outbound) -> None:
    with receiving(failures=2) as receiver:
        endpoint(db, receiver, ["goal.reached"], T0)
        activity(db, person(db), ActivityType.goal_reached, T0)

        assert run(db, outbound, T0).retried == 1
        # The second try comes 5 s later (give or take 10 %), not before.
        assert run(db, outbound, T0 + timedelta(seconds=4)).retried == 0
        assert run(db, outbound, T0 + timedelta(seconds=6)).retried == 1
        # The third, 5 minutes after that.
        assert run(db, outbound, T0 + timedelta(seconds=6, minutes=4)).delivered == 0
        assert run(db, outbound, T0 + timedelta(seconds=6, minutes=6)).delivered == 1
        assert run(db, outbound, T0 + timedelta(hours=30)).delivered == 0, "delivered once"

    got = receiver.verified()
    assert [r.answered for r in got] == [500, 500, 200]
    assert len({r.id for r in got}) == 1, "every attempt carries the same webhook-id"
    assert len({r.headers["webhook-timestamp"] for r in got}) == 3, "each attempt is signed when it is sent"
    log = attempts(db)
    assert [(a.status_code, a.response_excerpt) for a in log] == [
        (500, "busy, try later"), (500, "busy, try later"), (200, '{"ok":true}'),
    ]  # fmt: skip
    assert all(a.duration_ms >= 0 for a in log)
    [row] = deliveries(db)
    assert (row.status, row.attempts) == ("delivered", 3)


def test_the_schedule_spans_a_day_and_then_the_delivery_has_failed() -> None:
    delays = [webhook_delivery.retry_delay(7, n) for n in range(1, 9)]
    assert delays[-1] is None, "eight attempts in all"
    waits = [d for d in delays if d is not None]
    expected = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]  # fmt: skip
    for wait, nominal in zip(waits, expected, strict=True):
        assert nominal * 0.9 <= wait <= nominal * 1.1
    assert timedelta(hours=24) < sum(waits, timedelta()) < timedelta(hours=31)
    assert webhook_delivery.retry_delay(8, 3) != webhook_delivery.retry_delay(7, 3), "jittered per delivery"


def test_a_day_of_failures_disables_the_endpoint_and_emails_the_admins(
    db: Database, outbound: Outbound, personas: Personas
) -> None:
    with receiving(failures=1000) as receiver:
        endpoint_id = endpoint(db, receiver, ["goal.reached"], T0, description="CRM")
        activity(db, person(db), ActivityType.goal_reached, T0)
        at = T0
        for _ in range(40):
            if at >= T0 + timedelta(hours=20) and len(deliveries(db)) == 1:
                activity(db, person(db), ActivityType.goal_reached, at)  # another event, while it fails
            report = run(db, outbound, at)
            if report.disabled:
                break
            assert stored_endpoint(db, endpoint_id).enabled, "still on before a day of failures"
            at = min(r.next_attempt_at for r in deliveries(db) if r.status == "pending")
        sent = len(receiver.received)
        run(db, outbound, at + timedelta(hours=12))  # nothing more goes to a disabled endpoint

    assert report.disabled == [endpoint_id]
    assert timedelta(days=1) <= at - T0 < timedelta(days=2)
    gone = stored_endpoint(db, endpoint_id)
    assert not gone.enabled and gone.disabled_reason
    assert [r.status for r in deliveries(db)] == ["failed", "failed"], "the waiting one is given up"
    assert all(r.answered == 500 for r in receiver.verified())
    assert len(receiver.received) == sent == len(attempts(db))
    with db.read() as session:
        [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook_disabled")).all()
    assert message.to == [personas.alice.email], "the active admins"
    assert receiver.url in message.subject and "CRM" in message.text_body


def test_a_private_address_is_refused_unless_an_admin_allows_it(db: Database, outbound: Outbound) -> None:
    with receiving() as receiver, db.write() as session:
        with pytest.raises(InvalidInput) as refused:
            webhooks.create_endpoint(
                session, webhooks.EndpointInput(url=receiver.url, event_types=("goal.reached",)), T0
            )
    assert refused.value.problems[0].path == "url"
    assert "private or local address" in refused.value.problems[0].message

    with receiving() as receiver:
        endpoint_id = endpoint(db, receiver, ["goal.reached"], T0)
        with db.write() as session:  # the admin withdraws the permission
            session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(allow_private=False)
            )
        activity(db, person(db), ActivityType.goal_reached, T0)
        run(db, outbound, T0)

    assert receiver.received == [], "nothing was sent"
    [attempt] = attempts(db)
    assert not attempt.succeeded and attempt.status_code is None
    assert attempt.error and "private or local address" in attempt.error


def test_a_delivery_sent_again_reaches_the_receiver_again_with_the_same_id(db: Database, outbound: Outbound) -> None:
    with receiving() as receiver:
        endpoint(db, receiver, ["goal.reached"], T0)
        activity(db, person(db), ActivityType.goal_reached, T0)
        run(db, outbound, T0)
        [row] = deliveries(db)
        with db.write() as session:
            webhooks.redeliver(session, webhooks.get_delivery(session, row.id), T0 + timedelta(hours=1))
        run(db, outbound, T0 + timedelta(hours=1))

    first, again = receiver.verified()
    assert first.id == again.id and first.body == again.body
    assert len(attempts(db)) == 2


def test_reading_the_feed_again_queues_nothing_twice(db: Database, outbound: Outbound) -> None:
    with receiving() as receiver:
        endpoint(db, receiver, ["goal.reached"], T0)
        activity(db, person(db), ActivityType.goal_reached, T0)
        run(db, outbound, T0, again=True)
        run(db, outbound, T0 + timedelta(minutes=1), again=True)
        run(db, outbound, T0 + timedelta(minutes=2), again=True)
    assert len(receiver.verified()) == 1
    assert len(deliveries(db)) == 1


def test_two_workers_at_once_send_each_delivery_once(db: Database) -> None:
    with receiving() as receiver:
        endpoint(db, receiver, ["goal.reached"], T0)
        ana = person(db)
        for n in range(12):
            activity(db, ana, ActivityType.goal_reached, T0, {"goal": f"g{n}"})
        with time_machine.travel(T0, tick=False):
            webhooks.catch_up(db, T0)
            start = threading.Barrier(2)
            reports: list[webhook_delivery.DeliveryReport] = []

            def worker() -> None:
                client = Outbound()
                start.wait()
                reports.append(deliver_due(db, client))
                client.close()

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)

    got = receiver.verified()
    assert len(got) == 12 and len({r.id for r in got}) == 12, "each event once"
    assert sum(r.delivered for r in reports) == 12
    assert len(attempts(db)) == 12
