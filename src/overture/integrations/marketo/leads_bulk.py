"""A batch of checked Marketo leads applied set-based: the rules of `leads_import.py`, in a few statements a batch.

The people, links and companies of the whole batch are read in a few IN queries; the rules then run in memory over
plain rows, lead by lead in the file's order (a lead later in the batch sees what an earlier one did, as it would
one batch later); then the new people are inserted in one statement, the changed ones updated in one executemany
(with their name words, `people/bulk.py`), and the links written likewise. A person created for a lead without an
`externalCompanyId` joins the company of their email's domain through `people.companies.link_company`, once per
domain: the others of that domain in the batch join the same company.

This path writes person fields only; a lead mapping that also writes company fields goes through the one-by-one
path of `leads_import.py`, where `set_field` makes a company for a person without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from overture.integrations.marketo.leads_import import (
    COMPANY,
    INTEGRATION,
    LEAD,
    Counts,
    Lead,
    Values,
    apply_leads_one_by_one,
    captured_at,
    chat_wins,
    checked_leads,
    record_skips,
)
from overture.integrations.marketo.sync_models import IntegrationRecord
from overture.people.bulk import insert_people, update_people
from overture.people.companies import link_company
from overture.people.email_domains import domain_of, is_free
from overture.people.fields import FieldSchema
from overture.people.models import Person
from overture.people.service import PERSON_COLUMNS

_PEOPLE = cast(Table, Person.__table__)
_LINKS = cast(Table, IntegrationRecord.__table__)
# What the rules read and write of a person: the mapped columns, the claim, the company and the custom fields.
_READ = (*PERSON_COLUMNS.values(), "claimed_email", "company_id", "fields")
_IN_BATCH = 5_000  # values in one IN list (SQLite takes at most 32,766 bound parameters)


@dataclass
class _Person:
    """A person as the batch sees it: the id (None until inserted), the columns read and the ones changed."""

    id: int | None
    columns: dict[str, Any]
    changed: set[str] = field(default_factory=set)

    def set(self, name: str, value: Any) -> None:
        """Writes a person field as `people.service.set_field` does (a column, else a custom field)."""
        column = PERSON_COLUMNS.get(name)
        if column is None:
            self.put("fields", {**(self.columns["fields"] or {}), name: value})
        else:
            self.put(column, value)

    def put(self, column: str, value: Any) -> None:
        if self.columns[column] != value:
            self.columns[column] = value
            self.changed.add(column)


@dataclass
class _Link:
    id: int
    person_id: int | None
    company_remote_id: str | None
    remote_updated_at: datetime | None


def _in_batches(session: Session, query: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(values), _IN_BATCH):
        rows += session.connection().execute(query.where(column.in_(values[start : start + _IN_BATCH]))).all()
    return rows


def _links(session: Session, remote_ids: list[str]) -> dict[str, _Link]:
    columns = ("remote_id", "id", "person_id", "company_remote_id", "remote_updated_at")
    query = select(*(_LINKS.c[name] for name in columns)).where(
        _LINKS.c.integration == INTEGRATION, _LINKS.c.kind == LEAD
    )
    return {row[0]: _Link(*row[1:]) for row in _in_batches(session, query, _LINKS.c.remote_id, remote_ids)}


def company_ids(session: Session, keys: list[str]) -> dict[str, int]:
    """The Overture company of each external company id already synced."""
    query = select(_LINKS.c.remote_id, _LINKS.c.company_id).where(
        _LINKS.c.integration == INTEGRATION, _LINKS.c.kind == COMPANY, _LINKS.c.company_id.is_not(None)
    )
    return {row[0]: row[1] for row in _in_batches(session, query, _LINKS.c.remote_id, keys)}


def _people(session: Session, column: Any, values: list[Any]) -> list[_Person]:
    query = select(_PEOPLE.c.id, *(_PEOPLE.c[name] for name in _READ))
    return [
        _Person(row[0], dict(zip(_READ, row[1:], strict=True))) for row in _in_batches(session, query, column, values)
    ]


def apply_leads(
    session: Session,
    records: Sequence[Values],
    mapping: Mapping[str, str],
    schema: FieldSchema,
    now: datetime,
) -> Counts:
    """Applies Marketo leads (each with at least `id`, and `updatedAt`, `createdAt`, `externalCompanyId` when
    exported) in the caller's transaction, as `leads_import.py` says; keeps the reason of each one skipped. A lead
    of a company already synced joins it; the others wait for the companies phase (`link_people`), or, without an
    `externalCompanyId`, join the company of their email's domain as a visitor giving that email would."""
    counts = Counts()
    leads = checked_leads(records, mapping, schema, counts)
    if any(local.startswith("company.") for local in mapping.values()):
        applied = apply_leads_one_by_one(session, leads, counts, now)
    else:
        applied = apply_lead_batch(session, leads, counts, now)
    record_skips(session, LEAD, counts.skips, applied, now)
    return counts


def apply_lead_batch(session: Session, leads: Sequence[Lead], counts: Counts, now: datetime) -> list[str]:
    """Applies checked leads (person fields only) in the caller's transaction, counting into `counts`; returns
    the remote ids applied or found unchanged."""
    links = _links(session, sorted({lead.remote_id for lead in leads}))
    companies = company_ids(session, sorted({lead.company_remote_id for lead in leads if lead.company_remote_id}))
    linked = sorted({link.person_id for link in links.values() if link.person_id is not None})
    people = {cast(int, person.id): person for person in _people(session, _PEOPLE.c.id, linked)}
    emails = sorted({lead.values["person.email"] for lead in leads if "person.email" in lead.values})
    by_email: dict[str, _Person] = {}
    for found in _people(session, _PEOPLE.c.email, emails):
        by_email[found.columns["email"]] = people.setdefault(cast(int, found.id), found)
    captured = captured_at(session, people)
    created: list[_Person] = []
    new_links: list[tuple[Lead, _Person]] = []
    moved: list[tuple[_Link, _Person]] = []
    by_domain: list[_Person] = []
    applied: list[str] = []
    for lead in leads:
        link = links.get(lead.remote_id)
        person = people.get(link.person_id) if link is not None and link.person_id is not None else None
        email = lead.values.get("person.email")
        if person is None and email is not None:
            person = by_email.get(email)
        owner = by_email.get(email) if email is not None else None
        if person is not None and owner is not None and owner is not person:
            counts.skipped += 1
            counts.skips.append((lead.remote_id, f"email: {email} belongs to another person (#{owner.id}) already"))
            continue
        if link is not None and link.remote_updated_at is not None and link.remote_updated_at == lead.updated_at:
            counts.unchanged += 1
            applied.append(lead.remote_id)
            continue
        new = person is None
        if person is None:
            born = lead.created_at or now
            person = _Person(None, {**dict.fromkeys(_READ), "fields": {}, "created_at": born, "last_seen_at": born})
            created.append(person)
        for name, value in lead.values.items():
            if not new and person.id is not None and chat_wins(captured.get((person.id, name)), lead.updated_at):
                continue
            person.set(name, value)
        if email is not None:
            by_email[email] = person
            if person.columns["claimed_email"] == email:
                person.put("claimed_email", None)  # their own email now: no longer a claim
        company = companies.get(lead.company_remote_id) if lead.company_remote_id else None
        if company is not None:
            person.put("company_id", company)
        elif lead.company_remote_id is None and email is not None:
            by_domain.append(person)
        counts.created += new
        counts.updated += not new
        applied.append(lead.remote_id)
        if link is None:
            new_links.append((lead, person))
        else:
            moved.append((link, person))
            link.company_remote_id, link.remote_updated_at = lead.company_remote_id, lead.updated_at
    _write_people(session, created, [person for person in people.values() if person.changed])
    _join_by_domain(session, by_domain, now)
    _write_links(session, new_links, moved)
    return applied


def _write_people(session: Session, created: list[_Person], changed: list[_Person]) -> None:
    rows = [{**person.columns, "source": {}, "visit": {}, "visit_count": 0, "session_number": 1} for person in created]
    for person, id_ in zip(created, insert_people(session, rows), strict=True):
        person.id = id_
    # Every changed person's row sets the same columns: those any of them changed, and the names.
    columns = sorted(set().union(*(person.changed for person in changed), {"first_name", "last_name"}))
    update_people(
        session,
        [{"id": person.id, **{name: person.columns[name] for name in columns}} for person in changed],
        renamed={cast(int, person.id) for person in changed if person.changed & {"first_name", "last_name"}},
    )  # fmt: skip


def _join_by_domain(session: Session, people: list[_Person], now: datetime) -> None:
    """Puts the people still without a company in the company of their email's domain: `link_company` for the
    first of each domain (it finds or makes the company, safe against a visitor claiming the domain at once),
    the same company for the others."""
    domains: dict[str, list[int]] = {}
    for person in people:
        domain = domain_of(person.columns["email"] or "")
        if person.columns["company_id"] is None and domain and not is_free(domain) and person.id is not None:
            domains.setdefault(domain, [])
            if person.id not in domains[domain]:
                domains[domain].append(person.id)
    rows: list[dict[str, Any]] = []
    for first, *others in domains.values():
        orm_person = session.get_one(Person, first)
        link_company(session, orm_person, now)
        session.flush()
        rows += [{"_id": other, "_company": orm_person.company_id} for other in others]
    if rows:
        session.connection().execute(
            update(_PEOPLE).where(_PEOPLE.c.id == bindparam("_id")).values(company_id=bindparam("_company")), rows
        )


def _write_links(session: Session, new: list[tuple[Lead, _Person]], moved: list[tuple[_Link, _Person]]) -> None:
    if new:
        session.connection().execute(
            insert(_LINKS),
            [
                {"integration": INTEGRATION, "kind": LEAD, "remote_id": lead.remote_id, "person_id": person.id,
                 "company_id": None, "company_remote_id": lead.company_remote_id,
                 "remote_updated_at": lead.updated_at}
                for lead, person in new
            ],
        )  # fmt: skip
    if moved:
        session.connection().execute(
            update(_LINKS)
            .where(_LINKS.c.id == bindparam("_id"))
            .values(
                person_id=bindparam("_person"),
                company_remote_id=bindparam("_key"),
                remote_updated_at=bindparam("_at", type_=_LINKS.c.remote_updated_at.type),
            ),
            [
                {"_id": link.id, "_person": person.id if person.id is not None else link.person_id,
                 "_key": link.company_remote_id, "_at": link.remote_updated_at}
                for link, person in moved
            ],
        )  # fmt: skip
