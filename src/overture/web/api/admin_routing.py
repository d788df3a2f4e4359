"""Admin API: the Routing area. Everything the Routing page does: teams and their rotation (order, pause, remove,
who is next), account owners (one at a time or a CSV upload with its bad rows), routing rules and meeting types.
Agents are named by email in request bodies and by id in paths; answers give both."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.scheduling import accounts, meeting_types, rules, teams
from overture.scheduling.lineup import SkipReasons, skip_reasons
from overture.scheduling.models import AccountOwner, Agent, MeetingType, RoutingRule, Team
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import AreaGuard, Context, DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/admin", tags=["routing"], responses=API_ERROR_RESPONSES)
Router = Annotated[User, Depends(AreaGuard(Area.routing, api=True))]
Key = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The key.")]
Email = Annotated[str, Field(min_length=3, max_length=254, examples=["ann@example.com"])]
# Outer limits only; the service names the allowed range of each setting.
Setting = Annotated[int | None, Field(ge=-1_000_000, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- agents and teams -----------------------------------------------------------------------------------------


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    active: bool
    calendar: str | None = Field(description="The calendar provider; null when no calendar is connected.")
    attention: str | None = Field(description="Why routing skips the agent (their calendar failed); null if fine.")

    @classmethod
    def of(cls, info: teams.AgentInfo) -> AgentOut:
        return cls(**vars(info))


def _lineup(context: Context) -> SkipReasons:
    """Why booking would pass each agent over now; a dependency, so it runs (it may read calendars) before the
    route's own transaction."""
    return skip_reasons(context.calendar_world, utcnow())


Lineup = Annotated[SkipReasons, Depends(_lineup)]


class MemberOut(BaseModel):
    agent: AgentOut
    position: int = Field(description="1 for the first in rotation order.")
    paused: bool = Field(description="Skipped by routing; keeps their place.")
    credits: int = Field(description="Turns given back (credit back) not yet used.")
    is_next: bool = Field(description="Would get a meeting booked now (booking's own rules).")
    skipped: str | None = Field(
        description="Why booking would pass them over now (paused, no calendar, out of office, no free time...)."
    )


class TeamOut(BaseModel):
    key: str
    name: str
    mode: str = Field(description="strict: the visitor sees the next agent's slots; availability: any member's.")
    credit_back: bool
    next_agent_id: int | None = Field(description="Who would get a meeting booked now; null when nobody is free.")
    members: list[MemberOut] = Field(description="In rotation order.")

    @classmethod
    def of(cls, session: Session, lineup: SkipReasons, team: Team) -> TeamOut:
        info = teams.info(session, team, lineup)
        return cls(
            key=team.key,
            name=team.name,
            mode=team.mode,
            credit_back=team.credit_back,
            next_agent_id=info.next_agent_id,
            members=[
                MemberOut(agent=AgentOut.of(m.agent), position=m.position, paused=m.paused, credits=m.credits,
                          is_next=m.is_next, skipped=m.skipped)
                for m in info.members
            ],
        )  # fmt: skip


class TeamCreate(Strict):
    key: str = Field(max_length=80, description="What book_meeting cards name in team:.", examples=["sales"])
    name: str = Field(max_length=200, examples=["Sales"])
    mode: str = Field(default="strict", max_length=20, description="strict or availability.")
    credit_back: bool = Field(
        default=False, description="A cancelled, no-show or reassigned meeting gives the turn back."
    )


class TeamUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    mode: str | None = Field(default=None, max_length=20)
    credit_back: bool | None = None


class MemberAdd(Strict):
    agent: Email = Field(description="The agent's email; they join at the end of the rotation.")


class MemberUpdate(Strict):
    paused: bool


class Order(Strict):
    agents: list[Email] = Field(max_length=1000, description="Every member's email once, in the new order.")


@router.get("/routing/agents", summary="Every agent, with their calendar and whether they need attention")
def list_agents(session: DbSession, _: Router) -> list[AgentOut]:
    return [AgentOut.of(info) for info in teams.list_agents(session)]


@router.get("/routing/teams", summary="Teams, each with its members in rotation order and who is next")
def list_teams(lineup: Lineup, session: DbSession, _: Router) -> list[TeamOut]:
    return [TeamOut.of(session, lineup, team) for team in teams.list_teams(session)]


@router.post("/routing/teams", status_code=201, summary="Create a team (no members yet)")
def create_team(lineup: Lineup, session: DbSession, _: Router, body: TeamCreate) -> TeamOut:
    return TeamOut.of(session, lineup, teams.create(session, body.key, body.name, body.mode, body.credit_back))


@router.get("/routing/teams/{key}", summary="One team, its rotation and who is next")
def get_team(lineup: Lineup, session: DbSession, _: Router, key: Key) -> TeamOut:
    return TeamOut.of(session, lineup, teams.get(session, key))


@router.patch("/routing/teams/{key}", summary="Rename a team, set its mode or credit back (only what is sent)")
def update_team(lineup: Lineup, session: DbSession, _: Router, key: Key, body: TeamUpdate) -> TeamOut:
    team = teams.update(session, teams.get(session, key), name=body.name, mode=body.mode, credit_back=body.credit_back)
    return TeamOut.of(session, lineup, team)


@router.delete("/routing/teams/{key}", summary="Delete a team no dialogue books with")
def delete_team(lineup: Lineup, session: DbSession, _: Router, key: Key) -> TeamOut:
    team = teams.get(session, key)
    shown = TeamOut.of(session, lineup, team)
    teams.delete(session, team)
    return shown


@router.post("/routing/teams/{key}/members", status_code=201, summary="Add an agent at the end of the rotation")
def add_member(lineup: Lineup, session: DbSession, _: Router, key: Key, body: MemberAdd) -> TeamOut:
    team = teams.get(session, key)
    (agent,) = teams.agents_for_emails(session, [body.agent], path="agent")
    teams.add_agent(session, team, agent)
    return TeamOut.of(session, lineup, team)


@router.patch("/routing/teams/{key}/members/{agent_id}", summary="Pause (skipped, keeps their place) or resume")
def update_member(
    lineup: Lineup, session: DbSession, _: Router, key: Key, agent_id: RowId, body: MemberUpdate
) -> TeamOut:
    team = teams.get(session, key)
    teams.set_paused(session, team, agent_id, body.paused)
    return TeamOut.of(session, lineup, team)


@router.delete("/routing/teams/{key}/members/{agent_id}", summary="Take an agent out of the rotation")
def remove_member(lineup: Lineup, session: DbSession, _: Router, key: Key, agent_id: RowId) -> TeamOut:
    team = teams.get(session, key)
    teams.remove_agent(session, team, agent_id)
    return TeamOut.of(session, lineup, team)


@router.put("/routing/teams/{key}/order", summary="Set the rotation order (the pointer stays on its agent)")
def reorder_team(lineup: Lineup, session: DbSession, _: Router, key: Key, body: Order) -> TeamOut:
    team = teams.get(session, key)
    teams.set_order(session, team, [a.id for a in teams.agents_for_emails(session, body.agents)])
    return TeamOut.of(session, lineup, team)


# --- account owners -------------------------------------------------------------------------------------------


class AccountOut(BaseModel):
    id: int
    company_name: str
    domain: str
    owner: AgentOut

    @classmethod
    def of(cls, session: Session, account: AccountOwner) -> AccountOut:
        owner = teams.agent_infos(session, [account.agent_id])[account.agent_id]
        return cls(id=account.id, company_name=account.company_name, domain=account.domain, owner=AgentOut.of(owner))


class AccountCreate(Strict):
    company_name: str = Field(default="", max_length=200, description="Empty: named after the domain.")
    domain: str = Field(max_length=2000, description="acme.com (a web address gives its domain).")
    owner: Email = Field(description="The owner agent's email.")


class AccountUpdate(Strict):
    company_name: str | None = Field(default=None, max_length=200)
    domain: str | None = Field(default=None, max_length=2000)
    owner: Email | None = None


class RowProblemOut(BaseModel):
    line: int = Field(description="The file's physical line (the header is line 1).")
    column: str | None
    message: str


class AccountImportOut(BaseModel):
    rows: int
    added: int
    updated: int
    bad_lines: list[int]
    problems: list[RowProblemOut]
    columns: dict[str, str] = Field(description="Each header read, and what it was read as.")
    ignored: list[str] = Field(description="Headers that were not read.")
    written: bool = Field(description="False: nothing was changed (all-or-nothing met a bad row).")
    summary: str

    @classmethod
    def of(cls, report: accounts.AccountImport) -> AccountImportOut:
        return cls(
            rows=report.rows,
            added=report.added,
            updated=report.updated,
            bad_lines=report.bad_lines,
            problems=[RowProblemOut(line=p.line, column=p.column, message=p.message) for p in report.problems],
            columns=report.columns,
            ignored=report.ignored,
            written=report.written,
            summary=report.summary(),
        )


@router.get("/routing/accounts", summary="Accounts and their owners, by company name")
def list_accounts(session: DbSession, _: Router) -> list[AccountOut]:
    return [AccountOut.of(session, account) for account in accounts.list_accounts(session)]


@router.post("/routing/accounts", status_code=201, summary="Add an account and its owner")
def create_account(session: DbSession, _: Router, body: AccountCreate) -> AccountOut:
    return AccountOut.of(session, accounts.add(session, body.company_name, body.domain, body.owner))


@router.post("/routing/accounts/import", summary="Upload accounts from a CSV file (multipart, field `file`)")
def import_accounts(
    session: DbSession,
    _: Router,
    file: UploadFile,
    all_or_nothing: Annotated[bool, Form(description="Write nothing when a row is bad.")] = False,
) -> AccountImportOut:
    """Columns: company name (optional), domain, owner email; usual header names are recognised, `,` or `;`
    delimited, UTF-8 with or without BOM. A listed domain takes the row's name and owner. Bad rows are reported by
    line with the reason; the good ones are written unless `all_or_nothing` is set."""
    content = file.file.read(accounts.MAX_BYTES + 1)
    return AccountImportOut.of(accounts.import_csv(session, content, all_or_nothing=all_or_nothing))


@router.get("/routing/accounts/{account_id}", summary="One account")
def get_account(session: DbSession, _: Router, account_id: RowId) -> AccountOut:
    return AccountOut.of(session, accounts.get(session, account_id))


@router.patch("/routing/accounts/{account_id}", summary="Change an account (only what is sent)")
def update_account(session: DbSession, _: Router, account_id: RowId, body: AccountUpdate) -> AccountOut:
    account = accounts.update(
        session,
        accounts.get(session, account_id),
        company_name=body.company_name,
        domain=body.domain,
        owner_email=body.owner,
    )
    return AccountOut.of(session, account)


@router.delete("/routing/accounts/{account_id}", summary="Remove an account")
def delete_account(lineup: Lineup, session: DbSession, _: Router, account_id: RowId) -> AccountOut:
    account = accounts.get(session, account_id)
    shown = AccountOut.of(session, account)
    accounts.remove(session, account)
    return shown


# --- rules ----------------------------------------------------------------------------------------------------


class RuleOut(BaseModel):
    key: str
    name: str
    description: str
    priority: int = Field(description="Lower is tried first.")
    conditions: dict[str, Any] = Field(description="A CONDITION of the dialogue grammar over person/company fields.")
    team: TeamOut = Field(description="The rule's own rotation of its agents.")

    @classmethod
    def of(cls, session: Session, lineup: SkipReasons, rule: RoutingRule) -> RuleOut:
        return cls(
            key=rule.key,
            name=rule.name,
            description=rule.description,
            priority=rule.priority,
            conditions=rule.conditions,
            team=TeamOut.of(session, lineup, rules.team_of(session, rule)),
        )


CONDITION_EXAMPLE = {"field": "company.employees", "op": "gte", "value": 1000}


class RuleCreate(Strict):
    key: str = Field(max_length=80, examples=["enterprise"])
    name: str = Field(max_length=200, examples=["Enterprise accounts"])
    description: str = Field(default="", max_length=1000)
    priority: int = Field(default=100, ge=0, le=rules.PRIORITY_LIMIT)
    conditions: dict[str, Any] = Field(examples=[CONDITION_EXAMPLE])
    agents: list[Email] = Field(max_length=1000, description="The agents' emails, in rotation order.")


class RuleUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    priority: int | None = Field(default=None, ge=0, le=rules.PRIORITY_LIMIT)
    conditions: dict[str, Any] | None = None
    agents: list[Email] | None = Field(
        default=None, max_length=1000, description="Those who stay keep their place; newcomers join at the end."
    )


class RuleOrder(Strict):
    keys: list[Annotated[str, Field(max_length=80)]] = Field(max_length=1000, description="Every rule's key once.")


def _agents(session: Session, emails: list[str] | None) -> list[Agent] | None:
    return None if emails is None else teams.agents_for_emails(session, emails)


@router.get("/routing/rules", summary="Routing rules in the order they are tried")
def list_rules(lineup: Lineup, session: DbSession, _: Router) -> list[RuleOut]:
    return [RuleOut.of(session, lineup, rule) for rule in rules.list_rules(session)]


@router.post("/routing/rules", status_code=201, summary="Create a routing rule")
def create_rule(lineup: Lineup, session: DbSession, _: Router, body: RuleCreate) -> RuleOut:
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
def reorder_rules(lineup: Lineup, session: DbSession, _: Router, body: RuleOrder) -> list[RuleOut]:
    return [RuleOut.of(session, lineup, rule) for rule in rules.reorder(session, body.keys)]


@router.get("/routing/rules/{key}", summary="One routing rule")
def get_rule(lineup: Lineup, session: DbSession, _: Router, key: Key) -> RuleOut:
    return RuleOut.of(session, lineup, rules.get(session, key))


@router.patch("/routing/rules/{key}", summary="Change a routing rule (only what is sent)")
def update_rule(lineup: Lineup, session: DbSession, _: Router, key: Key, body: RuleUpdate) -> RuleOut:
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
def delete_rule(lineup: Lineup, session: DbSession, _: Router, key: Key) -> RuleOut:
    rule = rules.get(session, key)
    shown = RuleOut.of(session, lineup, rule)
    rules.delete(session, rule)
    return shown


# --- meeting types --------------------------------------------------------------------------------------------


class MeetingTypeOut(BaseModel):
    key: str
    name: str
    duration_minutes: int | None
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    notice_minutes: int | None
    horizon_days: int | None
    step_minutes: int | None
    daily_max: int | None
    team: str | None = Field(description="The team that takes it when the card names none.")

    @classmethod
    def of(cls, session: Session, row: MeetingType) -> MeetingTypeOut:
        values = {name: getattr(row, name) for name in meeting_types.LIMITS}
        return cls(key=row.key, name=row.name, team=meeting_types.team_key(session, row), **values)


class MeetingTypeSettings(Strict):
    """Settings left out stay as they are; null means "the agent's own setting" (team: none)."""

    duration_minutes: Setting = None
    buffer_before_minutes: Setting = None
    buffer_after_minutes: Setting = None
    notice_minutes: Setting = None
    horizon_days: Setting = None
    step_minutes: Setting = None
    daily_max: Setting = Field(default=None, description="Meetings of this type per agent and day.")
    team: str | None = Field(
        default=None, max_length=80, description="The team that takes it when the card names none."
    )


class MeetingTypeCreate(MeetingTypeSettings):
    key: str = Field(max_length=80, examples=["demo"])
    name: str = Field(max_length=200, examples=["Product demo"])


class MeetingTypeUpdate(MeetingTypeSettings):
    name: str | None = Field(default=None, max_length=200)


@router.get("/routing/meeting-types", summary="Meeting types, by name")
def list_meeting_types(session: DbSession, _: Router) -> list[MeetingTypeOut]:
    return [MeetingTypeOut.of(session, row) for row in meeting_types.list_types(session)]


@router.post("/routing/meeting-types", status_code=201, summary="Create a meeting type")
def create_meeting_type(session: DbSession, _: Router, body: MeetingTypeCreate) -> MeetingTypeOut:
    values = body.model_dump(exclude={"key"}, exclude_unset=True)
    return MeetingTypeOut.of(session, meeting_types.create(session, body.key, values))


@router.get("/routing/meeting-types/{key}", summary="One meeting type")
def get_meeting_type(session: DbSession, _: Router, key: Key) -> MeetingTypeOut:
    return MeetingTypeOut.of(session, meeting_types.get(session, key))


@router.patch("/routing/meeting-types/{key}", summary="Change a meeting type (only what is sent)")
def update_meeting_type(session: DbSession, _: Router, key: Key, body: MeetingTypeUpdate) -> MeetingTypeOut:
    row = meeting_types.update(session, meeting_types.get(session, key), body.model_dump(exclude_unset=True))
    return MeetingTypeOut.of(session, row)


@router.delete("/routing/meeting-types/{key}", summary="Delete a meeting type")
def delete_meeting_type(session: DbSession, _: Router, key: Key) -> MeetingTypeOut:
    row = meeting_types.get(session, key)
    shown = MeetingTypeOut.of(session, row)
    meeting_types.delete(session, row)
    return shown
