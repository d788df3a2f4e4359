"""People synced from Marketo in bulk are found by the People search like any other: the sync writes the name index
for the people it creates and for those whose name Marketo changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from overture.db import Database
from overture.integrations.marketo.sync import sync_marketo
from overture.people.directory import search_people
from overture.people.models import Person

from .client_support import START, Clock, StartMarketo, marketo

SINCE = START - timedelta(days=740)  # the fake's leads were created over the two years before START


def found(db: Database, q: str) -> list[str | None]:
    """The emails of the people the People search finds for `q`."""
    with db.read() as session:
        ids = [item.id for item in search_people(session, q, limit=200).items]
        return [person.email for person in session.scalars(select(Person).where(Person.id.in_(ids)))]


def test_a_synced_lead_is_found_by_their_last_name_through_the_people_search(
    db: Database, start_marketo: StartMarketo
) -> None:
    with marketo(start_marketo, Clock(), leads=300, companies=10) as (fake, client):
        sync_marketo(db, client, start=SINCE, batch_rows=100)
        lead = fake.lead(7)
    assert lead is not None
    assert lead["email"] in found(db, lead["lastName"].lower()[:4])


def test_a_lead_renamed_in_marketo_is_found_by_the_new_name_after_a_full_sync_and_no_longer_by_the_old(
    db: Database, start_marketo: StartMarketo
) -> None:
    clock = Clock()
    with marketo(start_marketo, clock, leads=300, companies=10) as (fake, client):
        sync_marketo(db, client, start=SINCE, batch_rows=100)
        lead = fake.lead(7)
        assert lead is not None
        fake.change_lead(7, START + timedelta(minutes=1), lastName="Quennevilleson")
        clock.advance(120)
        sync_marketo(db, client, start=SINCE, batch_rows=100, full=True)
    assert found(db, "quenneville") == [lead["email"]]
    assert lead["email"] not in found(db, f"{lead['firstName']} {lead['lastName']}")
