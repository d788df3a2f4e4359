"""Background jobs on huey: thin wrappers over service functions.

Embedded (no Redis): a SqliteHuey queue in the data folder, consumed by threads inside the web process.
At scale: RedisHuey, consumed by `overture worker` processes. Huey cannot enqueue inside our database transaction,
so work is always a row first (the mail outbox, ...) and a task only drains rows; a periodic task drains whatever
a lost wake-up left behind.
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import structlog
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer

from overture.analytics import retention, rollups
from overture.automations import runner as automation_runner
from overture.calendars.world import CalendarWorld, calendar_world
from overture.conversations import service as conversations
from overture.db import Database, Wake, utcnow
from overture.integrations.marketo import sync_run as marketo_sync
from overture.integrations.world import integration_world
from overture.mail import service as mail
from overture.mail.smtp import Sender, SmtpSender
from overture.scheduling import calendar_sync, notices
from overture.settings import Settings, resolve_secret_key
from overture.users import service as users
from overture.users import sessions
from overture.webhooks import delivery as webhook_delivery
from overture.webhooks import service as webhooks

# Activities are recorded at nearly every reply: their wake-up runs the feed's consumers at most once a second, a
# second after the first wake-up of that second (a trailing run that sees everything committed meanwhile).
ACTIVITIES_DEBOUNCE = 1.0


def make_sender(settings: Settings) -> Sender | None:
    """The SMTP sender when SMTP is configured; None keeps messages in the outbox."""
    if not settings.smtp_configured:
        return None
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        timeout=settings.smtp_timeout,
    )


@dataclass
class Jobs:
    huey: Huey
    deliver_mail: Any
    sync_calendars: Any = None
    purge_expired_data: Any = None
    send_webhooks: Any = None
    sync_marketo: Any = None  # calling it queues a run (the Marketo page's "Sync now")
    # The webhooks' HTTP clients (built on first use; closed with the app).
    webhooks_outbound: webhook_delivery.Outbound = field(default_factory=webhook_delivery.Outbound)
    _activities_due: float = 0.0
    _debounce: threading.Lock = field(default_factory=threading.Lock)

    def wake(self, worker: Wake) -> None:
        """Asks a worker to drain its rows now (called after a commit that gave it work, see `db.Wake`): the mail
        outbox, the calendar events of meetings booked, moved, cancelled or reassigned, the webhook deliveries, or
        the consumers of the activity feed (debounced: at most one run a second)."""
        match worker:
            case Wake.mail:
                self.deliver_mail()
            case Wake.calendar:
                self.sync_calendars()
            case Wake.webhooks:
                self.send_webhooks()
            case Wake.activities:
                with self._debounce:
                    now = time.monotonic()
                    if now < self._activities_due:
                        return  # a run is already scheduled after this commit
                    self._activities_due = now + ACTIVITIES_DEBOUNCE
                self.send_webhooks.schedule(delay=ACTIVITIES_DEBOUNCE)

    def close(self) -> None:
        """Closes the connections the jobs keep open (the webhooks' HTTP clients)."""
        self.webhooks_outbound.close()


def create_jobs(settings: Settings, db: Database) -> Jobs:
    if settings.redis_url:
        huey: Huey = RedisHuey("overture", url=settings.redis_url)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey("overture", filename=str(settings.data_dir / "jobs.db"))
    sender = make_sender(settings)

    @huey.task()  # type: ignore[untyped-decorator]
    def deliver_mail() -> None:
        mail.deliver_due(db, sender, settings.mail_from, utcnow())

    @huey.periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
    def deliver_mail_every_minute() -> None:
        mail.deliver_due(db, sender, settings.mail_from, utcnow())

    @huey.periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
    def drop_abandoned_conversations() -> None:
        with db.write() as session:
            conversations.drop_abandoned(session, utcnow())

    @huey.periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
    def count_reports_every_minute() -> None:
        # Reports also catch up when read; this keeps the rollups current for them and reads once more the
        # last minutes (rows committed out of id order on PostgreSQL), and counts a backlog in steps.
        rollups.catch_up_all(db, utcnow(), again=True)

    @huey.periodic_task(crontab(minute="17"))  # type: ignore[untyped-decorator]
    def forget_ended_sign_ins() -> None:
        with db.write() as session:
            sessions.purge_ended(session, utcnow())
            users.forget_old_failures(session, utcnow())

    # Daily, at an hour of little traffic (UTC): the purge deletes in small batches, each its own transaction.
    @huey.periodic_task(crontab(minute="41", hour="3"))  # type: ignore[untyped-decorator]
    def purge_expired_data() -> None:
        deleted = retention.purge(db, retention.Windows.of(settings), utcnow())
        structlog.get_logger("overture.retention").info("retention purge", deleted=deleted)

    # Built on first use, once per process: it holds the outbound HTTP client and reads the secret key.
    @functools.cache
    def world() -> CalendarWorld:
        return calendar_world(settings, db, resolve_secret_key(settings))

    @huey.task()  # type: ignore[untyped-decorator]
    def sync_calendars() -> None:
        calendar_sync.sync_due(world(), utcnow())

    @huey.periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
    def sync_calendars_every_minute() -> None:
        calendar_sync.sync_due(world(), utcnow())

    @huey.periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
    def send_meeting_reminders() -> None:
        with db.write() as session:
            queued = notices.queue_due_reminders(
                session,
                utcnow(),
                settings.meeting_reminders,
                base_url=settings.base_url,
                secret_key=world().secret_key,
            )
        if queued:
            deliver_mail()

    outbound = webhook_delivery.Outbound()

    def webhooks_round(again: bool) -> None:
        # The activity feed's consumers: automations first (their webhooks and chat posts go out in this round).
        ran = automation_runner.run_due(db, utcnow(), settings.base_url, again=again)
        webhooks.catch_up(db, utcnow(), again=again)
        report = webhook_delivery.deliver_due(db, outbound)
        if ran or report.disabled:
            deliver_mail()  # the automations' notifications, the admins' email about an endpoint disabled

    @huey.periodic_task(crontab(minute="47", hour="3"))  # type: ignore[untyped-decorator]
    def forget_old_webhook_deliveries() -> None:
        webhooks.purge_log(db, utcnow())

    @huey.task()  # type: ignore[untyped-decorator]
    def send_webhooks() -> None:
        webhooks_round(again=False)

    @huey.periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
    def send_webhooks_every_minute() -> None:
        # Also reads the activity feed's last minutes again (rows committed out of id order on PostgreSQL), and
        # sends the retries that came due.
        webhooks_round(again=True)

    @huey.periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
    def sync_marketo() -> None:
        # Also queued by "Sync now". Does nothing unless Marketo is connected, stops at a disconnect, one run at a
        # time (a run still under way leaves this one nothing to do), and logs a failure rather than raise it.
        with closing(integration_world(settings, resolve_secret_key(settings))) as integrations:
            marketo_sync.run_job(db, integrations)

    return Jobs(
        huey=huey,
        deliver_mail=deliver_mail,
        sync_calendars=sync_calendars,
        purge_expired_data=purge_expired_data,
        send_webhooks=send_webhooks,
        webhooks_outbound=outbound,
        sync_marketo=sync_marketo,
    )


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer running beside the web server: the server, not huey, owns the process's signals."""

    def _set_signal_handlers(self) -> None:
        pass


def start_embedded_consumer(jobs: Jobs) -> Consumer:
    consumer = _EmbeddedConsumer(jobs.huey, workers=2, worker_type="thread", periodic=True)
    consumer.start()
    return consumer


class StandaloneConsumer(Consumer):  # type: ignore[misc]
    """The consumer of `overture worker`: it owns its process's signals from before its first task, where huey
    sets them only after starting its workers, so a stop that came as soon as a task was done ended the process
    by the default SIGTERM action (exit -15) instead of a clean stop."""

    def start(self) -> None:
        self._set_signal_handlers()
        super().start()


def run_worker(jobs: Jobs, workers: int) -> None:
    """Runs a standalone consumer until it receives SIGINT or SIGTERM (`overture worker`)."""
    StandaloneConsumer(jobs.huey, workers=workers, worker_type="thread", periodic=True).run()
