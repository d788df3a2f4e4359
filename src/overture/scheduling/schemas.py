"""The shapes of the routing API (agents, teams, account owners, rules, meeting types): what it accepts and what it
answers, with the services' values turned into them (`of`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from overture.scheduling import accounts, meeting_types, rules, teams
from overture.scheduling.lineup import SkipReasons
from overture.scheduling.models import AccountOwner, MeetingType, RoutingRule, Team

Email = Annotated[str, Field(min_length=3, max_length=254, examples=["ann@example.com"])]


# Outer limits only; the service names the allowed range of each setting.
Setting = Annotated[int | None, Field(ge=-1_000_000, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class BookingLinkOut(BaseModel):
    """A signed booking link for one known person (docs/meetings.md, "Booking links")."""

    url: str = Field(examples=["https://chat.example.com/book/sales?p=42.1767225600&sig=..."])
    expires_at: datetime
    person_id: int
