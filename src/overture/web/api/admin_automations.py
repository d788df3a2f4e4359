"""Admin API: automations ("when an activity happens, then actions"), trying one against a recent activity, the
kinds of actions there are, and the log of runs per automation and per person. Everything the Automations page
does (docs/automations.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from overture.automations import actions
from overture.automations import service as automations
from overture.automations.schemas import AutomationIn, AutomationOut, PreviewIn, PreviewOut, RecentActivity, RunPage
from overture.db import utcnow
from overture.web.deps import Context, DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ProgramsApiUser

router = APIRouter(prefix="/api/v1/admin/automations", tags=["automations"], responses=API_ERROR_RESPONSES)
Cursor = Annotated[str | None, Query(pattern=r"^\d{1,12}$", description="The next_cursor of the previous page.")]


class ActionKindOut(BaseModel):
    type: str
    label: str
    fields: dict[str, Any]  # the JSON schema of the action's own fields


class Enabled(BaseModel):
    enabled: bool


@router.get("", summary="Every automation, with how often it ran")
def list_automations(session: DbSession, _: ProgramsApiUser) -> list[AutomationOut]:
    return [automations.public(session, row) for row in automations.all_automations(session)]


@router.post("", status_code=201, summary="Add an automation (it acts on activities from now on)")
def create_automation(session: DbSession, _: ProgramsApiUser, body: AutomationIn) -> AutomationOut:
    return automations.public(session, automations.create(session, body, utcnow()))


@router.get("/actions", summary="The kinds of actions an automation can take, with the fields of each")
def action_kinds(_: ProgramsApiUser) -> list[ActionKindOut]:
    kinds = actions.ACTIONS.values()
    return [ActionKindOut(type=k.type, label=k.label, fields=k.params.model_json_schema()) for k in kinds]


@router.get("/activities", summary="The newest activities (of a type), to try an automation against")
def recent_activities(
    session: DbSession, _: ProgramsApiUser, type: Annotated[str | None, Query(max_length=60)] = None
) -> list[RecentActivity]:
    return automations.recent_activities(session, type)


@router.post("/preview", summary="Whether an activity would trigger an automation as written, and what it would do")
def preview(session: DbSession, context: Context, _: ProgramsApiUser, body: PreviewIn) -> PreviewOut:
    return automations.preview(session, body.automation, body.activity_id, utcnow(), context.settings.base_url)


@router.get("/runs", summary="Runs of every automation (or of one person), newest first")
def all_runs(
    session: DbSession,
    _: ProgramsApiUser,
    person_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    cursor: Cursor = None,
) -> RunPage:
    return automations.runs(session, person_id=person_id, cursor=cursor)


@router.get("/{automation_id}", summary="One automation")
def get_automation(session: DbSession, _: ProgramsApiUser, automation_id: RowId) -> AutomationOut:
    return automations.public(session, automations.get(session, automation_id))


@router.put("/{automation_id}", summary="Change an automation (as a whole)")
def update_automation(
    session: DbSession, _: ProgramsApiUser, automation_id: RowId, body: AutomationIn
) -> AutomationOut:
    row = automations.get(session, automation_id)
    automations.update(session, row, body, utcnow())
    return automations.public(session, row)


@router.patch("/{automation_id}", summary="Turn an automation on or off")
def switch_automation(session: DbSession, _: ProgramsApiUser, automation_id: RowId, body: Enabled) -> AutomationOut:
    row = automations.get(session, automation_id)
    automations.set_enabled(session, row, body.enabled, utcnow())
    return automations.public(session, row)


@router.delete("/{automation_id}", status_code=204, summary="Delete an automation and its log (what it did stays)")
def delete_automation(session: DbSession, _: ProgramsApiUser, automation_id: RowId) -> None:
    automations.delete(session, automations.get(session, automation_id))


@router.get("/{automation_id}/runs", summary="The automation's runs, newest first, a page at a time")
def automation_runs(session: DbSession, _: ProgramsApiUser, automation_id: RowId, cursor: Cursor = None) -> RunPage:
    automations.get(session, automation_id)
    return automations.runs(session, automation_id=automation_id, cursor=cursor)
