"""The Automations page (beside Programs and Lists): every automation with how often it ran; one automation's form
(when an activity happens, only for some attributes and some people, then up to five actions), a test of it
against a recent activity that shows what it would do, and the log of its runs. The form is plain HTML (a small
script only hides the fields an action type does not use); the work is automations/service.py's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from overture.activities.service import ActivityType
from overture.automations import actions
from overture.automations import service as automations
from overture.automations.models import Automation
from overture.automations.schemas import ATTRIBUTE_OPERATORS, AutomationIn, PreviewOut
from overture.db import utcnow
from overture.dialogues.yaml_io import dump_yaml, load_yaml
from overture.errors import InvalidInput, OvertureError, Problem
from overture.programs import lists
from overture.programs import service as programs
from overture.users.models import User
from overture.users.service import list_users
from overture.web.deps import Context, DbSession, RowId
from overture.web.guards import ProgramsPageUser
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded
from overture.webhooks.service import list_endpoints

router = page_router()
PAGE = "/admin/automations"
ATTRIBUTE_ROWS = 3
ACTION_ROWS = 5
Cursor = Annotated[str, Query(max_length=12, pattern=r"^\d*$")]
# The fields of each action type, as the form names them (automations.js shows only these for the chosen type).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "program_status": ("program", "status", "direction"),
    "add_to_list": ("list",),
    "remove_from_list": ("list",),
    "set_field": ("field", "value"),
    "notify": ("to", "user", "address", "note"),
    "webhook": ("endpoint",),
    "chat": ("endpoint", "note"),
}
ACTION_INPUTS = ("type", "program", "status", "direction", "list", "field", "value", "to", "user", "address",
                 "endpoint", "note")  # fmt: skip
RECIPIENTS = [("account_owner", "The account owner"), ("booked_agent", "The agent of their meeting"),
              ("user", "A user"), ("address", "An address")]  # fmt: skip
ACTIVITY_LABELS = {
    "dialogue.triggered": "A dialogue is shown", "dialogue.engaged": "A visitor engages with a dialogue",
    "dialogue.completed": "A dialogue is completed", "dialogue.dropped": "A dialogue is dropped",
    "dialogue.dismissed": "A dialogue is closed", "field.captured": "A field is captured",
    "link.clicked": "A link is clicked", "goal.reached": "A goal is reached", "meeting.booked": "A meeting is booked",
    "meeting.rescheduled": "A meeting is moved", "meeting.cancelled": "A meeting is cancelled",
    "meeting.outcome": "A meeting's outcome is set", "program.status_changed": "A program status changes",
    "program.removed": "Someone leaves a program", "list.added": "Someone is added to a list",
    "list.removed": "Someone is removed from a list",
}  # fmt: skip


def _empty_action() -> dict[str, str]:
    return {name: "" for name in ACTION_INPUTS} | {"direction": "forward"}


def _blank_form() -> dict[str, Any]:
    return {
        "name": "", "description": "", "enabled": True, "activity": ActivityType.goal_reached.value, "where": "",
        "attributes": [{"name": "", "op": "equals", "value": ""} for _ in range(ATTRIBUTE_ROWS)],
        "actions": [_empty_action() for _ in range(ACTION_ROWS)],
    }  # fmt: skip


def _form_of(automation: Automation) -> dict[str, Any]:
    """The form as an automation fills it."""
    form = _blank_form()
    where = dump_yaml(automation.condition) if automation.condition else ""
    form.update(name=automation.name, description=automation.description, enabled=automation.enabled,
                activity=automation.activity_type, where=where)  # fmt: skip
    for i, test in enumerate(automation.attributes[:ATTRIBUTE_ROWS]):
        value = test.get("value")
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else "" if value is None else str(value)
        form["attributes"][i] = {"name": test["name"], "op": test["op"], "value": shown}
    for i, action in enumerate(automation.actions[:ACTION_ROWS]):
        row = _empty_action()
        row.update({key: "" if value is None else str(value) for key, value in action.items() if key in row})
        if action.get("type") == "program_status":
            row["direction"] = "forward" if action.get("only_forward", True) else "any"
        form["actions"][i] = row
    return form


def _typed_form(
    name: str, description: str, enabled: str, activity: str, where: str,
    attr_name: list[str], attr_op: list[str], attr_value: list[str], typed: dict[str, list[str]],
) -> dict[str, Any]:  # fmt: skip
    def at(values: list[str], i: int, default: str = "") -> str:
        return values[i] if i < len(values) else default

    return {
        "name": name, "description": description, "enabled": enabled == "on", "activity": activity, "where": where,
        "attributes": [{"name": at(attr_name, i), "op": at(attr_op, i, "equals"), "value": at(attr_value, i)}
                       for i in range(ATTRIBUTE_ROWS)],
        "actions": [{key: at(typed[key], i, "forward" if key == "direction" else "") for key in ACTION_INPUTS}
                    for i in range(ACTION_ROWS)],
    }  # fmt: skip


def _number(text: str) -> int | str | None:
    text = text.strip()
    return None if not text else int(text) if text.isdigit() else text


def _action(row: dict[str, str]) -> dict[str, Any]:
    """An action as the API takes it, from one row of the form."""
    kind = row["type"]
    given: dict[str, Any] = {"type": kind}
    for key in ACTION_FIELDS.get(kind, ()):
        value = row[key].strip()
        if key in ("program", "list", "user", "endpoint"):
            given[key] = _number(value)
        elif key == "direction":
            given["only_forward"] = value != "any"
        elif key in ("address",):
            given[key] = value or None
        else:
            given[key] = value
    return given


def _attribute(row: dict[str, str]) -> dict[str, Any]:
    value: Any = row["value"].strip()
    if row["op"] in ("is_empty", "is_not_empty"):
        value = None
    elif row["op"] in ("in", "not_in"):
        value = [part.strip() for part in value.split(",") if part.strip()]
    return {"name": row["name"].strip(), "op": row["op"], "value": value}


def _given(form: dict[str, Any]) -> AutomationIn:
    """The automation the form says. Raises InvalidInput naming each wrong field."""
    where = None
    if form["where"].strip():
        where, problems = load_yaml(form["where"])
        if problems:
            raise InvalidInput("The automation was not saved.", [Problem("trigger.where", p.message) for p in problems])
    data = {
        "name": form["name"], "description": form["description"], "enabled": form["enabled"],
        "trigger": {"activity": form["activity"], "where": where,
                    "attributes": [_attribute(row) for row in form["attributes"] if row["name"].strip()]},
        "actions": [_action(row) for row in form["actions"] if row["type"]],
    }  # fmt: skip
    try:
        return AutomationIn.model_validate(data)
    except ValidationError as error:
        problems = []
        for found in error.errors():
            path = ".".join(str(part) for part in found["loc"])
            problems.append(Problem(path, "Choose at least one action." if path == "actions" else found["msg"]))
        raise InvalidInput("The automation was not saved.", problems) from error


# Where a problem's path is shown on the form.
FIELDS = {"trigger.activity": "activity", "trigger.where": "where", "actions": "action_0",
          **{f"trigger.attributes.{i}": f"attr_{i}" for i in range(ATTRIBUTE_ROWS)},
          **{f"actions.{i}": f"action_{i}" for i in range(ACTION_ROWS)}}  # fmt: skip


def _choices(session: Session) -> dict[str, Any]:
    return {
        "activity_types": [(kind, ACTIVITY_LABELS.get(kind, kind)) for kind in automations.activity_types()],
        "operators": ATTRIBUTE_OPERATORS,
        "action_kinds": [(kind.type, kind.label) for kind in actions.ACTIONS.values()],
        "action_fields": ACTION_FIELDS,
        "programs": [(p.id, p.name) for p in programs.all_programs(session)],
        "static_lists": [(row.id, row.name) for row in lists.all_lists(session)],
        "users": [(u.id, f"{u.name or u.email} ({u.email})") for u in list_users(session) if u.is_active],
        "endpoints": [(e.id, e.description or e.url) for e in list_endpoints(session)],
        "recipients": RECIPIENTS,
    }


def _form_page(
    request: Request, session: Session, user: User, automation: Automation | None, form: dict[str, Any],
    status: int = 200, cursor: str = "", preview: PreviewOut | None = None, test_activity: int | None = None,
    **extra: Any,
) -> Response:  # fmt: skip
    runs = automations.runs(session, automation_id=automation.id, cursor=cursor or None) if automation else None
    recent = automations.recent_activities(session, form.get("activity") or None)
    return render(
        request, "admin/automation.html", user, status=status, active_area="programs", automation=automation,
        shown=automations.public(session, automation) if automation else None, runs=runs, recent=recent,
        preview=preview, test_activity=test_activity, cursor=cursor, **_choices(session),
        **{"form": form, **extra},
    )  # fmt: skip


@router.get(PAGE)
def automations_page(request: Request, session: DbSession, user: ProgramsPageUser) -> Response:
    rows = [automations.public(session, row) for row in automations.all_automations(session)]
    return render(request, "admin/automations.html", user, active_area="programs", automations=rows,
                  labels=ACTIVITY_LABELS)  # fmt: skip


@router.get(PAGE + "/new")
def new_automation_page(request: Request, session: DbSession, user: ProgramsPageUser) -> Response:
    return _form_page(request, session, user, None, _blank_form())


@router.get(PAGE + "/{automation_id}")
def automation_page(
    request: Request, session: DbSession, user: ProgramsPageUser, automation_id: RowId, cursor: Cursor = ""
) -> Response:
    automation = automations.get(session, automation_id)
    return _form_page(request, session, user, automation, _form_of(automation), cursor=cursor)


def _save(
    request: Request, session: Session, context: Any, user: User, automation: Automation | None,
    form: dict[str, Any], intent: str, test_activity: str,
) -> Response:  # fmt: skip
    try:
        given = _given(form)
        if intent == "test":
            if not test_activity.isdigit():
                raise InvalidInput("Choose an activity to test against.", [Problem("test_activity", "Choose one.")])
            shown = automations.preview(session, given, int(test_activity), utcnow(), context.settings.base_url)
            return _form_page(request, session, user, automation, form, preview=shown,
                              test_activity=int(test_activity))  # fmt: skip
        if automation is None:
            automation = automations.create(session, given, utcnow())
            said = "is on: it acts on what happens from now on" if automation.enabled else "is saved, and off"
        else:
            automations.update(session, automation, given, utcnow())
            said = "is saved"
    except (InvalidInput, OvertureError) as exc:
        refused = refuse(session, exc, {**form, **{name: "" for name in FIELDS.values()}}, FIELDS).shown()
        del refused["form"]  # the form as typed, rows and all
        return _form_page(request, session, user, automation, form, **refused)
    return succeeded(request, f"{automation.name} {said}.", f"{PAGE}/{automation.id}")


class AutomationForm(BaseModel):
    """The form as posted: its rows come as lists, one value per row (every row is sent, empty or not)."""

    name: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    enabled: str = Field("", max_length=10)
    activity: str = Field("", max_length=60)
    where: str = Field("", max_length=20_000)
    attr_name: list[str] = Field(default_factory=list, max_length=ATTRIBUTE_ROWS)
    attr_op: list[str] = Field(default_factory=list, max_length=ATTRIBUTE_ROWS)
    attr_value: list[str] = Field(default_factory=list, max_length=ATTRIBUTE_ROWS)
    action_type: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_program: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_status: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_direction: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_list: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_field: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_value: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_to: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_user: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_address: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_endpoint: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    action_note: list[str] = Field(default_factory=list, max_length=ACTION_ROWS)
    intent: str = Field("save", max_length=10)
    test_activity: str = Field("", max_length=12)

    def rows(self) -> dict[str, Any]:
        """The form as the page shows it again: its rows, each a dict."""
        typed = {key: getattr(self, f"action_{key}") for key in ACTION_INPUTS}
        return _typed_form(self.name, self.description, self.enabled, self.activity, self.where, self.attr_name,
                           self.attr_op, self.attr_value, typed)  # fmt: skip


@router.post(PAGE)
def create_automation(
    request: Request, session: DbSession, context: Context, user: ProgramsPageUser, form: Posted[AutomationForm]
) -> Response:
    return _save(request, session, context, user, None, form.rows(), form.intent, form.test_activity)


@router.post(PAGE + "/{automation_id}")
def update_automation(
    request: Request,
    session: DbSession,
    context: Context,
    user: ProgramsPageUser,
    automation_id: RowId,
    form: Posted[AutomationForm],
) -> Response:
    automation = automations.get(session, automation_id)
    return _save(request, session, context, user, automation, form.rows(), form.intent, form.test_activity)


@router.post(PAGE + "/{automation_id}/switch")
def switch_automation(request: Request, session: DbSession, user: ProgramsPageUser, automation_id: RowId) -> Response:
    automation = automations.get(session, automation_id)
    automations.set_enabled(session, automation, not automation.enabled, utcnow())
    return succeeded(
        request, f"{automation.name} is {'on' if automation.enabled else 'off'}.", f"{PAGE}/{automation.id}"
    )


@router.post(PAGE + "/{automation_id}/delete")
def delete_automation(request: Request, session: DbSession, user: ProgramsPageUser, automation_id: RowId) -> Response:
    automation = automations.get(session, automation_id)
    try:
        automations.delete(session, automation)
    except OvertureError as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/{automation_id}", "Not deleted: ")
    return succeeded(request, f"{automation.name} is deleted; what it did stays done.", PAGE)
