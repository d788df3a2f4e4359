"""Marketo's lead changes applied to the people already synced (the incremental sync, `sync.py`).

Each change names the lead, when it happened and the fields it changed (their new values). A change is applied
field by field through the mapping, under the conflict rule (`leads_import.py`): a value captured in chat after the
change wins. A change older than what was last applied of the lead (its `updatedAt` in a bulk file, or a later
change) is left out, so changes read again or out of order never bring an old value back. A value that does not
fit its Overture field skips that change, with its reason kept like a skipped lead's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.integrations.marketo.leads_import import (
    COMPANY,
    COMPANY_KEY,
    LEAD,
    captured_at,
    chat_wins,
    parse_mapped,
    record_skips,
    records_of,
    text_of,
)
from overture.integrations.marketo.schemas import LeadChange
from overture.people.fields import FieldSchema
from overture.people.models import Person
from overture.people.service import set_field


def apply_changes(
    session: Session, items: Sequence[LeadChange], mapping: Mapping[str, str], schema: FieldSchema, now: datetime
) -> tuple[int, list[tuple[str, str]]]:
    """Applies the changes of leads already synced (others are left out) in the caller's transaction, oldest
    first. Returns the field changes applied and the (lead id, reason) of the changes skipped."""
    links = records_of(session, LEAD, sorted({str(item.lead_id) for item in items}))
    people = {
        person.id: person
        for person in session.scalars(
            select(Person).where(Person.id.in_([link.person_id for link in links.values() if link.person_id]))
        )
    }
    captured = captured_at(session, people)
    keys = {text_of(c.new_value) for item in items for c in item.fields if c.name == COMPANY_KEY}
    companies = records_of(session, COMPANY, sorted(key for key in keys if key))
    applied = 0
    skips: list[tuple[str, str]] = []
    done: list[str] = []
    for item in sorted(items, key=lambda change: (change.activity_date, change.marketo_guid)):
        link = links.get(str(item.lead_id))
        person = people.get(link.person_id) if link is not None and link.person_id is not None else None
        if link is None or person is None:
            continue
        if link.remote_updated_at is not None and item.activity_date < link.remote_updated_at:
            continue
        for change in item.fields:
            value = text_of(change.new_value)
            if change.name == COMPANY_KEY:
                link.company_remote_id = value
                company = companies.get(value) if value else None
                person.company_id = company.company_id if company is not None else person.company_id
                continue
            local = mapping.get(change.name)
            if local is None or chat_wins(captured.get((person.id, local)), item.activity_date):
                continue
            values, problem = parse_mapped({change.name: value}, {change.name: local}, schema)
            if problem is not None:
                skips.append((link.remote_id, problem))
                continue
            if local == "person.email" and values:
                owner = session.scalar(select(Person).where(Person.email == values[local], Person.id != person.id))
                if owner is not None:
                    skips.append((link.remote_id, f"email: {values[local]} belongs to another person (#{owner.id})"))
                    continue
            set_field(session, person, local, values.get(local), now)
            applied += 1
        link.remote_updated_at = item.activity_date
        done.append(link.remote_id)
    session.flush()
    skipped = {remote for remote, _ in skips}
    record_skips(session, LEAD, skips, [remote for remote in done if remote not in skipped], now)
    return applied, skips
