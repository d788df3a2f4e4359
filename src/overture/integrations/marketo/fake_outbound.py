"""The fake Marketo's endpoints that Overture writes through: custom activity types and custom activities, program
member status, static list membership.

Custom activity types start as `draft`; only an approved type takes activities, with the attributes it had when
approved (adding attributes to an approved type makes it `approved with draft` until approved again). At most 10
types (1027) and 20 attributes a type (1028). Added custom activities are skipped with `errors` (not `reasons`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from overture.integrations.marketo.fake_data import stamp
from overture.integrations.marketo.fake_endpoints import BATCH, Call, Endpoints, page, parse_datetime
from overture.integrations.marketo.fake_store import Refusal, reason

ATTRIBUTE_TYPES = ("string", "boolean", "integer", "float", "link", "email", "currency", "date", "datetime", "phone",
                   "text")  # fmt: skip
FIRST_CUSTOM_TYPE_ID = 100001


class Outbound:
    """Custom activities, programs and lists over the same store as `endpoints`."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.store = endpoints.store

    # -- custom activity types -----------------------------------------------------------------------------------

    def _type(self, api_name: str) -> dict[str, Any]:
        found = self.store.custom_types.get(api_name)
        if found is None:
            raise Refusal("1013", f"Activity type '{api_name}' not found")
        return found

    def custom_types(self, call: Call) -> dict[str, Any]:
        return {"result": [public_type(t) for t in self.store.custom_types.values()]}

    def describe_type(self, call: Call) -> dict[str, Any]:
        return {"result": [public_type(self._type(call.groups[0]))]}

    def create_type(self, call: Call) -> dict[str, Any]:
        body = call.body if isinstance(call.body, dict) else {}
        for name in ("apiName", "name", "triggerName", "filterName"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise Refusal("701", f"'{name}' cannot be blank")
        primary = body.get("primaryAttribute")
        if not isinstance(primary, dict) or not primary.get("apiName") or not primary.get("name"):
            raise Refusal("701", "'primaryAttribute' needs 'apiName' and 'name'")
        kind = primary.get("dataType", "string")
        if kind not in ATTRIBUTE_TYPES:
            raise Refusal("1003", f"Invalid dataType '{kind}' of primaryAttribute: one of {', '.join(ATTRIBUTE_TYPES)}")
        if body["apiName"] in self.store.custom_types:
            raise Refusal("709", f"Activity type '{body['apiName']}' already exists")
        if len(self.store.custom_types) >= self.endpoints.max_custom_types:
            raise Refusal("1027", f"Custom activity type limit ({self.endpoints.max_custom_types}) reached")
        now = stamp(call.now)
        created: dict[str, Any] = {
            "id": FIRST_CUSTOM_TYPE_ID + len(self.store.custom_types),
            "apiName": body["apiName"],
            "name": body["name"],
            "description": body.get("description", ""),
            "triggerName": body["triggerName"],
            "filterName": body["filterName"],
            "createdAt": now,
            "updatedAt": now,
            "status": "draft",
            "primaryAttribute": {
                "apiName": primary["apiName"],
                "name": primary["name"],
                "dataType": kind,
                "description": primary.get("description", ""),
            },  # fmt: skip
            "attributes": [],
            "_approved": None,
        }
        self.store.custom_types[body["apiName"]] = created
        return {"result": [public_type(created)]}

    def add_attributes(self, call: Call) -> dict[str, Any]:
        found = self._type(call.groups[0])
        attributes = call.body.get("attributes") if isinstance(call.body, dict) else None
        if not isinstance(attributes, list) or not attributes:
            raise Refusal("701", "'attributes' cannot be blank")
        taken = {a["apiName"] for a in found["attributes"]} | {found["primaryAttribute"]["apiName"]}
        for item in attributes:
            if not isinstance(item, dict) or not item.get("apiName") or not item.get("name"):
                raise Refusal("701", "every attribute needs 'apiName', 'name' and 'dataType'")
            if item.get("dataType") not in ATTRIBUTE_TYPES:
                raise Refusal("1003", f"Invalid dataType '{item.get('dataType')}' of attribute '{item['apiName']}'")
            if item["apiName"] in taken:
                raise Refusal("709", f"Attribute '{item['apiName']}' already exists")
        if len(found["attributes"]) + len(attributes) > self.endpoints.max_custom_attributes:
            raise Refusal("1028", f"Custom activity attribute limit ({self.endpoints.max_custom_attributes}) reached")
        found["attributes"] += [
            {"apiName": a["apiName"], "name": a["name"], "dataType": a["dataType"],
             "description": a.get("description", ""), "isPrimary": False} for a in attributes
        ]  # fmt: skip
        found["updatedAt"] = stamp(call.now)
        if found["status"] == "approved":
            found["status"] = "approved with draft"
        return {"result": [public_type(found)]}

    def approve_type(self, call: Call) -> dict[str, Any]:
        found = self._type(call.groups[0])
        if found["status"] == "approved":
            raise Refusal("709", f"Activity type '{call.groups[0]}' has no draft to approve")
        found["status"] = "approved"
        found["_approved"] = {key: value for key, value in found.items() if not key.startswith("_")}
        return {"result": [public_type(found)]}

    # -- custom activities ---------------------------------------------------------------------------------------

    def add_custom_activities(self, call: Call) -> dict[str, Any]:
        return {"result": [self._add_one(item, call.now) for item in call.input()]}

    def _add_one(self, item: dict[str, Any], now: datetime) -> dict[str, Any]:
        for name in ("leadId", "activityDate", "activityTypeId", "primaryAttributeValue", "attributes"):
            if name not in item:
                return {"status": "skipped", "errors": reason("1002", f"Missing value for required field '{name}'")}
        by_id = {t["id"]: t for t in self.store.custom_types.values()}
        found = by_id.get(item["activityTypeId"])
        if found is None:
            return {"status": "skipped", "errors": reason("1013", f"Activity type {item['activityTypeId']} not found")}
        approved = found["_approved"]
        if approved is None:
            return {"status": "skipped",
                    "errors": reason("1013", f"Activity type {item['activityTypeId']} is not approved")}  # fmt: skip
        if not isinstance(item["leadId"], int) or not self.store.lead_exists(item["leadId"]):
            return {"status": "skipped", "errors": reason("1004", "Lead not found")}
        try:
            when = parse_datetime(str(item["activityDate"]), "activityDate")
        except Refusal as refusal:
            return {"status": "skipped", "errors": reason("1003", refusal.message)}
        names = {a["apiName"]: a["name"] for a in approved["attributes"]}
        given = item["attributes"] if isinstance(item["attributes"], list) else []
        values: list[tuple[str, Any]] = []
        for attribute in given:
            api_name = attribute.get("apiName") if isinstance(attribute, dict) else None
            if api_name not in names:
                return {"status": "skipped", "errors": reason("1006", f"Field '{api_name}' not found")}
            values.append((names[api_name], attribute.get("value")))
        activity = self.store.add_activity(
            item["leadId"], found["id"], when, None, item["primaryAttributeValue"], values,
            extra={"_apiName": found["apiName"], "_attributes": {a["apiName"]: a.get("value") for a in given},
                   "_custom": True},
        )  # fmt: skip
        return {"id": activity["id"], "marketoGUID": activity["marketoGUID"], "status": "added"}

    # -- programs ------------------------------------------------------------------------------------------------

    def _program(self, call: Call) -> int:
        program_id = int(call.groups[0])
        if program_id not in self.store.programs:
            raise Refusal("1013", f"Program {program_id} not found")
        return program_id

    def member_status(self, call: Call) -> dict[str, Any]:
        """The upsert: non-members are added; a lower or the same status is skipped (1037)."""
        program_id = self._program(call)
        status = call.body.get("statusName") if isinstance(call.body, dict) else None
        if not status:
            raise Refusal("701", "'statusName' cannot be blank")
        result = []
        for seq, item in enumerate(call.input()):
            result.append({"seq": seq, **self._set_status(program_id, item.get("leadId"), status, call.now)})
        return {"result": result}

    def _set_status(self, program_id: int, lead_id: Any, status: str, now: datetime) -> dict[str, Any]:
        if status not in self.store.programs[program_id]:
            return {"status": "skipped", "reasons": reason("1025", f"Program status '{status}' not found")}
        if not isinstance(lead_id, int) or not self.store.lead_exists(lead_id):
            return {"status": "skipped", "reasons": reason("1004", "Lead not found")}
        outcome = self.store.set_program_status(program_id, lead_id, status, now)
        if outcome == "skipped":
            return {"status": "skipped", "reasons": reason("1037", "Lead already in or past this status")}
        return {"status": outcome, "leadId": lead_id}

    def legacy_status(self, call: Call) -> dict[str, Any]:
        """The older call: members only, `{"status": ..., "input": [{"id": ...}]}`."""
        program_id = self._program(call)
        status = call.body.get("status") if isinstance(call.body, dict) else None
        if not status:
            raise Refusal("701", "'status' cannot be blank")
        result = []
        for item in call.input():
            lead_id = item.get("id")
            if lead_id not in self.store.members.get(program_id, {}):
                result.append({"id": lead_id, "status": "skipped",
                               "reasons": reason("1013", "Lead is not a member of the program")})  # fmt: skip
                continue
            outcome = self._set_status(program_id, lead_id, status, call.now)
            result.append({"id": lead_id, **{k: v for k, v in outcome.items() if k != "leadId"}})
        return {"result": result}

    def program_members(self, call: Call) -> dict[str, Any]:
        program_id = self._program(call)
        members = sorted(self.store.members.get(program_id, {}).items())
        rows = [{"seq": 0, "leadId": lead, "reachedSuccess": status == self.store.programs[program_id][-1],
                 "membershipDate": None, "progressionStatus": status} for lead, status in members]  # fmt: skip
        return _paged(rows, call)

    # -- static lists --------------------------------------------------------------------------------------------

    def _list(self, call: Call) -> int:
        list_id = int(call.groups[0])
        if not self.store.list_exists(list_id):
            raise Refusal("1013", f"Static list {list_id} not found")
        return list_id

    def _list_ids(self, call: Call) -> list[Any]:
        if call.params.get("id"):
            texts = call.listed("id")
            if not all(t.isdigit() for t in texts):
                raise Refusal("1003", "'id' must be lead ids")
            ids: list[Any] = [int(t) for t in texts]
        else:
            ids = [item.get("id") for item in call.input()]
        if len(ids) > BATCH:
            raise Refusal("1003", f"{len(ids)} leads; at most {BATCH} per call")
        if not ids:
            raise Refusal("701", "'id' cannot be blank")
        return ids

    def add_to_list(self, call: Call) -> dict[str, Any]:
        list_id = self._list(call)
        result = []
        for lead_id in self._list_ids(call):
            if not isinstance(lead_id, int) or not self.store.lead_exists(lead_id):
                result.append({"id": lead_id, "status": "skipped", "reasons": reason("1004", "Lead not found")})
                continue
            self.store.add_to_list(list_id, lead_id, call.now)
            result.append({"id": lead_id, "status": "added"})
        return {"result": result}

    def remove_from_list(self, call: Call) -> dict[str, Any]:
        list_id = self._list(call)
        result = []
        for lead_id in self._list_ids(call):
            if not isinstance(lead_id, int) or not self.store.lead_exists(lead_id):
                result.append({"id": lead_id, "status": "skipped", "reasons": reason("1004", "Lead not found")})
            elif self.store.remove_from_list(list_id, lead_id, call.now):
                result.append({"id": lead_id, "status": "removed"})
            else:
                result.append({"id": lead_id, "status": "skipped", "reasons": reason("1015", "Lead not in list")})
        return {"result": result}

    def list_leads(self, call: Call) -> dict[str, Any]:
        list_id = self._list(call)
        fields = call.listed("fields") or ["id", "email", "firstName", "lastName", "createdAt", "updatedAt"]
        leads = [self.store.lead(i) for i in sorted(self.store.list_members.get(list_id, set()))]
        rows = [{f: lead.get(f) for f in fields} for lead in leads if lead is not None]
        return _paged(rows, call)


def _paged(rows: list[dict[str, Any]], call: Call) -> dict[str, Any]:
    return page(rows, call, lambda row: row)


def public_type(found: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in found.items() if not key.startswith("_")}
