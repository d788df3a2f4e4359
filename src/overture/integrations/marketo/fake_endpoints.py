"""The fake Marketo's REST endpoints: each validates its parameters as Marketo does and answers the envelope's
contents (`result`, `nextPageToken`, `moreResult`), or raises Refusal for a whole-call error. Record-level problems
are `status:"skipped"` items with `reasons` (with `errors` for custom activities, as Marketo does).

Paging tokens are opaque base32 (they may end in `=`). Activity pages scan a fixed window of activity ids
(`Endpoints.activity_window`, 1,000) and return what in it matches, so a page may be short or have no `result` at
all while `moreResult` is true; every activity page carries a `nextPageToken`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from overture.integrations.marketo.fake_data import (
    ACTIVITY_TYPES,
    COMPANY_FIELD_NAMES,
    COMPANY_FIELD_TYPES,
    COMPANY_FIELDS,
    COMPANY_SEARCHABLE,
    DEFAULT_COMPANY_FIELDS,
    DEFAULT_LEAD_FIELDS,
    LEAD_FIELD_NAMES,
    LEAD_FIELD_TYPES,
    LEAD_FIELDS,
    LEAD_SEARCHABLE,
    PRODUCTS,
    UPDATEABLE_LEAD_FIELDS,
    stamp,
)
from overture.integrations.marketo.fake_store import Refusal, Store, reason

BATCH = 300
MAX_MATCHES = 1000
MAX_TYPE_IDS = 10
MAX_LEAD_IDS = 30
LEAD_ACTIONS = ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate")
COMPANY_ACTIONS = ("createOrUpdate", "createOnly", "updateOnly")


@dataclass
class Call:
    """One API call as the endpoints see it: parameters (query, and the form of a `_method=GET` POST), JSON body."""

    params: dict[str, list[str]]
    body: Any
    groups: tuple[str, ...]
    now: datetime

    def get(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise Refusal("701", f"'{name}' cannot be blank")
        return value

    def listed(self, name: str) -> list[str]:
        """A comma-separated parameter (or a repeated one) as a list."""
        return [item.strip() for value in self.params.get(name, []) for item in value.split(",") if item.strip()]

    def batch_size(self) -> int:
        text = self.get("batchSize") or str(BATCH)
        if not text.isdigit() or not 1 <= int(text) <= BATCH:
            raise Refusal("1003", f"Invalid batchSize '{text}': 1 to {BATCH}")
        return int(text)

    def input(self, limit: int = BATCH) -> list[dict[str, Any]]:
        items = self.body.get("input") if isinstance(self.body, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise Refusal("1003", "'input' must be a list of objects")
        if len(items) > limit:
            raise Refusal("1003", f"'input' holds {len(items)} records; at most {limit} per call")
        return items


def encode_token(*parts: object) -> str:
    return base64.b32encode(".".join(str(p) for p in parts).encode()).decode()


def decode_token(token: str, count: int) -> list[int]:
    try:
        parts = [int(p) for p in base64.b32decode(token.encode()).decode().split(".")]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Refusal("1003", f"Invalid nextPageToken '{token}'") from None
    if len(parts) != count:
        raise Refusal("1003", f"Invalid nextPageToken '{token}'")
    return parts


def parse_datetime(text: str, name: str) -> datetime:
    """ISO 8601 with an offset or Z (a time without one is read as UTC). Raises Refusal 704."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError:
        raise Refusal("704", f"Invalid date '{text}' for '{name}': ISO 8601, e.g. 2024-01-31T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fields(call: Call, known: tuple[str, ...], default: tuple[str, ...]) -> list[str]:
    fields = call.listed("fields") or list(default)
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise Refusal("1006", f"Field '{unknown[0]}' not found")
    return fields if "id" in fields else ["id", *fields]


Shape = Callable[[dict[str, Any]], dict[str, Any]]


def page(matches: list[dict[str, Any]], call: Call, shape: Shape) -> dict[str, Any]:
    size = call.batch_size()
    token = call.get("nextPageToken")
    offset = decode_token(token, 1)[0] if token else 0
    out: dict[str, Any] = {"result": [shape(m) for m in matches[offset : offset + size]]}
    if offset + size < len(matches):
        out["nextPageToken"] = encode_token(offset + size)
    return out


def _check_value(name: str, value: Any, types: dict[str, str]) -> bool:
    kind = types[name]
    if value is None:
        return True
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("currency", "float"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "email":
        return isinstance(value, str) and "@" in value
    return isinstance(value, str)


class Endpoints:
    """The REST endpoints over one Store; the fake holds its lock around every call."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.activity_window = 1000
        self.max_custom_types = 10
        self.max_custom_attributes = 20

    # -- leads ---------------------------------------------------------------------------------------------------

    def describe_leads(self, call: Call) -> dict[str, Any]:
        return {"result": [{"id": fid, "displayName": label, "dataType": kind,
                            **({"length": length} if length else {}),
                            "rest": {"name": name, "readOnly": not updateable},
                            "soap": {"name": name[0].upper() + name[1:], "readOnly": not updateable}}
                           for name, label, kind, length, updateable, fid in LEAD_FIELDS]}  # fmt: skip

    def describe_leads2(self, call: Call) -> dict[str, Any]:
        fields = [{"name": name, "displayName": label, "dataType": kind, **({"length": length} if length else {}),
                   "updateable": updateable, "crmManaged": False}
                  for name, label, kind, length, updateable, _ in LEAD_FIELDS]  # fmt: skip
        return {"result": [{"name": "API Lead", "searchableFields": [[f] for f in LEAD_SEARCHABLE], "fields": fields}]}

    def get_leads(self, call: Call) -> dict[str, Any]:
        filter_type, values = _filter(call, LEAD_SEARCHABLE, LEAD_FIELD_NAMES)
        fields = _fields(call, LEAD_FIELD_NAMES, DEFAULT_LEAD_FIELDS)
        ids = self._match_leads(filter_type, values)
        if len(ids) > MAX_MATCHES:
            raise Refusal("1003", "Too many results match the filter")
        leads = [lead for lead in (self.store.lead(i) for i in ids) if lead is not None]
        return page(leads, call, lambda lead: {f: lead.get(f) for f in fields})

    def _match_leads(self, filter_type: str, values: list[str]) -> list[int]:
        store = self.store
        found: set[int] = set()
        if filter_type == "id":
            found = {int(v) for v in values if v.isdigit() and store.lead_exists(int(v))}
        elif filter_type == "email":
            for value in values:
                found.update(store.lead_ids_by_email(value))
        else:
            wanted = set(values)
            found = {i for i, lead in store.leads.items() if str(store.lead(i).get(filter_type)) in wanted}  # type: ignore[union-attr]
            generated_values = {"leadPartitionId": {"1"}, "productInterest": {p for p in PRODUCTS if p}}
            if wanted & generated_values.get(filter_type, set()):
                for lead_id in range(1, store.generated.leads + 1):  # stops once the answer is too many
                    if lead_id not in store.leads:
                        lead = store.generated.lead(lead_id)
                        if lead is not None and str(lead[filter_type]) in wanted:
                            found.add(lead_id)
                            if len(found) > MAX_MATCHES:
                                break
        return sorted(found)

    def get_lead(self, call: Call) -> dict[str, Any]:
        fields = _fields(call, LEAD_FIELD_NAMES, DEFAULT_LEAD_FIELDS)
        lead = self.store.lead(int(call.groups[0]))
        return {"result": [] if lead is None else [{f: lead.get(f) for f in fields}]}

    def sync_leads(self, call: Call) -> dict[str, Any]:
        body = call.body if isinstance(call.body, dict) else {}
        action = body.get("action", "createOrUpdate")
        if action not in LEAD_ACTIONS:
            raise Refusal("1003", f"Invalid action '{action}': one of {', '.join(LEAD_ACTIONS)}")
        lookup = body.get("lookupField", "email")
        if lookup == "id" and action != "updateOnly":
            raise Refusal("1003", "lookupField 'id' is allowed only with action 'updateOnly'")
        if lookup not in LEAD_SEARCHABLE:
            raise Refusal("1003", f"Invalid lookupField '{lookup}'")
        return {"result": [self._sync_lead(item, action, lookup, call.now) for item in call.input()]}

    def _sync_lead(self, item: dict[str, Any], action: str, lookup: str, now: datetime) -> dict[str, Any]:
        unknown = [name for name in item if name not in LEAD_FIELD_NAMES]
        if unknown:
            return {"status": "skipped", "reasons": reason("1006", f"Field '{unknown[0]}' not found")}
        fixed = [name for name in item if name not in UPDATEABLE_LEAD_FIELDS and name != lookup]
        if fixed:
            return {"status": "skipped", "reasons": reason("1003", f"Field '{fixed[0]}' is not updateable")}
        wrong = [name for name, value in item.items() if not _check_value(name, value, LEAD_FIELD_TYPES)]
        if wrong:
            return {"status": "skipped", "reasons": reason("1001", f"Invalid value type for field '{wrong[0]}'")}
        key = item.get(lookup)
        if key is None or key == "":
            return {"status": "skipped", "reasons": reason("1002", f"Missing value for lookup field '{lookup}'")}
        values = {name: value for name, value in item.items() if name != "id"}
        matches = [] if action == "createDuplicate" else self._match_leads(lookup, [str(key)])
        if len(matches) > 1:
            return {"status": "skipped", "reasons": reason("1007", "Multiple lead match lookup criteria")}
        if matches:
            if action == "createOnly":
                return {"status": "skipped", "reasons": reason("1005", "Lead already exists")}
            self.store.update_lead(matches[0], values, now)
            return {"id": matches[0], "status": "updated"}
        if action == "updateOnly":
            return {"status": "skipped", "reasons": reason("1004", "Lead not found")}
        return {"id": self.store.create_lead(values, now, record_activity=True), "status": "created"}

    # -- companies -----------------------------------------------------------------------------------------------

    def describe_companies(self, call: Call) -> dict[str, Any]:
        fields = [{"name": name, "displayName": label, "dataType": kind, **({"length": length} if length else {}),
                   "updateable": updateable} for name, label, kind, length, updateable in COMPANY_FIELDS]  # fmt: skip
        return {"result": [{"name": "Company", "description": "Company object", "idField": "id",
                            "dedupeFields": ["externalCompanyId"],
                            "searchableFields": [[f] for f in COMPANY_SEARCHABLE], "fields": fields}]}  # fmt: skip

    def get_companies(self, call: Call) -> dict[str, Any]:
        filter_type, values = _filter(call, COMPANY_SEARCHABLE, COMPANY_FIELD_NAMES)
        fields = _fields(call, COMPANY_FIELD_NAMES, DEFAULT_COMPANY_FIELDS)
        matches: list[dict[str, Any]] = []
        for seq, value in enumerate(values):
            for company_id in self._match_companies(filter_type, value):
                company = self.store.company(company_id)
                if company is not None:
                    matches.append({"seq": seq, **{f: company.get(f) for f in fields}})
        return page(matches, call, lambda company: company)

    def _match_companies(self, filter_type: str, value: str) -> list[int]:
        if filter_type == "id":
            return [int(value)] if value.isdigit() and self.store.company(int(value)) else []
        if filter_type == "company":
            return self.store.company_ids_by_name(value)
        found = self.store.company_by_external(value)
        return [found["id"]] if found else []

    def sync_companies(self, call: Call) -> dict[str, Any]:
        body = call.body if isinstance(call.body, dict) else {}
        action = body.get("action", "createOrUpdate")
        if action not in COMPANY_ACTIONS:
            raise Refusal("1003", f"Invalid action '{action}': one of {', '.join(COMPANY_ACTIONS)}")
        dedupe = body.get("dedupeBy", "dedupeFields")
        if dedupe not in ("dedupeFields", "idField"):
            raise Refusal("1003", f"Invalid dedupeBy '{dedupe}': dedupeFields or idField")
        key = "externalCompanyId" if dedupe == "dedupeFields" else "id"
        seen: set[Any] = set()
        result = []
        for seq, item in enumerate(call.input()):
            result.append({"seq": seq, **self._sync_company(item, action, key, seen, call.now)})
        return {"result": result}

    def _sync_company(
        self, item: dict[str, Any], action: str, key: str, seen: set[Any], now: datetime
    ) -> dict[str, Any]:
        unknown = [name for name in item if name not in COMPANY_FIELD_NAMES]
        if unknown:
            return {"status": "skipped", "reasons": reason("1006", f"Field '{unknown[0]}' not found")}
        wrong = [name for name, value in item.items() if not _check_value(name, value, COMPANY_FIELD_TYPES)]
        if wrong:
            return {"status": "skipped", "reasons": reason("1001", f"Invalid value type for field '{wrong[0]}'")}
        value = item.get(key)
        if value is None or value == "":
            return {"status": "skipped", "reasons": reason("1002", f"Missing value for required field '{key}'")}
        if value in seen:
            return {"status": "skipped", "reasons": reason("1036", f"Duplicate {key} '{value}' in input")}
        seen.add(value)
        found = self.store.company(value) if key == "id" else self.store.company_by_external(value)
        values = {name: v for name, v in item.items() if name not in ("id", "createdAt", "updatedAt")}
        if found is None:
            if action == "updateOnly" or key == "id":
                return {"status": "skipped", "reasons": reason("1013", "Company not found")}
            return {"id": self.store.save_company(values, now, None), "status": "created"}
        if action == "createOnly":
            return {"status": "skipped", "reasons": reason("1005", "Company already exists")}
        return {"id": self.store.save_company(values, now, found["id"]), "status": "updated"}

    # -- activities ----------------------------------------------------------------------------------------------

    def activity_types(self, call: Call) -> dict[str, Any]:
        result: list[dict[str, Any]] = []
        for type_id, (name, primary, attributes) in sorted(ACTIVITY_TYPES.items()):
            item: dict[str, Any] = {"id": type_id, "name": name}
            if primary:
                item["primaryAttribute"] = {"name": primary[0], "dataType": primary[1]}
            item["attributes"] = [{"name": n, "dataType": t} for n, t in attributes]
            result.append(item)
        for custom in self.store.custom_types.values():
            approved = custom.get("_approved")
            if approved is not None:
                result.append({"id": custom["id"], "name": approved["name"],
                               "primaryAttribute": {"name": approved["primaryAttribute"]["name"],
                                                    "dataType": approved["primaryAttribute"]["dataType"]},
                               "attributes": [{"name": a["name"], "dataType": a["dataType"]}
                                              for a in approved["attributes"]]})  # fmt: skip
        return {"result": result}

    def paging_token(self, call: Call) -> dict[str, Any]:
        since = parse_datetime(call.required("sinceDatetime"), "sinceDatetime")
        position = self.store.generated.first_activity_from(since)
        return {"nextPageToken": encode_token(position, int(since.timestamp()))}

    def activities(self, call: Call) -> dict[str, Any]:
        type_ids = self._ids(call, "activityTypeIds", MAX_TYPE_IDS, required=True)
        return self._scan(call, lambda activity_id, type_id: type_id in type_ids, changes=None)

    def lead_changes(self, call: Call) -> dict[str, Any]:
        fields = call.listed("fields")
        if not fields:
            raise Refusal("701", "'fields' cannot be blank")
        unknown = [f for f in fields if f not in LEAD_FIELD_NAMES]
        if unknown:
            raise Refusal("1006", f"Field '{unknown[0]}' not found")
        return self._scan(call, lambda activity_id, type_id: type_id in (12, 13), changes=set(fields))

    def _ids(self, call: Call, name: str, limit: int, required: bool) -> set[int]:
        texts = call.listed(name)
        if required and not texts:
            raise Refusal("701", f"'{name}' cannot be blank")
        if not all(t.isdigit() for t in texts):
            raise Refusal("1003", f"'{name}' must be a list of numbers")
        if len(texts) > limit:
            raise Refusal("1003", f"'{name}' holds {len(texts)} ids; at most {limit}")
        return {int(t) for t in texts}

    def _scan(self, call: Call, wanted: Callable[[int, int], bool], changes: set[str] | None) -> dict[str, Any]:
        """One page: the matching activities among the next `activity_window` ids (at most batchSize of them)."""
        position, since = decode_token(call.required("nextPageToken"), 2)
        since_stamp = stamp(datetime.fromtimestamp(since, UTC))
        lead_ids = self._ids(call, "leadIds", MAX_LEAD_IDS, required=False)
        list_id = call.get("listId")
        members = self.store.list_members.get(int(list_id), set()) if list_id and list_id.isdigit() else None
        size = call.batch_size()
        last = self.store.last_activity_id
        found: list[dict[str, Any]] = []
        current = position
        end = min(position + self.activity_window, last + 1)
        while current < end and len(found) < size:
            type_id = self.store.activity_type_of(current)
            if type_id is not None and wanted(current, type_id):
                activity = self.store.activity(current)
                if activity is not None and self._keeps(activity, since_stamp, lead_ids, members, changes):
                    found.append(_public(activity, changes is not None))
            current += 1
        out: dict[str, Any] = {"nextPageToken": encode_token(current, since), "moreResult": current <= last}
        if found:
            out["result"] = found
        return out

    def _keeps(
        self,
        activity: dict[str, Any],
        since: str,
        lead_ids: set[int],
        members: set[int] | None,
        changes: set[str] | None,
    ) -> bool:
        if activity["activityDate"] < since:
            return False
        if lead_ids and activity["leadId"] not in lead_ids:
            return False
        if members is not None and activity["leadId"] not in members:
            return False
        if changes is not None and activity["activityTypeId"] == 13:
            return any(f["name"] in changes for f in activity.get("_fields", []))
        return True


def _public(activity: dict[str, Any], as_change: bool) -> dict[str, Any]:
    out = {key: value for key, value in activity.items() if not key.startswith("_")}
    if as_change:
        out.pop("primaryAttributeValueId", None)
        out.pop("primaryAttributeValue", None)
        out["fields"] = activity.get("_fields", [])
        out["attributes"] = [a for a in out["attributes"] if a["name"] in ("Source", "Reason", "Source Type")]
    return out


def _filter(call: Call, searchable: Sequence[str], names: Collection[str]) -> tuple[str, list[str]]:
    """The filter of a GET leads or companies: its type (1011 for a field that cannot filter, 1006 for no such
    field) and its values (701 when none, 1003 past the batch)."""
    filter_type = call.required("filterType")
    if filter_type not in searchable:
        if filter_type in names:
            raise Refusal("1011", f"Field '{filter_type}' not supported for filterType")
        raise Refusal("1006", f"Field '{filter_type}' not found")
    values = call.listed("filterValues")
    if not values:
        raise Refusal("701", "'filterValues' cannot be blank")
    if len(values) > BATCH:
        raise Refusal("1003", f"'filterValues' holds {len(values)} values; at most {BATCH}")
    return filter_type, values
