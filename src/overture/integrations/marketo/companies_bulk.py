"""Marketo companies applied set-based, a batch (a companies call: 300) in a few statements.

A company is found by its `externalCompanyId` (`integration_records`), else by its domain (`company_domains`);
otherwise it is created, with its domain. A company found by one of its domains keeps its main domain. Values go
through the mapping and are checked as a lead's are (`leads_import.parse_mapped`): a company whose value does not
fit is skipped with the reason. The links, companies and domains of the batch are read in a few IN queries; new
companies are inserted in one statement and changed ones updated in one executemany, with their name words
(`people/bulk.py`); then the people of the leads naming each company join it (`link_people`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from overture.integrations.marketo.leads_import import (
    COMPANY,
    COMPANY_KEY,
    INTEGRATION,
    LEAD,
    Counts,
    Values,
    parse_mapped,
    record_skips,
    remote_time,
)
from overture.integrations.marketo.sync_models import REMOTE_ID_LENGTH, IntegrationRecord
from overture.people.bulk import insert_companies, update_companies
from overture.people.fields import FieldSchema
from overture.people.models import Company, CompanyDomain, Person
from overture.people.service import COMPANY_COLUMNS

_COMPANIES = cast(Table, Company.__table__)
_DOMAINS = cast(Table, CompanyDomain.__table__)
_LINKS = cast(Table, IntegrationRecord.__table__)
_PEOPLE = cast(Table, Person.__table__)
_READ = (*COMPANY_COLUMNS.values(), "fields", "updated_at")


@dataclass
class _Company:
    """A company as the batch sees it: the id (None until inserted), the columns read and the ones changed."""

    id: int | None
    columns: dict[str, Any]
    changed: set[str] = field(default_factory=set)

    def set(self, name: str, value: Any, now: datetime) -> None:
        """Writes a company field as `people.service.set_company_field` does."""
        column = COMPANY_COLUMNS.get(name)
        if column is None:
            self.put("fields", {**(self.columns["fields"] or {}), name: value})
        else:
            self.put(column, value)
        self.put("updated_at", now)

    def put(self, column: str, value: Any) -> None:
        if self.columns[column] != value:
            self.columns[column] = value
            self.changed.add(column)


@dataclass
class _Checked:
    key: str
    values: dict[str, Any]
    updated_at: datetime | None


def _checked(
    records: Sequence[Values], mapping: Mapping[str, str], schema: FieldSchema, counts: Counts
) -> list[_Checked]:
    checked: list[_Checked] = []
    for record in records:
        key = (record.get(COMPANY_KEY) or "").strip()
        if not key or len(key) > REMOTE_ID_LENGTH:
            counts.skipped += 1
            counts.skips.append((key[:REMOTE_ID_LENGTH] or "?", f"{COMPANY_KEY}: {key!r} is not a company key"))
            continue
        values, problem = parse_mapped(record, mapping, schema)
        if problem is not None:
            counts.skipped += 1
            counts.skips.append((key, problem))
            continue
        checked.append(_Checked(key, values, remote_time(record.get("updatedAt"))))
    return checked


def _companies(session: Session, ids: Sequence[int]) -> dict[int, _Company]:
    if not ids:
        return {}
    rows = session.connection().execute(
        select(_COMPANIES.c.id, *(_COMPANIES.c[name] for name in _READ)).where(_COMPANIES.c.id.in_(ids))
    )
    return {row[0]: _Company(row[0], dict(zip(_READ, row[1:], strict=True))) for row in rows}


def apply_companies(
    session: Session,
    records: Sequence[Values],
    mapping: Mapping[str, str],
    schema: FieldSchema,
    now: datetime,
) -> Counts:
    """Applies Marketo companies (each with its `externalCompanyId`) in the caller's transaction, as the module
    says, then links the people of the leads that name them (`link_people`); keeps the reason of each skipped."""
    counts = Counts()
    checked = _checked(records, mapping, schema, counts)
    links = {
        row[0]: (row[1], row[2], row[3])
        for row in session.connection().execute(
            select(_LINKS.c.remote_id, _LINKS.c.id, _LINKS.c.company_id, _LINKS.c.remote_updated_at).where(
                _LINKS.c.integration == INTEGRATION,
                _LINKS.c.kind == COMPANY,
                _LINKS.c.remote_id.in_(sorted({item.key for item in checked})),
            )
        )
    }
    domains = sorted({item.values["company.domain"] for item in checked if item.values.get("company.domain")})
    rows = session.connection().execute(
        select(_DOMAINS.c.domain, _DOMAINS.c.company_id).where(_DOMAINS.c.domain.in_(domains))
    )
    owners: dict[str, int] = {row[0]: row[1] for row in rows}
    companies = _companies(session, sorted({*(link[1] for link in links.values() if link[1]), *owners.values()}))
    by_domain = {domain: companies[id_] for domain, id_ in owners.items() if id_ in companies}
    created: list[tuple[_Company, str | None]] = []
    linked: dict[str, _Company] = {}  # each applied key's company (unchanged ones too)
    written: dict[str, datetime | None] = {}  # each key written: Marketo's updatedAt
    applied: list[str] = []
    for item in checked:
        link = links.get(item.key)
        company = companies.get(link[1]) if link is not None and link[1] is not None else None
        if link is not None and company is not None and link[2] == item.updated_at:
            counts.unchanged += 1
            applied.append(item.key)
            linked[item.key] = company
            continue
        domain = item.values.get("company.domain")
        if company is None and domain:
            company = by_domain.get(domain)
        new = company is None
        if company is None:
            company = _Company(None, {**dict.fromkeys(_READ), "fields": {}, "created_at": now, "updated_at": now})
            created.append((company, domain))
            if domain:
                by_domain[domain] = company
        for name, value in item.values.items():
            # A company found by one of its domains keeps its main domain.
            if name != "company.domain" or company.columns["domain"] is None:
                company.set(name, value, now)
        linked[item.key] = company
        written[item.key] = item.updated_at
        counts.created += new
        counts.updated += not new
        applied.append(item.key)
    _write_companies(session, created, [company for company in companies.values() if company.changed])
    _write_links(session, links, {key: (linked[key], at) for key, at in written.items()})
    link_people(session, [(key, company.id) for key, company in linked.items()])
    record_skips(session, COMPANY, counts.skips, applied, now)
    return counts


def _write_companies(session: Session, created: list[tuple[_Company, str | None]], changed: list[_Company]) -> None:
    rows = [company.columns for company, _ in created]
    for (company, _), id_ in zip(created, insert_companies(session, rows), strict=True):
        company.id = id_
    domains = [{"domain": domain, "company_id": company.id} for company, domain in created if domain]
    if domains:
        session.connection().execute(insert(_DOMAINS), domains)
    # Every changed company's row sets the same columns: those any of them changed, and the name.
    columns = sorted(set().union(*(company.changed for company in changed), {"name"}))
    update_companies(
        session,
        [{"id": company.id, **{name: company.columns[name] for name in columns}} for company in changed],
        renamed={cast(int, company.id) for company in changed if "name" in company.changed},
    )


def _write_links(
    session: Session,
    links: Mapping[str, tuple[int, int | None, datetime | None]],
    written: Mapping[str, tuple[_Company, datetime | None]],
) -> None:
    """The link of each company written: a new one, or the one it had, pointed at the company and its updatedAt."""
    fresh = [
        {"integration": INTEGRATION, "kind": COMPANY, "remote_id": key, "company_id": company.id,
         "remote_updated_at": at}
        for key, (company, at) in written.items() if key not in links
    ]  # fmt: skip
    if fresh:
        session.connection().execute(insert(_LINKS), fresh)
    moved = [{"_id": links[key][0], "_company": company.id, "_at": at}
             for key, (company, at) in written.items() if key in links]  # fmt: skip
    if moved:
        session.connection().execute(
            update(_LINKS)
            .where(_LINKS.c.id == bindparam("_id"))
            .values(
                company_id=bindparam("_company"),
                remote_updated_at=bindparam("_at", type_=_LINKS.c.remote_updated_at.type),
            ),
            moved,
        )


def link_people(session: Session, companies: Sequence[tuple[str, int | None]]) -> None:
    """Puts the people of the leads naming each external company id in that company."""
    rows = [{"key": key, "company": company_id} for key, company_id in companies if company_id is not None]
    if not rows:
        return
    leads = select(_LINKS.c.person_id).where(
        _LINKS.c.integration == INTEGRATION,
        _LINKS.c.kind == LEAD,
        _LINKS.c.company_remote_id == bindparam("key"),
    )
    session.connection().execute(
        update(_PEOPLE)
        .where(_PEOPLE.c.id.in_(leads), _PEOPLE.c.company_id.is_distinct_from(bindparam("company", type_=Integer)))
        .values(company_id=bindparam("company", type_=Integer)),
        rows,
    )
