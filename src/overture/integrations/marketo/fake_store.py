"""The fake Marketo's records: leads, companies, activities, custom activity types, program members, static lists.

A record read here is the generated one (fake_data.py) unless the API or a test created or changed it: only those
are kept, in dicts. Writes record the activities Marketo records (New Lead 12 and Change Data Value 13 for leads
written through the API, Add to List 24, Remove from List 25, Change Status in Progression 104), so the activity
and lead-change endpoints see them. No HTTP here: the endpoints (fake_endpoints.py) validate and shape answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from overture.integrations.marketo.fake_data import (
    COMPANY_FIELD_NAMES,
    COMPANY_OWNED_LEAD_FIELDS,
    LEAD_FIELD_IDS,
    LEAD_FIELD_LABELS,
    LEAD_FIELD_NAMES,
    Generated,
    stamp,
)

API_SOURCE = "Web service API"


class Refusal(Exception):
    """A whole call refused: HTTP 200, `success:false`, `errors:[{code, message}]`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def reason(code: str, message: str) -> list[dict[str, str]]:
    return [{"code": code, "message": message}]


@dataclass
class Store:
    """Every record of one fake. Callers hold the fake's lock."""

    generated: Generated
    programs: dict[int, list[str]]
    lists: dict[int, str] | None
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)  # created or changed leads, every field
    emails: dict[str, set[int]] = field(default_factory=dict)  # lower-cased email -> ids, of the leads above
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    external_ids: dict[str, int] = field(default_factory=dict)  # externalCompanyId -> id, of the companies above
    activities: list[dict[str, Any]] = field(default_factory=list)  # ids generated.activities + 1, + 2, ...
    custom_types: dict[str, dict[str, Any]] = field(default_factory=dict)  # apiName -> type (with _approved)
    members: dict[int, dict[int, str]] = field(default_factory=dict)  # program -> lead -> status
    list_members: dict[int, set[int]] = field(default_factory=dict)
    next_lead_id: int = 0
    next_company_id: int = 0
    _company_names: dict[str, list[int]] | None = None

    def __post_init__(self) -> None:
        self.next_lead_id = self.generated.leads + 1
        self.next_company_id = self.generated.companies + 1

    # -- leads ---------------------------------------------------------------------------------------------------

    def lead(self, lead_id: int) -> dict[str, Any] | None:
        """Every field of the lead as Marketo shows it (its linked company's fields win), or None."""
        stored = self.leads.get(lead_id)
        if stored is None:
            return self.generated.lead(lead_id)
        record = dict(stored)
        company = self.company_by_external(record["externalCompanyId"]) if record.get("externalCompanyId") else None
        if company is not None:
            for lead_field, company_field in COMPANY_OWNED_LEAD_FIELDS.items():
                record[lead_field] = company[company_field]
        return record

    def lead_ids_by_email(self, email: str) -> list[int]:
        key = email.lower()
        found = set(self.emails.get(key, ()))
        generated = self.generated.lead_id_of_email(key)
        if generated is not None and generated not in self.leads:
            found.add(generated)
        return sorted(found)

    def lead_exists(self, lead_id: int) -> bool:
        return lead_id in self.leads or 1 <= lead_id <= self.generated.leads

    def lead_ids(self) -> Iterator[int]:
        """Every lead id, generated ones first."""
        yield from range(1, self.generated.leads + 1)
        yield from sorted(i for i in self.leads if i > self.generated.leads)

    def create_lead(self, values: dict[str, Any], now: datetime, record_activity: bool) -> int:
        lead_id = self.next_lead_id
        self.next_lead_id += 1
        record: dict[str, Any] = dict.fromkeys(LEAD_FIELD_NAMES)
        record.update(values, id=lead_id, leadPartitionId=values.get("leadPartitionId", 1))
        record["createdAt"] = _as_stamp(record["createdAt"]) or stamp(now)
        record["updatedAt"] = _as_stamp(values.get("updatedAt")) or record["createdAt"]
        self._keep_lead(record)
        if record_activity:
            self.add_activity(lead_id, 12, now, None, None,
                              [("Created Date", now.date().isoformat()), ("Form Name", None),
                               ("Lead Source", record.get("leadSource")), ("Source Type", API_SOURCE)])  # fmt: skip
        return lead_id

    def update_lead(self, lead_id: int, values: dict[str, Any], now: datetime, source: str = API_SOURCE) -> None:
        """Changes the fields given and records one Change Data Value (13) per field whose value changed."""
        current = self.leads.get(lead_id) or self.generated.lead(lead_id)
        if current is None:
            raise KeyError(lead_id)
        record = dict(current)
        for name, value in values.items():
            if record.get(name) == value:
                continue
            self.add_activity(lead_id, 13, now, LEAD_FIELD_IDS[name], LEAD_FIELD_LABELS[name],
                              [("New Value", value), ("Old Value", record.get(name)), ("Reason", source),
                               ("Source", source)],
                              fields=[{"id": LEAD_FIELD_IDS[name], "name": name, "newValue": value,
                                       "oldValue": record.get(name)}])  # fmt: skip
            record[name] = value
        record["updatedAt"] = stamp(now)
        self._keep_lead(record)

    def _keep_lead(self, record: dict[str, Any]) -> None:
        before = self.leads.get(record["id"])
        if before is not None and before.get("email"):
            self.emails.get(before["email"].lower(), set()).discard(record["id"])
        self.leads[record["id"]] = record
        if record.get("email"):
            self.emails.setdefault(record["email"].lower(), set()).add(record["id"])

    def leads_created_between(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Leads created in [start, end): generated ones by id range (createdAt grows with the id), then others."""
        low, high = self.generated.first_lead_from(start), self.generated.first_lead_from(end)
        for lead_id in range(low, high):
            record = self.lead(lead_id)
            if record is not None:
                yield record
        begin, finish = stamp(start), stamp(end)
        for lead_id in sorted(self.leads):
            if (lead_id < low or lead_id >= high) and begin <= self.leads[lead_id]["createdAt"] < finish:
                record = self.lead(lead_id)
                if record is not None:
                    yield record

    def leads_updated_between(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Generated leads change within 60 days of their creation, so only those created since start - 60 days
        are read; changed leads are read from the dict."""
        begin, finish = stamp(start), stamp(end)
        low, high = self.generated.first_lead_from(start - timedelta(days=61)), self.generated.first_lead_from(end)
        for lead_id in range(low, high):
            if lead_id not in self.leads:
                record = self.generated.lead(lead_id)
                if record is not None and begin <= record["updatedAt"] < finish:
                    yield record
        for lead_id in sorted(self.leads):
            if begin <= self.leads[lead_id]["updatedAt"] < finish:
                record = self.lead(lead_id)
                if record is not None:
                    yield record

    # -- companies -----------------------------------------------------------------------------------------------

    def company(self, company_id: int) -> dict[str, Any] | None:
        return self.companies.get(company_id) or self.generated.company(company_id)

    def company_by_external(self, external_id: str) -> dict[str, Any] | None:
        if external_id in self.external_ids:
            return self.companies[self.external_ids[external_id]]
        generated = self.generated.company_id_of_external(external_id)
        return self.company(generated) if generated is not None else None

    def company_ids_by_name(self, name: str) -> list[int]:
        """Built once on the first lookup by name (a dict of every generated name), then kept current."""
        if self._company_names is None:
            self._company_names = {}
            for company_id in range(1, self.generated.companies + 1):
                record = self.company(company_id)
                if record is not None:
                    self._company_names.setdefault(record["company"], []).append(company_id)
        return sorted(self._company_names.get(name, []))

    def save_company(self, values: dict[str, Any], now: datetime, company_id: int | None) -> int:
        """Creates a company (company_id None) or changes one; returns its id."""
        if company_id is None:
            company_id = self.next_company_id
            self.next_company_id += 1
            record: dict[str, Any] = dict.fromkeys(COMPANY_FIELD_NAMES)
            record.update(createdAt=stamp(now))
        else:
            record = dict(self.company(company_id) or {})
        if self._company_names is not None and record.get("company"):
            self._company_names.get(record["company"], []).remove(company_id)
        record.update(values, id=company_id, updatedAt=stamp(now))
        self.companies[company_id] = record
        if record.get("externalCompanyId"):
            self.external_ids[record["externalCompanyId"]] = company_id
        if self._company_names is not None and record.get("company"):
            self._company_names.setdefault(record["company"], []).append(company_id)
        return company_id

    # -- activities ----------------------------------------------------------------------------------------------

    @property
    def last_activity_id(self) -> int:
        return self.generated.activities + len(self.activities)

    def add_activity(
        self,
        lead_id: int,
        type_id: int,
        at: datetime,
        value_id: int | None,
        value: Any,
        attributes: list[tuple[str, Any]],
        fields: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        activity_id = self.last_activity_id + 1
        activity: dict[str, Any] = {
            "id": activity_id,
            "marketoGUID": str(activity_id),
            "leadId": lead_id,
            "activityDate": stamp(at),
            "activityTypeId": type_id,
            "primaryAttributeValueId": value_id,
            "primaryAttributeValue": value,
            "attributes": [{"name": name, "value": v} for name, v in attributes],
        }
        if value_id is None:
            del activity["primaryAttributeValueId"]
        if fields is not None:
            activity["_fields"] = fields
        activity.update(extra or {})
        self.activities.append(activity)
        return activity

    def activity(self, activity_id: int) -> dict[str, Any] | None:
        if activity_id <= self.generated.activities:
            return self.generated.activity(activity_id)
        index = activity_id - self.generated.activities - 1
        return self.activities[index] if 0 <= index < len(self.activities) else None

    def activity_type_of(self, activity_id: int) -> int | None:
        """Cheaper than activity() for generated ids: the type alone (used to skip most ids of a scan)."""
        if activity_id <= self.generated.activities:
            return self.generated.activity_type(activity_id)
        found = self.activity(activity_id)
        return found["activityTypeId"] if found is not None else None

    # -- programs and lists --------------------------------------------------------------------------------------

    def set_program_status(self, program_id: int, lead_id: int, status: str, now: datetime) -> str:
        """'created', 'updated' or 'skipped' (already in or past that status); records activity 104."""
        statuses = self.programs[program_id]
        members = self.members.setdefault(program_id, {})
        old = members.get(lead_id)
        if old is not None and statuses.index(status) <= statuses.index(old):
            return "skipped"
        members[lead_id] = status
        self.add_activity(lead_id, 104, now, program_id, f"Program {program_id}",
                          [("Acquired By", old is None), ("New Status", status),
                           ("New Status ID", statuses.index(status) + 1), ("Old Status", old or "Not in Program"),
                           ("Old Status ID", statuses.index(old) + 1 if old else 1), ("Reason", "Changed by API"),
                           ("Success", status == statuses[-1])])  # fmt: skip
        return "created" if old is None else "updated"

    def list_exists(self, list_id: int) -> bool:
        return list_id > 0 if self.lists is None else list_id in self.lists

    def list_name(self, list_id: int) -> str:
        return f"List {list_id}" if self.lists is None else self.lists[list_id]

    def add_to_list(self, list_id: int, lead_id: int, now: datetime) -> None:
        members = self.list_members.setdefault(list_id, set())
        if lead_id not in members:
            members.add(lead_id)
            self.add_activity(lead_id, 24, now, list_id, self.list_name(list_id), [("Source", API_SOURCE)])

    def remove_from_list(self, list_id: int, lead_id: int, now: datetime) -> bool:
        members = self.list_members.setdefault(list_id, set())
        if lead_id not in members:
            return False
        members.discard(lead_id)
        self.add_activity(lead_id, 25, now, list_id, self.list_name(list_id), [("Source", API_SOURCE)])
        return True


def _as_stamp(value: Any) -> str | None:
    if isinstance(value, datetime):
        return stamp(value)
    return str(value) if value else None
