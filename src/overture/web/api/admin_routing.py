"""Admin API: the Routing area. Everything the Routing page does: teams and their rotation (order, pause, remove,
who is next), account owners (one at a time or a CSV upload with its bad rows), routing rules and meeting types.
Agents are named by email in request bodies and by id in paths; answers give both."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, UploadFile
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.scheduling import accounts, meeting_types, rules, teams
from overture.scheduling.lineup import SkipReasons, skip_reasons
from overture.scheduling.models import Agent
from overture.scheduling.schemas import (
    AccountCreate,
    AccountImportOut,
    AccountOut,
    AccountUpdate,
    AgentOut,
    MeetingTypeCreate,
    MeetingTypeOut,
    MeetingTypeUpdate,
    MemberAdd,
    MemberUpdate,
    Order,
    RuleCreate,
    RuleOrder,
    RuleOut,
    RuleUpdate,
    TeamCreate,
    TeamOut,
    TeamUpdate,
)
from overture.web.deps import Context, DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import RoutingApiUser

router = APIRouter(prefix="/api/v1/admin", tags=["routing"], responses=API_ERROR_RESPONSES)
Key = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The key.")]


# --- agents and teams -----------------------------------------------------------------------------------------


def _lineup(context: Context) -> SkipReasons:
    """Why booking would pass each agent over now; a dependency, so it runs (it may read calendars) before the
    route's own transaction."""
    return skip_reasons(context.calendar_world, utcnow())


Lineup = Annotated[SkipReasons, Depends(_lineup)]


@router.get("/routing/agents", summary="Every agent, with their calendar and whether they need attention")
def list_agents(session: DbSession, _: RoutingApiUser) -> list[AgentOut]:
    return [AgentOut.of(info) for info in teams.list_agents(session)]


@router.get("/routing/teams", summary="Teams, each with its members in rotation order and who is next")
def list_teams(lineup: Lineup, session: DbSession, _: RoutingApiUser) -> list[TeamOut]:
    return [TeamOut.of(session, lineup, team) for team in teams.list_teams(session)]


@router.post("/routing/teams", status_code=201, summary="Create a team (no members yet)")
def create_team(lineup: Lineup, session: DbSession, _: RoutingApiUser, body: TeamCreate) -> TeamOut:
    return TeamOut.of(session, lineup, teams.create(session, body.key, body.name, body.mode, body.credit_back))


@router.get("/routing/teams/{key}", summary="One team, its rotation and who is next")
def get_team(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key) -> TeamOut:
    return TeamOut.of(session, lineup, teams.get(session, key))


@router.patch("/routing/teams/{key}", summary="Rename a team, set its mode or credit back (only what is sent)")
def update_team(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, body: TeamUpdate) -> TeamOut:
    team = teams.update(session, teams.get(session, key), name=body.name, mode=body.mode, credit_back=body.credit_back)
    return TeamOut.of(session, lineup, team)


@router.delete("/routing/teams/{key}", summary="Delete a team no dialogue books with")
def delete_team(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key) -> TeamOut:
    team = teams.get(session, key)
    shown = TeamOut.of(session, lineup, team)
    teams.delete(session, team)
    return shown


@router.post("/routing/teams/{key}/members", status_code=201, summary="Add an agent at the end of the rotation")
def add_member(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, body: MemberAdd) -> TeamOut:
    team = teams.get(session, key)
    (agent,) = teams.agents_for_emails(session, [body.agent], path="agent")
    teams.add_agent(session, team, agent)
    return TeamOut.of(session, lineup, team)


@router.patch("/routing/teams/{key}/members/{agent_id}", summary="Pause (skipped, keeps their place) or resume")
def update_member(
    lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, agent_id: RowId, body: MemberUpdate
) -> TeamOut:
    team = teams.get(session, key)
    teams.set_paused(session, team, agent_id, body.paused)
    return TeamOut.of(session, lineup, team)


@router.delete("/routing/teams/{key}/members/{agent_id}", summary="Take an agent out of the rotation")
def remove_member(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, agent_id: RowId) -> TeamOut:
    team = teams.get(session, key)
    teams.remove_agent(session, team, agent_id)
    return TeamOut.of(session, lineup, team)


@router.put("/routing/teams/{key}/order", summary="Set the rotation order (the pointer stays on its agent)")
def reorder_team(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, body: Order) -> TeamOut:
    team = teams.get(session, key)
    teams.set_order(session, team, [a.id for a in teams.agents_for_emails(session, body.agents)])
    return TeamOut.of(session, lineup, team)


# --- account owners -------------------------------------------------------------------------------------------


@router.get("/routing/accounts", summary="Accounts and their owners, by company name")
def list_accounts(session: DbSession, _: RoutingApiUser) -> list[AccountOut]:
    return [AccountOut.of(session, account) for account in accounts.list_accounts(session)]


@router.post("/routing/accounts", status_code=201, summary="Add an account and its owner")
def create_account(session: DbSession, _: RoutingApiUser, body: AccountCreate) -> AccountOut:
    return AccountOut.of(session, accounts.add(session, body.company_name, body.domain, body.owner))


@router.post("/routing/accounts/import", summary="Upload accounts from a CSV file (multipart, field `file`)")
def import_accounts(
    session: DbSession,
    _: RoutingApiUser,
    file: UploadFile,
    all_or_nothing: Annotated[bool, Form(description="Write nothing when a row is bad.")] = False,
) -> AccountImportOut:
    """Columns: company name (optional), domain, owner email; usual header names are recognised, `,` or `;`
    delimited, UTF-8 with or without BOM. A listed domain takes the row's name and owner. Bad rows are reported by
    line with the reason; the good ones are written unless `all_or_nothing` is set."""
    content = file.file.read(accounts.MAX_BYTES + 1)
    return AccountImportOut.of(accounts.import_csv(session, content, all_or_nothing=all_or_nothing))


@router.get("/routing/accounts/{account_id}", summary="One account")
def get_account(session: DbSession, _: RoutingApiUser, account_id: RowId) -> AccountOut:
    return AccountOut.of(session, accounts.get(session, account_id))


@router.patch("/routing/accounts/{account_id}", summary="Change an account (only what is sent)")
def update_account(session: DbSession, _: RoutingApiUser, account_id: RowId, body: AccountUpdate) -> AccountOut:
    account = accounts.update(
        session,
        accounts.get(session, account_id),
        company_name=body.company_name,
        domain=body.domain,
        owner_email=body.owner,
    )
    return AccountOut.of(session, account)


@router.delete("/routing/accounts/{account_id}", summary="Remove an account")
def delete_account(lineup: Lineup, session: DbSession, _: RoutingApiUser, account_id: RowId) -> AccountOut:
    account = accounts.get(session, account_id)
    shown = AccountOut.of(session, account)
    accounts.remove(session, account)
    return shown


# --- rules ----------------------------------------------------------------------------------------------------


def _agents(session: Session, emails: list[str] | None) -> list[Agent] | None:
    return None if emails is None else teams.agents_for_emails(session, emails)


@router.get("/routing/rules", summary="Routing rules in the order they are tried")
def list_rules(lineup: Lineup, session: DbSession, _: RoutingApiUser) -> list[RuleOut]:
    return [RuleOut.of(session, lineup, rule) for rule in rules.list_rules(session)]


@router.post("/routing/rules", status_code=201, summary="Create a routing rule")
def create_rule(lineup: Lineup, session: DbSession, _: RoutingApiUser, body: RuleCreate) -> RuleOut:
    rule = rules.create(
        session,
        body.key,
        body.name,
        body.conditions,
        teams.agents_for_emails(session, body.agents),
        description=body.description,
        priority=body.priority,
    )
    return RuleOut.of(session, lineup, rule)


@router.put("/routing/rules/order", summary="Set the order rules are tried in (priorities become 10, 20, ...)")
def reorder_rules(lineup: Lineup, session: DbSession, _: RoutingApiUser, body: RuleOrder) -> list[RuleOut]:
    return [RuleOut.of(session, lineup, rule) for rule in rules.reorder(session, body.keys)]


@router.get("/routing/rules/{key}", summary="One routing rule")
def get_rule(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key) -> RuleOut:
    return RuleOut.of(session, lineup, rules.get(session, key))


@router.patch("/routing/rules/{key}", summary="Change a routing rule (only what is sent)")
def update_rule(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key, body: RuleUpdate) -> RuleOut:
    rule = rules.update(
        session,
        rules.get(session, key),
        name=body.name,
        description=body.description,
        priority=body.priority,
        conditions=body.conditions,
        agents=_agents(session, body.agents),
    )
    return RuleOut.of(session, lineup, rule)


@router.delete("/routing/rules/{key}", summary="Delete a routing rule and its rotation")
def delete_rule(lineup: Lineup, session: DbSession, _: RoutingApiUser, key: Key) -> RuleOut:
    rule = rules.get(session, key)
    shown = RuleOut.of(session, lineup, rule)
    rules.delete(session, rule)
    return shown


# --- meeting types --------------------------------------------------------------------------------------------


@router.get("/routing/meeting-types", summary="Meeting types, by name")
def list_meeting_types(session: DbSession, _: RoutingApiUser) -> list[MeetingTypeOut]:
    return [MeetingTypeOut.of(session, row) for row in meeting_types.list_types(session)]


@router.post("/routing/meeting-types", status_code=201, summary="Create a meeting type")
def create_meeting_type(session: DbSession, _: RoutingApiUser, body: MeetingTypeCreate) -> MeetingTypeOut:
    values = body.model_dump(exclude={"key"}, exclude_unset=True)
    return MeetingTypeOut.of(session, meeting_types.create(session, body.key, values))


@router.get("/routing/meeting-types/{key}", summary="One meeting type")
def get_meeting_type(session: DbSession, _: RoutingApiUser, key: Key) -> MeetingTypeOut:
    return MeetingTypeOut.of(session, meeting_types.get(session, key))


@router.patch("/routing/meeting-types/{key}", summary="Change a meeting type (only what is sent)")
def update_meeting_type(session: DbSession, _: RoutingApiUser, key: Key, body: MeetingTypeUpdate) -> MeetingTypeOut:
    row = meeting_types.update(session, meeting_types.get(session, key), body.model_dump(exclude_unset=True))
    return MeetingTypeOut.of(session, row)


@router.delete("/routing/meeting-types/{key}", summary="Delete a meeting type")
def delete_meeting_type(session: DbSession, _: RoutingApiUser, key: Key) -> MeetingTypeOut:
    row = meeting_types.get(session, key)
    shown = MeetingTypeOut.of(session, row)
    meeting_types.delete(session, row)
    return shown
