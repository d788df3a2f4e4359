"""Background jobs: a commit that queues mail wakes a worker, the embedded consumer delivers, and so does
`overture worker` with Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import select

from analytics.retention_rows import EVERYTHING, OUTCOMES, THEN, left, make_rows
from overture.db import Database, Wake
from overture.jobs import StandaloneConsumer, create_jobs
from overture.mail.models import OutboxMessage
from overture.mail.schemas import NewMessage
from overture.mail.service import enqueue
from overture.settings import Settings
from overture.web.app import create_app

from support import Personas, token_for


def statuses(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)).all())


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> bool:
    """Polls a condition that another thread or process makes true; bounded."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_request_that_queues_mail_wakes_the_delivery_job(
    settings: Settings, db: Database, personas: Personas
) -> None:
    app = create_app(settings, start_jobs=False)
    app.state.context.jobs.huey.immediate = True  # run the task as soon as it is enqueued
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
        client.post(f"/api/v1/admin/users/{personas.bob.id}/password-link", headers=auth)
    assert statuses(db) == ["kept"], "no SMTP configured: delivered to the outbox only"


def test_the_embedded_consumer_delivers_the_outbox(settings: Settings, db: Database, personas: Personas) -> None:
    with TestClient(create_app(settings, start_jobs=True)) as client:
        auth = {"Authorization": f"Bearer {token_for(db, personas.alice)}"}
        client.post(f"/api/v1/admin/users/{personas.bob.id}/password-link", headers=auth)
        assert wait_until(lambda: statuses(db) == ["kept"])


@pytest.mark.real_clock  # the worker process reads the mail's due time on the machine's clock
def test_overture_worker_delivers_the_outbox_through_redis(settings: Settings, db: Database, database_url: str) -> None:
    redis_url = "redis://127.0.0.1:6379/15"  # a database of its own on the machine's Redis
    settings.redis_url = redis_url
    with db.write() as session:
        enqueue(session, NewMessage(to=["ana@example.com"], subject="Hello", text_body="Hi"))
    env = {
        **os.environ,
        "OVERTURE_DATABASE_URL": database_url,
        "OVERTURE_DATA_DIR": str(settings.data_dir),
        "OVERTURE_REDIS_URL": redis_url,
    }
    worker = subprocess.Popen([sys.executable, "-m", "overture", "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        create_jobs(settings, db).wake(Wake.mail)
        assert wait_until(lambda: statuses(db) == ["kept"], seconds=30)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    assert worker.returncode == 0, errors  # SIGTERM is a clean stop


def test_a_worker_stops_cleanly_even_when_stopped_the_moment_its_first_task_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    huey = MemoryHuey("stop-handlers", immediate=False)
    seen: list[object] = []
    task_ran = threading.Event()

    @huey.task()  # type: ignore[untyped-decorator]
    def note_the_stop_handler() -> None:
        seen.append(signal.getsignal(signal.SIGTERM))
        task_ran.set()

    note_the_stop_handler()  # waiting before the worker starts, as a wake sent during start-up would be
    consumer = StandaloneConsumer(huey, workers=1, worker_type="thread", periodic=False)
    set_handlers = consumer._set_signal_handlers

    def after_the_first_task_once_workers_run() -> None:
        # Plays the slow machine: once a worker thread runs, its task finishes before the handlers go in.
        if any(thread.is_alive() for _, thread in consumer.worker_threads):
            task_ran.wait(10)
        set_handlers()

    monkeypatch.setattr(consumer, "_set_signal_handlers", after_the_first_task_once_workers_run)
    before = {signum: signal.getsignal(signum) for signum in consumer._signal_actions}
    try:
        consumer.start()
        assert task_ran.wait(10)
    finally:
        consumer.stop(graceful=True)
        for signum, handler in before.items():
            signal.signal(signum, handler)
    assert seen == [consumer._handle_signal], "SIGTERM then would end the worker with -15, not a clean stop"


def test_the_daily_purge_deletes_what_its_windows_let_go(settings: Settings, db: Database) -> None:
    jobs = create_jobs(settings.model_copy(update={"raw_data_retention_days": 30}), db)
    make_rows(db)
    task = jobs.purge_expired_data
    daily = task.task_class()
    assert [daily.validate_datetime(THEN.replace(hour=3, minute=m, tzinfo=None)) for m in (40, 41)] == [False, True]
    with time_machine.travel(THEN + timedelta(days=29), tick=False):
        task.call_local()
    assert left(db) == EVERYTHING
    with time_machine.travel(THEN + timedelta(days=31), tick=False):
        task.call_local()
    assert left(db).activities == OUTCOMES and left(db).page_views == 0
