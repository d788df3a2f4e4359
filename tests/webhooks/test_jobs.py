"""The job queue runs the webhooks: an activity recorded by a request wakes the feed's reader once the request is
committed, debounced to one run a second however many activities came (they are recorded at nearly every reply),
and that run delivers them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from overture.db import Database, Wake, utcnow
from overture.settings import Settings
from overture.web.app import create_app
from overture.webhooks import service as webhooks
from webhooks.helpers import endpoint
from webhooks.receiver import receiving

from support import example, publish


def test_activities_of_requests_wake_one_run_that_delivers_them(settings: Settings, db: Database) -> None:
    publish(db, example("newsletter.yaml"))
    app = create_app(settings, start_jobs=False)
    jobs = app.state.context.jobs
    with receiving() as receiver, TestClient(app) as client:  # the app's lifespan closes what its jobs opened
        endpoint(db, receiver, ["dialogue.triggered"], utcnow())
        for _ in range(3):
            started = client.post(
                "/api/v1/widget/conversations",
                json={"dialogue": "newsletter", "page_url": "https://example.com/blog", "visitor_id": None},
            )
            assert started.status_code == 201, started.text
        [run] = jobs.huey.pending()
        assert run.name.endswith("send_webhooks"), "one run scheduled for the three commits"
        assert receiver.received == [], "sent by that run, not by the request"
        jobs.huey.execute(run, timestamp=run.eta)  # as the consumer does once it is due
    got = receiver.verified()
    assert [r.payload["type"] for r in got] == ["dialogue.triggered"] * 3


def test_a_delivery_queued_by_a_request_wakes_the_sender_at_once(settings: Settings, db: Database) -> None:
    app = create_app(settings, start_jobs=False)
    jobs = app.state.context.jobs
    jobs.huey.immediate = True  # run a task as soon as it is enqueued
    with receiving() as receiver, TestClient(app):
        endpoint_id = endpoint(db, receiver, ["goal.reached"], utcnow())
        with db.write() as session:
            webhooks.send_test(session, webhooks.get_endpoint(session, endpoint_id), utcnow())
        jobs.wake(Wake.webhooks)
    [got] = receiver.verified()
    assert got.payload["type"] == "webhook.test"
