"""What the tests of the wired Marketo sync share: a world on the test's clock (the fake Marketo's too, moved by the
client's sleeps, so no test waits for real), and connecting or disconnecting the fake as an admin would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from integrations.connect_support import form
from overture.db import Database
from overture.http import HttpClient
from overture.integrations import marketo, service
from overture.integrations.marketo.fake import FakeMarketo
from overture.integrations.world import IntegrationWorld
from overture.people.models import Company, Person
from overture.settings import Settings, resolve_secret_key

from .client_support import Clock


@contextmanager
def clocked_world(settings: Settings, clock: Clock) -> Iterator[IntegrationWorld]:
    """The world of a running Overture, on `clock`: its waits move the clock."""
    http = HttpClient(allow_private=True, sleep=clock.sleep)
    world = IntegrationWorld(settings, http, resolve_secret_key(settings), clock=clock, sleep=clock.sleep)
    try:
        yield world
    finally:
        world.close()


# The proposed mapping sends a company's billingCountry to company.country, which takes ISO codes, where Marketo
# (and the fake) hold country names ("France"): every company would be skipped for it. These tests are about the
# wiring, so the admin sets it to "Not synced", as they would on the page.
NOT_SYNCED = {"company": {"billingCountry": None}}


def connect(db: Database, world: IntegrationWorld, fake: FakeMarketo) -> None:
    """Connects `fake` (started with connect_support's SECRET) as alice would on the Integrations page, the
    billing country not synced (`NOT_SYNCED`)."""
    account = service.check_account(world, marketo.NAME, form(fake))
    with db.write() as session:
        service.connect(session, account, by="alice@example.com", now=world.clock(), secret_key=world.secret_key)
        service.set_mapping(session, marketo.NAME, NOT_SYNCED)


def disconnect(db: Database, world: IntegrationWorld) -> None:
    with db.write() as session:
        service.disconnect(session, marketo.NAME, by="alice@example.com", now=world.clock())


def people_and_companies(db: Database) -> tuple[int, int]:
    with db.read() as session:
        people = session.scalar(select(func.count()).select_from(Person)) or 0
        return people, session.scalar(select(func.count()).select_from(Company)) or 0
