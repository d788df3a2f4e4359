"""The shapes of Marketo's answers (pydantic models with limits: a remote answer is input) and of what the client
sends (plain frozen dataclasses its callers build).

Answers follow the reference (marketo.md): every REST and bulk call answers the `Envelope`; its `result` items are
validated per endpoint by the models below. Unknown keys are ignored (Marketo adds some), missing optional ones
are None, and anything out of shape or over a limit fails validation, which the client reports as
`MalformedAnswer` naming the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

NAME = 255  # field names, api names, display names
TEXT = 10_000  # free text: messages, values
TOKEN = 1_000  # paging tokens, request ids, export ids

Scalar = str | int | float | bool | None
Record = dict[Annotated[str, Field(max_length=NAME)], Scalar]
"""A lead or company as Marketo returns it: field API name to value (None where the field is empty)."""

RecordStatus = Literal["created", "updated", "deleted", "skipped", "added", "removed"]
AttributeType = Literal[
    "string", "boolean", "integer", "float", "link", "email", "currency", "date", "datetime", "phone", "text"
]


def _code_text(value: object) -> object:
    # The reference's codes are numeric strings ("601"); a bare number would mean the same.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ApiError(_Answer):
    """One error or record-level reason: Marketo's `code` (a numeric string such as "1004") and `message`."""

    code: Annotated[str, BeforeValidator(_code_text), Field(max_length=20)]
    message: str = Field(default="", max_length=TEXT)


class Envelope(_Answer):
    """The envelope of every REST and bulk answer. `result` is checked item by item by the endpoint's model."""

    request_id: str = Field(alias="requestId", max_length=TOKEN)
    success: bool
    result: list[Any] = Field(default_factory=list, max_length=100_000)
    next_page_token: str | None = Field(default=None, alias="nextPageToken", max_length=TOKEN)
    more_result: bool | None = Field(default=None, alias="moreResult")
    errors: list[ApiError] = Field(default_factory=list, max_length=1_000)
    warnings: list[Any] = Field(default_factory=list, max_length=1_000)


class Token(_Answer):
    """The identity endpoint's answer: a bearer token and the seconds it has left."""

    access_token: str = Field(min_length=1, max_length=TOKEN)
    token_type: str = Field(default="bearer", max_length=50)
    expires_in: int = Field(ge=0, le=86_400)
    scope: str = Field(default="", max_length=NAME)


class FieldDescription(_Answer):
    """A lead or company field: its API `name` (what the calls use), its label, type and maximum length."""

    name: str = Field(max_length=NAME)
    display_name: str = Field(default="", alias="displayName", max_length=NAME)
    data_type: str = Field(alias="dataType", max_length=50)
    length: int | None = Field(default=None, ge=0)
    updateable: bool = False
    crm_managed: bool = Field(default=False, alias="crmManaged")


SearchableFields = list[Annotated[list[Annotated[str, Field(max_length=NAME)]], Field(max_length=10)]]


class LeadDescription(_Answer):
    """`describe2`: every lead field, and the fields (or field tuples) usable as `filterType`."""

    name: str = Field(default="", max_length=NAME)
    searchable_fields: SearchableFields = Field(default_factory=list, alias="searchableFields", max_length=1_000)
    fields: list[FieldDescription] = Field(max_length=10_000)


class CompanyDescription(_Answer):
    """The company fields, the id field, the fields companies are deduplicated by, and the searchable ones."""

    id_field: str = Field(default="id", alias="idField", max_length=NAME)
    dedupe_fields: list[Annotated[str, Field(max_length=NAME)]] = Field(
        default_factory=list, alias="dedupeFields", max_length=10
    )
    searchable_fields: SearchableFields = Field(default_factory=list, alias="searchableFields", max_length=1_000)
    fields: list[FieldDescription] = Field(max_length=10_000)


class RecordResult(_Answer):
    """What Marketo did with one input record (leads, companies, program members, list members), in input order.
    A `skipped` record carries its `reasons` (e.g. code "1004", Lead not found)."""

    seq: int | None = None
    id: int | None = None
    lead_id: int | None = Field(default=None, alias="leadId")
    status: RecordStatus
    reasons: list[ApiError] = Field(default_factory=list, max_length=100)


class ActivityWriteResult(_Answer):
    """What Marketo did with one custom activity: `added` with its ids, or `skipped` with its `errors` (this
    endpoint says `errors` where the others say `reasons`)."""

    id: int | None = None
    marketo_guid: str | None = Field(default=None, alias="marketoGUID", max_length=TOKEN)
    status: RecordStatus
    errors: list[ApiError] = Field(default_factory=list, max_length=100)


class AttributeDescription(_Answer):
    name: str = Field(max_length=NAME)
    api_name: str | None = Field(default=None, alias="apiName", max_length=NAME)
    data_type: str = Field(default="string", alias="dataType", max_length=50)


class ActivityType(_Answer):
    """An activity type (standard or custom: types.json does not tell them apart)."""

    id: int
    name: str = Field(max_length=NAME)
    description: str | None = Field(default=None, max_length=TEXT)
    primary_attribute: AttributeDescription | None = Field(default=None, alias="primaryAttribute")
    attributes: list[AttributeDescription] = Field(default_factory=list, max_length=200)


class CustomActivityTypeAnswer(_Answer):
    """A custom activity type as its own endpoints return it; `status` is draft, approved, approved with draft or
    deleted (activities can be written once it is approved)."""

    id: int | None = None
    api_name: str = Field(alias="apiName", max_length=NAME)
    name: str = Field(max_length=NAME)
    status: str = Field(default="", max_length=50)
    primary_attribute: AttributeDescription | None = Field(default=None, alias="primaryAttribute")
    attributes: list[AttributeDescription] = Field(default_factory=list, max_length=200)


class ActivityAttribute(_Answer):
    name: str = Field(max_length=NAME)
    value: Scalar = None


class Activity(_Answer):
    """One activity of a lead. Key on `marketo_guid` (`id` may be missing)."""

    marketo_guid: str = Field(alias="marketoGUID", min_length=1, max_length=TOKEN)
    id: int | None = None
    lead_id: int = Field(alias="leadId")
    activity_date: AwareDatetime = Field(alias="activityDate")
    activity_type_id: int = Field(alias="activityTypeId")
    campaign_id: int | None = Field(default=None, alias="campaignId")
    primary_attribute_value_id: int | None = Field(default=None, alias="primaryAttributeValueId")
    primary_attribute_value: Scalar = Field(default=None, alias="primaryAttributeValue")
    attributes: list[ActivityAttribute] = Field(default_factory=list, max_length=200)


class FieldChange(_Answer):
    id: int | None = None
    name: str = Field(max_length=NAME)
    new_value: Scalar = Field(default=None, alias="newValue")
    old_value: Scalar = Field(default=None, alias="oldValue")


class LeadChange(Activity):
    """A lead change activity: the fields that changed, with their new and old values."""

    fields: list[FieldChange] = Field(default_factory=list, max_length=1_000)


ExportStatus = Literal["Created", "Queued", "Processing", "Completed", "Failed", "Canceled", "Cancelled"]


class ExportJob(_Answer):
    """A bulk lead export and where it stands. Once Completed: the record count, file size and checksum
    ("sha256:<hex>"); once Failed: `error_msg`."""

    export_id: str = Field(alias="exportId", min_length=1, max_length=TOKEN)
    status: ExportStatus
    format: str | None = Field(default=None, max_length=10)
    created_at: AwareDatetime | None = Field(default=None, alias="createdAt")
    queued_at: AwareDatetime | None = Field(default=None, alias="queuedAt")
    started_at: AwareDatetime | None = Field(default=None, alias="startedAt")
    finished_at: AwareDatetime | None = Field(default=None, alias="finishedAt")
    number_of_records: int | None = Field(default=None, alias="numberOfRecords", ge=0)
    file_size: int | None = Field(default=None, alias="fileSize", ge=0)
    file_checksum: str | None = Field(default=None, alias="fileChecksum", max_length=200)
    error_msg: str | None = Field(default=None, alias="errorMsg", max_length=TEXT)


@dataclass(frozen=True)
class ActivityPage:
    """One page of activities (or lead changes). `next_page_token` is where the next page starts: a caller that
    stores it after handling `items` resumes exactly there. `more` is False on the last page."""

    items: list[Activity]
    next_page_token: str
    more: bool


@dataclass(frozen=True)
class LeadChangePage:
    """One page of lead changes; as `ActivityPage`."""

    items: list[LeadChange]
    next_page_token: str
    more: bool


@dataclass(frozen=True)
class AttributeSpec:
    """An attribute of a custom activity type to create: `api_name` (what writes use), label and type."""

    api_name: str
    name: str
    data_type: AttributeType = "string"
    description: str = ""


@dataclass(frozen=True)
class CustomActivityTypeSpec:
    """A custom activity type to create (as a draft): its API name, label, the smart-list trigger and filter names
    marketers pick in Marketo, and its primary attribute."""

    api_name: str
    name: str
    trigger_name: str
    filter_name: str
    primary_attribute: AttributeSpec
    description: str = ""


@dataclass(frozen=True)
class CustomActivity:
    """One custom activity to add: the lead, when (aware), the approved type's id, the primary attribute's value
    and the other attributes by API name."""

    lead_id: int
    activity_date: datetime
    activity_type_id: int
    primary_attribute_value: str
    attributes: dict[str, Scalar] = field(default_factory=dict)
