"""Marketo leads and companies into Overture's people and companies: one batch at a time, in the caller's
transaction, never creating a record twice.

A lead is found by its Marketo id (`integration_records`), else by email (Marketo is a system of record: its email
is trusted, unlike one typed in chat, so a person who gave that email in chat is that lead); otherwise a person is
created. A company is found by its `externalCompanyId` (what leads link to), else by its domain; otherwise created.

Values go through the mapping (Marketo field to Overture field) and are checked by the Overture field's type as a
CSV import's are (`people/import_values.py`): a lead whose value does not fit (an invalid email, a text longer than
its field...) is skipped with the reason, never the batch. One exception: a phone number that Overture's check
refuses (such as Marketo's 555 test numbers) is kept as Marketo has it, since Marketo accepted it.

The conflict rule: a value captured in chat after Marketo's last change of the lead wins; otherwise Marketo's
does. When a field was captured is read from the activity log (`field.captured` activities), the one record of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from overture.activities.models import Activity
from overture.activities.service import ActivityType
from overture.integrations.marketo.sync_models import (
    REASON_LENGTH,
    REMOTE_ID_LENGTH,
    IntegrationRecord,
    MarketoSyncSkip,
)
from overture.people.companies import link_company
from overture.people.fields import FieldSchema, FieldSpec, FieldType
from overture.people.import_values import BadValue, parse_value
from overture.people.models import Company, Person
from overture.people.service import COMPANY_COLUMNS, PERSON_COLUMNS, set_field

INTEGRATION = "marketo"
LEAD = "lead"
COMPANY = "company"
COMPANY_KEY = "externalCompanyId"

Values = Mapping[str, str | None]  # a Marketo record: field API name to its text (None where empty)


@dataclass
class Counts:
    """What applying records did: created, updated, unchanged (Marketo's updatedAt as last applied), skipped."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # (remote id, reason) of the records skipped by this call.
    skips: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.skips += other.skips


def text_of(value: object) -> str | None:
    """A value of a REST answer (typed JSON) as a bulk file writes it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def remote_time(text: str | None) -> datetime | None:
    """Marketo's `2024-01-02T03:04:05Z` as an aware datetime; None when empty or not a datetime."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _max_length(spec: FieldSpec) -> int | None:
    """The length of the column a built-in field is stored in (custom fields: the general limit)."""
    model, columns = (Person, PERSON_COLUMNS) if spec.name.startswith("person.") else (Company, COMPANY_COLUMNS)
    column = columns.get(spec.name)
    return getattr(model.__table__.c[column].type, "length", None) if column else None


def parse_mapped(record: Values, mapping: Mapping[str, str], schema: FieldSchema) -> tuple[dict[str, Any], str | None]:
    """The Overture values of a record's mapped fields (empty ones left out), or the reason it cannot be applied."""
    values: dict[str, Any] = {}
    for remote, local in mapping.items():
        raw = record.get(remote)
        if raw is None or not raw.strip():
            continue
        spec = schema.get(local)
        if spec is None:
            return {}, f"{remote}: the Overture field {local} it is mapped to does not exist"
        try:
            values[local] = parse_value(spec, raw.strip(), max_length=_max_length(spec))
        except BadValue as exc:
            if spec.type is FieldType.phone and len(raw.strip()) <= (_max_length(spec) or 40):
                values[local] = raw.strip()  # Marketo accepted it: kept as written
                continue
            return {}, f"{remote}: {exc}"
    return values, None


def captured_at(session: Session, person_ids: Iterable[int]) -> dict[tuple[int, str], datetime]:
    """When each field of these people was last captured in chat: (person id, field) to the time."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    name = Activity.attributes["field"].as_string()
    rows = session.execute(
        select(Activity.person_id, name, func.max(Activity.occurred_at))
        .where(Activity.type == ActivityType.field_captured.value, Activity.person_id.in_(ids))
        .group_by(Activity.person_id, name)
    ).all()
    found: dict[tuple[int, str], datetime] = {}
    for person_id, field_name, when in rows:
        if person_id is not None and field_name and when is not None:
            # max() over a column loses the column's type on some engines: read it back as UTC.
            found[(person_id, field_name)] = _aware(when)
    return found


def _aware(when: datetime | str) -> datetime:
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def chat_wins(captured: datetime | None, marketo_changed: datetime | None) -> bool:
    """The conflict rule: True when the value captured in chat is newer than Marketo's last change."""
    return captured is not None and (marketo_changed is None or captured > marketo_changed)


def records_of(session: Session, kind: str, remote_ids: Sequence[str]) -> dict[str, IntegrationRecord]:
    if not remote_ids:
        return {}
    rows = session.scalars(
        select(IntegrationRecord).where(
            IntegrationRecord.integration == INTEGRATION,
            IntegrationRecord.kind == kind,
            IntegrationRecord.remote_id.in_(sorted(set(remote_ids))),
        )
    )
    return {row.remote_id: row for row in rows}


def record_skips(
    session: Session, kind: str, skips: Sequence[tuple[str, str]], applied: Sequence[str], now: datetime
) -> None:
    """Keeps the reason of each record skipped (replacing an older one) and forgets those applied since."""
    if applied:
        session.execute(
            delete(MarketoSyncSkip).where(MarketoSyncSkip.kind == kind, MarketoSyncSkip.remote_id.in_(applied))
        )
    if not skips:
        return
    reasons = dict(skips)
    known = set(
        session.scalars(
            select(MarketoSyncSkip.remote_id).where(
                MarketoSyncSkip.kind == kind, MarketoSyncSkip.remote_id.in_(sorted(reasons))
            )
        )
    )
    fresh = [
        {"kind": kind, "remote_id": remote, "reason": reason[:REASON_LENGTH], "skipped_at": now}
        for remote, reason in reasons.items()
        if remote not in known
    ]
    if fresh:
        session.execute(insert(MarketoSyncSkip), fresh)
    again = [{"k": kind, "r": remote, "reason": reasons[remote][:REASON_LENGTH], "at": now} for remote in known]
    if again:
        table = cast(Table, MarketoSyncSkip.__table__)
        session.execute(
            update(table)
            .where(table.c.kind == bindparam("k"), table.c.remote_id == bindparam("r"))
            .values(reason=bindparam("reason"), skipped_at=bindparam("at")),
            again,
        )


@dataclass
class Lead:
    """A lead whose values fit their fields: what applying it needs."""

    remote_id: str
    values: dict[str, Any]
    updated_at: datetime | None
    created_at: datetime | None
    company_remote_id: str | None


def checked_leads(
    records: Sequence[Values], mapping: Mapping[str, str], schema: FieldSchema, counts: Counts
) -> list[Lead]:
    """The records that can be applied, as leads; the others are counted in `counts` as skipped, with why."""
    leads: list[Lead] = []
    for record in records:
        remote_id = (record.get("id") or "").strip()
        if not remote_id.isdigit() or len(remote_id) > REMOTE_ID_LENGTH:
            counts.skipped += 1
            counts.skips.append((remote_id[:REMOTE_ID_LENGTH] or "?", f"id: {remote_id!r} is not a Marketo lead id"))
            continue
        values, problem = parse_mapped(record, mapping, schema)
        company_key = (record.get(COMPANY_KEY) or "").strip()[:REMOTE_ID_LENGTH] or None
        if problem is not None:
            counts.skipped += 1
            counts.skips.append((remote_id, problem))
            continue
        updated, created = remote_time(record.get("updatedAt")), remote_time(record.get("createdAt"))
        leads.append(Lead(remote_id, values, updated, created, company_key))
    return leads


def apply_leads_one_by_one(session: Session, leads: Sequence[Lead], counts: Counts, now: datetime) -> list[str]:
    """Applies checked leads through the ORM, a person at a time, in the caller's transaction, counting into
    `counts`; returns the remote ids applied or found unchanged. The path of a lead mapping that writes company
    fields (`set_field` makes a company for a person without one); `leads_bulk.py` applies the others."""
    links = records_of(session, LEAD, [lead.remote_id for lead in leads])
    companies = records_of(session, COMPANY, [lead.company_remote_id for lead in leads if lead.company_remote_id])
    people = {
        person.id: person
        for person in session.scalars(
            select(Person).where(Person.id.in_([link.person_id for link in links.values() if link.person_id]))
        )
    }
    emails = sorted({lead.values["person.email"] for lead in leads if "person.email" in lead.values})
    by_email = {person.email: person for person in session.scalars(select(Person).where(Person.email.in_(emails)))}
    people.update({person.id: person for person in by_email.values()})
    captured = captured_at(session, people)
    new_links: list[dict[str, Any]] = []
    applied: list[str] = []
    by_domain: list[Person] = []
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
        created = person is None
        if person is None:
            born = lead.created_at or now
            person = Person(fields={}, source={}, visit={}, created_at=born, last_seen_at=born, visit_count=0)
            session.add(person)
        for name, value in lead.values.items():
            if not created and person.id is not None and chat_wins(captured.get((person.id, name)), lead.updated_at):
                continue
            set_field(session, person, name, value, now)
        if email is not None:
            by_email[email] = person
            person.claimed_email = None if person.claimed_email == email else person.claimed_email
        company = companies.get(lead.company_remote_id) if lead.company_remote_id else None
        if company is not None and company.company_id is not None:
            person.company_id = company.company_id
        elif lead.company_remote_id is None and email is not None:
            by_domain.append(person)
        counts.created += created
        counts.updated += not created
        applied.append(lead.remote_id)
        if link is None:
            new_links.append({"lead": lead, "person": person})
        else:
            link.person_id = person.id if person.id is not None else link.person_id
            link.company_remote_id = lead.company_remote_id
            link.remote_updated_at = lead.updated_at
    session.flush()
    for person in by_domain:
        if person.company_id is None:
            link_company(session, person, now)
    if new_links:
        session.execute(
            insert(IntegrationRecord),
            [
                {
                    "integration": INTEGRATION,
                    "kind": LEAD,
                    "remote_id": item["lead"].remote_id,
                    "person_id": item["person"].id,
                    "company_id": None,
                    "company_remote_id": item["lead"].company_remote_id,
                    "remote_updated_at": item["lead"].updated_at,
                }
                for item in new_links
            ],
        )
    return applied
