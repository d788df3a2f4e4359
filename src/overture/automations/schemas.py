"""The admin API's shapes of automations (in and out), their runs and a preview.

An automation is written as:

    {"name": "Hot leads to sales",
     "trigger": {"activity": "goal.reached",
                 "attributes": [{"name": "goal", "op": "equals", "value": "demo_requested"}],
                 "where": {"field": "company.employees", "op": "gte", "value": 200}},
     "actions": [{"type": "program_status", "program": 3, "status": "Engaged"},
                 {"type": "notify", "to": "account_owner"}]}

`where` takes the audience condition builder's grammar (DESIGN.md section 4: `{field, op, value}`, `all`, `any`,
`not`, activity fields with `within_days`); each action's own fields are checked by its kind in `actions.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.automations.models import DESCRIPTION_MAX, NAME_MAX

ACTIONS_MAX = 20
ATTRIBUTES_MAX = 10
ATTRIBUTE_OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "is_empty", "is_not_empty")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttributeFilter(Strict):
    """A test of one attribute of the activity (its `goal`, `field`, `value`, `url`, `status`..., and `dialogue`:
    the key of its dialogue), compared as audience conditions compare text: case and surrounding spaces ignored."""

    name: str = Field(pattern=r"^[a-z_]{1,40}$", description="The attribute, e.g. goal, field, dialogue.")
    op: Literal["equals", "not_equals", "in", "not_in", "contains", "is_empty", "is_not_empty"]
    value: Any = Field(default=None, description="A text, or a list of texts for in and not_in; none for is_empty.")


class Trigger(Strict):
    activity: str = Field(max_length=60, description="The activity type, e.g. goal.reached or meeting.booked.")
    attributes: list[AttributeFilter] = Field(default_factory=list, max_length=ATTRIBUTES_MAX)
    where: dict[str, Any] | None = Field(
        default=None,
        description="A condition on the person's and company's fields and past activities, in the audience "
        "grammar ({field, op, value}, all, any, not).",
    )


class ActionIn(BaseModel):
    """An action: its `type` (a kind of actions.ACTIONS) and the fields that kind takes."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=60, description="program_status, add_to_list, remove_from_list, set_field, notify, "
                      "webhook, chat, or an action an integration adds.")  # fmt: skip


class AutomationIn(Strict):
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    enabled: bool = True
    trigger: Trigger
    actions: list[ActionIn] = Field(min_length=1, max_length=ACTIONS_MAX)


class AutomationOut(BaseModel):
    id: int
    name: str
    description: str
    enabled: bool
    trigger: Trigger
    actions: list[dict[str, Any]]
    runs: int = Field(description="How many times it ran.")
    failed_runs: int
    created_at: datetime
    updated_at: datetime


class ActionResult(BaseModel):
    action: str
    status: Literal["done", "failed"]
    said: str = Field(description="What the action did, or why it failed, in a sentence.")


class RunOut(BaseModel):
    id: int
    automation_id: int
    automation: str
    activity_id: int
    person_id: int | None
    status: Literal["done", "failed"]
    inputs: dict[str, Any]
    results: list[ActionResult]
    ran_at: datetime


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")


class PreviewIn(Strict):
    automation: AutomationIn
    activity_id: int = Field(ge=1, description="A recent activity to try the automation against (nothing is done).")


class PreviewOut(BaseModel):
    matches: bool
    why_not: str | None = Field(description="Which part of the trigger the activity does not meet.")
    actions: list[str] = Field(description="What each action would do, in order (nothing when it does not match).")


class RecentActivity(BaseModel):
    id: int
    type: str
    occurred_at: datetime
    person_id: int | None
    person: str = Field(description="The person's name or email, or 'Anonymous visitor'.")
    summary: str = Field(description="Its attributes in a few words.")
