"""The Marketo client: one method per call Overture makes (reference: marketo.md, "Endpoints").

`MarketoClient` is a `bulk.LeadExports` (the bulk lead export) over a `transport.Transport` (token, limits,
retries, envelope, errors): this module adds the REST calls, `rest_base_url` to find an instance's base URL from
its Munchkin id, and `check_connection` for the Integrations page's "test connection".

Batches: reads take at most 300 filter values a call and writes at most 300 records a call (and under 1 MB of
JSON); the methods split longer inputs themselves and return one result per input, in input order. Paged reads
are iterators that ask for the next page only when the caller gets there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from overture.errors import InvalidInput, Problem
from overture.integrations.marketo.bulk import LeadExports
from overture.integrations.marketo.errors import MalformedAnswer, MarketoFailure
from overture.integrations.marketo.schemas import (
    Activity,
    ActivityPage,
    ActivityType,
    ActivityWriteResult,
    AttributeSpec,
    CompanyDescription,
    CustomActivity,
    CustomActivityTypeAnswer,
    CustomActivityTypeSpec,
    Envelope,
    LeadChange,
    LeadChangePage,
    LeadDescription,
    Record,
    RecordResult,
    Scalar,
)
from overture.integrations.marketo.transport import Call, first_problem, marketo_time

BATCH = 300  # records a write takes, filter values a read takes, items a page holds
MAX_BODY = 1_000_000  # bytes of JSON a call may send (413 above 1 MB)
MAX_ACTIVITY_TYPES = 10  # activityTypeIds a call takes
MAX_LEAD_IDS = 30  # leadIds an activities call takes
PAGING_DEADLINE = 310.0  # seconds: Marketo may take 300 s to find a paging token
ADD_ACTIVITIES_DEADLINE = 100.0  # seconds: Marketo may take 90 s to add custom activities
MUNCHKIN_ID = re.compile(r"^[0-9]{3}-[A-Z]{3}-[0-9]{3}$")
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")

_RECORDS: TypeAdapter[list[Record]] = TypeAdapter(list[Record])


def rest_base_url(munchkin_id: str) -> str:
    """The REST base URL of an instance: "123-ABC-456" gives "https://123-ABC-456.mktorest.com" (letters may be
    typed in lower case). Raises `InvalidInput` when the id is not three digits, three letters, three digits."""
    cleaned = munchkin_id.strip().upper()
    if not MUNCHKIN_ID.match(cleaned):
        message = (
            f"{munchkin_id!r} is not a Munchkin id: it is three digits, three letters and three digits joined by "
            "dashes, like 123-ABC-456 (Marketo's Admin > Munchkin shows it)."
        )
        raise InvalidInput(message, [Problem("munchkin_id", message)])
    return f"https://{cleaned}.mktorest.com"


def _batches(items: Sequence[Any], size: int = BATCH, max_body: int = MAX_BODY) -> Iterator[list[Any]]:
    """`items` in order, cut in lists of at most `size` whose JSON stays under `max_body` bytes."""
    batch: list[Any] = []
    weight = 0
    for item in items:
        item_weight = len(json.dumps(item, separators=(",", ":"))) + 1
        if batch and (len(batch) == size or weight + item_weight > max_body - 200):
            yield batch
            batch, weight = [], 0
        batch.append(item)
        weight += item_weight
    if batch:
        yield batch


class MarketoClient(LeadExports):
    """A client of one Marketo instance: `MarketoClient(base_url, client_id, client_secret, *, http, clock, sleep,
    limits)` as `Transport` says; one method per endpoint, each raising the `MarketoFailure`s of `errors.py`, and
    `ValueError` for arguments Marketo would refuse (too many ids, a naive datetime, a bad API name)."""

    # -- describe -----------------------------------------------------------------------------------------------

    def describe_leads(self) -> LeadDescription:
        """Every lead field (`describe2`) and the searchable ones."""
        call = Call("GET", "/rest/v1/leads/describe2.json", "read the lead fields")
        return self._one(call, LeadDescription, self._result(call))

    def describe_companies(self) -> CompanyDescription:
        """Every company field, the id field and the dedupe fields."""
        call = Call("GET", "/rest/v1/companies/describe.json", "read the company fields")
        return self._one(call, CompanyDescription, self._result(call))

    # -- leads and companies ------------------------------------------------------------------------------------

    def get_leads(
        self, filter_type: str, values: Sequence[str | int], fields: Sequence[str] | None = None
    ) -> Iterator[Record]:
        """The leads whose `filter_type` field (a searchable field: "email", "id"...) is one of `values`, with
        `fields` (Marketo's defaults when None), page after page; at most 300 values are sent a call. Raises
        `ValueError` for a value containing a comma (Marketo splits values on commas)."""
        return self._records(Call("GET", "/rest/v1/leads.json", "read leads"), filter_type, values, fields)

    def get_companies(
        self, filter_type: str, values: Sequence[str | int], fields: Sequence[str] | None = None
    ) -> Iterator[Record]:
        """The companies whose `filter_type` field ("externalCompanyId", "id", "company") is one of `values`;
        as `get_leads`."""
        return self._records(Call("GET", "/rest/v1/companies.json", "read companies"), filter_type, values, fields)

    def _records(
        self, call: Call, filter_type: str, values: Sequence[str | int], fields: Sequence[str] | None
    ) -> Iterator[Record]:
        texts = [str(value) for value in values]
        bad = [text for text in texts if "," in text or not text]
        if not filter_type or bad:
            raise ValueError(f"Marketo filter values must be non-empty and without commas: {bad[:3]!r}.")
        for chunk in _batches(texts):
            query = [("filterType", filter_type), ("filterValues", ",".join(chunk)), ("batchSize", str(BATCH))]
            if fields:
                query.append(("fields", ",".join(fields)))
            token: str | None = None
            while True:
                envelope = self._result(call, query + ([("nextPageToken", token)] if token else []))
                try:
                    yield from _RECORDS.validate_python(envelope.result)
                except ValidationError as exc:
                    raise MalformedAnswer(call.name, first_problem(exc)) from None
                token = envelope.next_page_token
                if not token or not envelope.result:
                    break

    def sync_leads(
        self,
        leads: Sequence[Mapping[str, Scalar]],
        *,
        action: str = "createOrUpdate",
        lookup_field: str = "email",
        partition_name: str | None = None,
    ) -> list[RecordResult]:
        """Create or update leads (`action` createOrUpdate, createOnly, updateOnly or createDuplicate), matched
        on `lookup_field`, in batches of at most 300. Returns one result per lead, in the order given: `created` or
        `updated` with the lead's id, or `skipped` with its reasons."""
        call = Call("POST", "/rest/v1/leads.json", "write leads", repeatable=action != "createDuplicate")
        results: list[RecordResult] = []
        for batch in _batches([dict(lead) for lead in leads]):
            body: dict[str, object] = {"action": action, "lookupField": lookup_field, "input": batch}
            if partition_name:
                body["partitionName"] = partition_name
            results += self._in_order(call, RecordResult, self._result(call, body=body), len(batch))
        return results

    def sync_companies(
        self, companies: Sequence[Mapping[str, Scalar]], *, action: str = "createOrUpdate"
    ) -> list[RecordResult]:
        """Create or update companies by their dedupe fields (externalCompanyId), in batches of at most 300; one
        result per company, in the order given."""
        call = Call("POST", "/rest/v1/companies.json", "write companies")
        results: list[RecordResult] = []
        for batch in _batches([dict(company) for company in companies]):
            body = {"action": action, "dedupeBy": "dedupeFields", "input": batch}
            results += self._in_order(call, RecordResult, self._result(call, body=body), len(batch))
        return results

    # -- activities ---------------------------------------------------------------------------------------------

    def activity_types(self) -> list[ActivityType]:
        """Every activity type, standard and custom (types.json does not tell them apart)."""
        call = Call("GET", "/rest/v1/activities/types.json", "read the activity types")
        return self.items(call, ActivityType, self._result(call))

    def paging_token(self, since: datetime) -> str:
        """A paging token for the activities and lead changes from `since` (aware) on."""
        # Marketo gives this call up to 300 s (the others 30 s).
        call = Call("GET", "/rest/v1/activities/pagingtoken.json", "start reading activities", deadline=PAGING_DEADLINE)
        envelope = self._result(call, [("sinceDatetime", marketo_time(since, "since"))])
        if not envelope.next_page_token:
            raise MalformedAnswer(call.name, "it held no nextPageToken")
        return envelope.next_page_token

    def activities(
        self,
        token: str,
        type_ids: Sequence[int],
        *,
        lead_ids: Sequence[int] | None = None,
        list_id: int | None = None,
    ) -> Iterator[ActivityPage]:
        """The activities of the types `type_ids` (1 to 10) from `token` (a `paging_token`, or a page's
        `next_page_token`) on, optionally of `lead_ids` (at most 30) or the members of static list `list_id`.
        Yields every page, empty ones too, until Marketo says there is no more; store a page's
        `next_page_token` after handling its items to resume right after it."""
        _check_count("type_ids", type_ids, 1, MAX_ACTIVITY_TYPES)
        query = [("activityTypeIds", ",".join(str(type_id) for type_id in type_ids))]
        query += self._audience(lead_ids, list_id)
        call = Call("GET", "/rest/v1/activities.json", "read activities")
        for envelope, next_token, more in self._pages(call, token, query):
            yield ActivityPage(self.items(call, Activity, envelope), next_token, more)

    def lead_changes(
        self,
        token: str,
        fields: Sequence[str],
        *,
        lead_ids: Sequence[int] | None = None,
        list_id: int | None = None,
    ) -> Iterator[LeadChangePage]:
        """The changes to `fields` of leads from `token` on; pages as `activities`."""
        _check_count("fields", fields, 1, 1_000)
        query = [("fields", ",".join(fields)), *self._audience(lead_ids, list_id)]
        call = Call("GET", "/rest/v1/activities/leadchanges.json", "read lead changes")
        for envelope, next_token, more in self._pages(call, token, query):
            yield LeadChangePage(self.items(call, LeadChange, envelope), next_token, more)

    @staticmethod
    def _audience(lead_ids: Sequence[int] | None, list_id: int | None) -> list[tuple[str, str]]:
        query: list[tuple[str, str]] = []
        if lead_ids is not None:
            _check_count("lead_ids", lead_ids, 1, MAX_LEAD_IDS)
            query.append(("leadIds", ",".join(str(lead_id) for lead_id in lead_ids)))
        if list_id is not None:
            query.append(("listId", str(list_id)))
        return query

    def _pages(self, call: Call, token: str, query: list[tuple[str, str]]) -> Iterator[tuple[Envelope, str, bool]]:
        if not token:
            raise ValueError("A paging token is needed: get one with paging_token(since).")
        while True:
            envelope = self._result(call, [("nextPageToken", token), *query])
            more = bool(envelope.more_result)
            if not envelope.next_page_token and more:
                raise MalformedAnswer(call.name, "it said more pages follow but held no nextPageToken")
            token = envelope.next_page_token or token
            yield envelope, token, more
            if not more:
                return

    # -- custom activities --------------------------------------------------------------------------------------

    def custom_activity_types(self) -> list[CustomActivityTypeAnswer]:
        """The instance's custom activity types with their API names and statuses (draft, approved...), to see
        which ones Overture still has to create or approve."""
        call = Call("GET", "/rest/v1/activities/external/types.json", "read the custom activity types")
        return self.items(call, CustomActivityTypeAnswer, self._result(call))

    def create_custom_activity_type(self, spec: CustomActivityTypeSpec) -> CustomActivityTypeAnswer:
        """Create a custom activity type as a draft (approve it before writing activities of it)."""
        _check_api_name(spec.api_name)
        _check_api_name(spec.primary_attribute.api_name)
        body = {
            "apiName": spec.api_name,
            "name": spec.name,
            "triggerName": spec.trigger_name,
            "filterName": spec.filter_name,
            "description": spec.description,
            "primaryAttribute": _attribute(spec.primary_attribute),
        }
        call = Call("POST", "/rest/v1/activities/external/type.json", "create a custom activity type", False)
        return self._one(call, CustomActivityTypeAnswer, self._result(call, body=body))

    def add_custom_activity_attributes(
        self, api_name: str, attributes: Sequence[AttributeSpec]
    ) -> CustomActivityTypeAnswer:
        """Add secondary attributes (at most 20 a type) to the draft of the custom activity type `api_name`."""
        _check_api_name(api_name)
        for attribute in attributes:
            _check_api_name(attribute.api_name)
        path = f"/rest/v1/activities/external/type/{api_name}/attributes/create.json"
        call = Call("POST", path, "add attributes to a custom activity type", False)
        body = {"attributes": [_attribute(attribute) for attribute in attributes]}
        return self._one(call, CustomActivityTypeAnswer, self._result(call, body=body))

    def approve_custom_activity_type(self, api_name: str) -> CustomActivityTypeAnswer:
        """Approve the draft of the custom activity type `api_name`, so activities of it can be written."""
        _check_api_name(api_name)
        path = f"/rest/v1/activities/external/type/{api_name}/approve.json"
        call = Call("POST", path, "approve a custom activity type")
        return self._one(call, CustomActivityTypeAnswer, self._result(call, body={}))

    def add_custom_activities(self, activities: Sequence[CustomActivity]) -> list[ActivityWriteResult]:
        """Add custom activities, at most 300 a call; one result per activity in the order given: `added`, or
        `skipped` with its `errors` (a lead not found, a type not approved). Not sent again after a 5xx answer
        (it may have been written): that raises `MarketoError` for the caller's outbox to retry."""
        call = Call(
            "POST",
            "/rest/v1/activities/external.json",
            "add custom activities",
            False,
            deadline=ADD_ACTIVITIES_DEADLINE,
        )
        results: list[ActivityWriteResult] = []
        rows = [_custom_activity(activity) for activity in activities]
        for batch in _batches(rows):
            results += self._in_order(call, ActivityWriteResult, self._result(call, body={"input": batch}), len(batch))
        return results

    # -- programs and lists -------------------------------------------------------------------------------------

    def set_program_status(self, program_id: int, status_name: str, lead_ids: Sequence[int]) -> list[RecordResult]:
        """Set the program status `status_name` of the leads `lead_ids` (adding those not members yet), 300 a
        call; one result per lead in order (`skipped` with 1037 when already in or past that status)."""
        call = Call("POST", f"/rest/v1/programs/{int(program_id)}/members/status.json", "set program statuses")
        results: list[RecordResult] = []
        for batch in _batches([{"leadId": int(lead_id)} for lead_id in lead_ids]):
            body = {"statusName": status_name, "input": batch}
            results += self._in_order(call, RecordResult, self._result(call, body=body), len(batch))
        return results

    def add_to_list(self, list_id: int, lead_ids: Sequence[int]) -> list[RecordResult]:
        """Add leads to static list `list_id`, 300 a call; one result per lead in order (`added` or `skipped`)."""
        return self._list_members(Call("POST", f"/rest/v1/lists/{int(list_id)}/leads.json", "add to a list"), lead_ids)

    def remove_from_list(self, list_id: int, lead_ids: Sequence[int]) -> list[RecordResult]:
        """Remove leads from static list `list_id`; as `add_to_list` (`removed` or `skipped`)."""
        call = Call("DELETE", f"/rest/v1/lists/{int(list_id)}/leads.json", "remove from a list")
        return self._list_members(call, lead_ids)

    def _list_members(self, call: Call, lead_ids: Sequence[int]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for batch in _batches([{"id": int(lead_id)} for lead_id in lead_ids]):
            results += self._in_order(call, RecordResult, self._result(call, body={"input": batch}), len(batch))
        return results


def _attribute(spec: AttributeSpec) -> dict[str, str]:
    attribute = {"apiName": spec.api_name, "name": spec.name, "dataType": spec.data_type}
    if spec.description:
        attribute["description"] = spec.description
    return attribute


def _custom_activity(activity: CustomActivity) -> dict[str, object]:
    for name in activity.attributes:
        _check_api_name(name)
    return {
        "leadId": int(activity.lead_id),
        "activityDate": marketo_time(activity.activity_date, "activity_date"),
        "activityTypeId": int(activity.activity_type_id),
        "primaryAttributeValue": activity.primary_attribute_value,
        "attributes": [{"apiName": name, "value": value} for name, value in activity.attributes.items()],
    }


def _check_api_name(name: str) -> None:
    if not API_NAME.match(name):
        raise ValueError(f"{name!r} is not a Marketo API name: a letter, then letters, digits or underscores.")


def _check_count(what: str, values: Sequence[object], least: int, most: int) -> None:
    if not least <= len(values) <= most:
        raise ValueError(f"Marketo takes {least} to {most} {what} a call, not {len(values)}.")


@dataclass(frozen=True)
class ConnectionReport:
    """What "test connection" shows: `ok`, and a sentence for the marketer (the error's message when it failed;
    `failure` names the error type then, e.g. "BadCredentials")."""

    ok: bool
    message: str
    lead_fields: int = 0
    failure: str | None = None


def check_connection(client: MarketoClient) -> ConnectionReport:
    """Sign in and read the lead fields, as the Integrations page's "test connection" does. Never raises a
    `MarketoFailure`: it is reported."""
    try:
        client.authenticate()
        fields = len(client.describe_leads().fields)
    except MarketoFailure as exc:
        return ConnectionReport(False, exc.message, failure=type(exc).__name__)
    return ConnectionReport(True, f"Connected to Marketo at {client.host}: {fields} lead fields can be read.", fields)
