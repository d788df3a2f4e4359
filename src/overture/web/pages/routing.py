"""The Routing page: each team's agents in rotation order with who is next (read from the database at every view),
moving, pausing and removing them, team settings; account owners (one at a time or by CSV upload, with the bad rows
reported); routing rules; meeting types. Sales admins and admins only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Form, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.yaml_io import dump_yaml, load_yaml
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.scheduling import accounts, booking_links, lineup, meeting_types, rules, teams
from overture.scheduling.models import TEAM_MODES, Agent, RoutingRule, Team
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import DbSession, RowId
from overture.web.guards import RoutingPageUser
from overture.web.pages.forms import MeetingLimitsForm, Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, redirect, render, succeeded

router = page_router()
Key = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN)]
PAGE = "/admin/routing"
MODE_LABELS = {
    "strict": "Strict: the visitor sees the next agent's free times",
    "availability": "Availability: the visitor sees every member's free times; the first free one gets the meeting",
}
EXAMPLE_CONDITIONS = (
    "all:\n"
    "  - {field: company.employees, op: gte, value: 1000}\n"
    "  - {field: company.country, op: in, value: [US, CA]}\n"
)


# --- the forms: each declared once, with its limits; a refused form shows its values again as typed --------------


class TeamForm(BaseModel):
    name: str = Field("", max_length=200)
    mode: str = Field("", max_length=20)
    credit_back: bool = False


class NewTeamForm(TeamForm):
    key: str = Field("", max_length=80)
    mode: str = Field("strict", max_length=20)


class AccountForm(BaseModel):
    company_name: str = Field("", max_length=200)
    domain: str = Field("", max_length=2000)
    owner: str = Field("", max_length=254)


class RuleForm(BaseModel):
    name: str = Field("", max_length=200)
    description: str = Field("", max_length=1000)
    # As typed: _priority reads it, so that a priority that is not a number is named with the form's other problems.
    priority: str = Field("", max_length=20)
    conditions: str = Field("", max_length=20_000)
    agents: list[int] = []


class NewRuleForm(RuleForm):
    key: str = Field("", max_length=80)
    priority: str = Field("100", max_length=20)


class NewMeetingTypeForm(BaseModel):
    key: str = Field("", max_length=80)
    name: str = Field("", max_length=200)


class MeetingTypeForm(MeetingLimitsForm):
    """The meeting type's settings as typed: an empty limit keeps the agent's own value (see _number)."""

    name: str = Field("", max_length=200)
    team: str = Field("", max_length=80)


def _agent_ids(session: Session, ids: list[int]) -> list[Agent]:
    return [teams.get_agent(session, agent_id) for agent_id in ids]


# --- the page ---------------------------------------------------------------------------------------------------


def _skip_reasons(request: Request) -> lineup.SkipReasons:
    """Why booking would pass each agent over now: read before the page's own queries (it may read calendars)."""
    return lineup.skip_reasons(request.app.state.context.calendar_world, utcnow())


def _overview(session: Session, reasons: lineup.SkipReasons) -> dict[str, Any]:
    agents = teams.list_agents(session)
    by_id = {agent.id: agent for agent in agents}
    return {
        "teams": [teams.info(session, team, reasons) for team in teams.list_teams(session)],
        "agents": agents,
        "accounts": [(account, by_id.get(account.agent_id)) for account in accounts.list_accounts(session)],
        "rules": [
            (rule, rules.described(rule), teams.info(session, rules.team_of(session, rule), reasons))
            for rule in rules.list_rules(session)
        ],
        "meeting_types": [(row, meeting_types.team_key(session, row)) for row in meeting_types.list_types(session)],
        "modes": TEAM_MODES,
        "mode_labels": MODE_LABELS,
        "booking_slug": booking_links.slug_of,
    }


def _page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    forms: dict[str, dict[str, Any]] = {"team_form": {}, "account_form": {}, "type_form": {}}
    return render(
        request, "admin/routing.html", user, status=status, active_area=Area.routing,
        **{**_overview(session, _skip_reasons(request)), **forms, **extra},
    )  # fmt: skip


@router.get(PAGE)
def routing_page(request: Request, session: DbSession, user: RoutingPageUser) -> Response:
    return _page(request, session, user)


# --- teams ------------------------------------------------------------------------------------------------------


@router.post(PAGE + "/teams")
def add_team(request: Request, session: DbSession, user: RoutingPageUser, form: Posted[NewTeamForm]) -> Response:
    try:
        team = teams.create(session, form.key, form.name, form.mode, form.credit_back)
    except (InvalidInput, Conflict) as exc:
        return _page(request, session, user, **refuse(session, exc, form.model_dump()).shown("team_"))
    return succeeded(request, f"The team '{team.name}' is created. Add its agents below.", f"{PAGE}#team-{team.key}")


def _team_page(request: Request, session: Session, user: User, team: Team, status: int = 200, **extra: Any) -> Response:
    form = {"name": team.name, "mode": team.mode, "credit_back": team.credit_back}
    return render(
        request, "admin/routing_team.html", user, status=status, active_area=Area.routing,
        info=teams.info(session, team, _skip_reasons(request)), naming=teams.dialogues_naming(session, team.key),
        modes=TEAM_MODES, mode_labels=MODE_LABELS, **{"form": form, **extra},
    )  # fmt: skip


@router.get(PAGE + "/teams/{key}")
def team_page(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    return _team_page(request, session, user, teams.get(session, key))


@router.post(PAGE + "/teams/{key}")
def save_team(
    request: Request, session: DbSession, user: RoutingPageUser, key: Key, form: Posted[TeamForm]
) -> Response:
    team = teams.get(session, key)
    try:
        teams.update(session, team, name=form.name, mode=form.mode, credit_back=form.credit_back)
    except InvalidInput as exc:
        refused = refuse(session, exc, form.model_dump())
        return _team_page(request, session, user, teams.get(session, key), **refused.shown())  # the team as stored
    return succeeded(request, f"The settings of '{team.name}' are saved.", f"{PAGE}/teams/{key}")


@router.post(PAGE + "/teams/{key}/delete")
def delete_team(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    team = teams.get(session, key)
    try:
        teams.delete(session, team)
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}/teams/{key}")
    return succeeded(request, f"The team '{team.name}' is deleted.", PAGE)


def _member_change(request: Request, session: Session, key: str, change: Any, done: str) -> Response:
    """Runs `change(team)`; a refusal (a race with a booking, a member already gone) is shown, not an error page."""
    team = teams.get(session, key)
    try:
        change(team)
    except (InvalidInput, Conflict, NotFound) as exc:
        return refuse_with_flash(request, session, exc, f"{PAGE}#team-{key}")
    return succeeded(request, done, f"{PAGE}#team-{key}")


@router.post(PAGE + "/teams/{key}/members")
def add_member(
    request: Request,
    session: DbSession,
    user: RoutingPageUser,
    key: Key,
    agent_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    agent = teams.get_agent(session, agent_id)
    return _member_change(
        request, session, key, lambda team: teams.add_agent(session, team, agent),
        f"{agent.name} joins the rotation at the end.",
    )  # fmt: skip


@router.post(PAGE + "/teams/{key}/members/{agent_id}/move")
def move_member(
    request: Request,
    session: DbSession,
    user: RoutingPageUser,
    key: Key,
    agent_id: RowId,
    direction: Annotated[Literal["up", "down"], Form()],
) -> Response:
    agent = teams.get_agent(session, agent_id)
    return _member_change(
        request, session, key, lambda team: teams.move(session, team, agent_id, -1 if direction == "up" else 1),
        f"{agent.name} moved {direction}.",
    )  # fmt: skip


@router.post(PAGE + "/teams/{key}/members/{agent_id}/pause")
def pause_member(
    request: Request,
    session: DbSession,
    user: RoutingPageUser,
    key: Key,
    agent_id: RowId,
    paused: Annotated[bool, Form()],
) -> Response:
    agent = teams.get_agent(session, agent_id)
    done = f"{agent.name} is paused: skipped, keeping their place." if paused else f"{agent.name} is back in turn."
    return _member_change(request, session, key, lambda team: teams.set_paused(session, team, agent_id, paused), done)


@router.post(PAGE + "/teams/{key}/members/{agent_id}/remove")
def remove_member(request: Request, session: DbSession, user: RoutingPageUser, key: Key, agent_id: RowId) -> Response:
    agent = teams.get_agent(session, agent_id)
    return _member_change(
        request, session, key, lambda team: teams.remove_agent(session, team, agent_id),
        f"{agent.name} is out of the rotation.",
    )  # fmt: skip


# --- accounts ---------------------------------------------------------------------------------------------------


@router.post(PAGE + "/accounts")
def add_account(request: Request, session: DbSession, user: RoutingPageUser, form: Posted[AccountForm]) -> Response:
    try:
        account = accounts.add(session, form.company_name, form.domain, form.owner)
    except (InvalidInput, Conflict) as exc:
        return _page(request, session, user, **refuse(session, exc, form.model_dump()).shown("account_"))
    return succeeded(request, f"{account.company_name} ({account.domain}) is added.", f"{PAGE}#accounts")


@router.post(PAGE + "/accounts/import")
def import_accounts(
    request: Request,
    session: DbSession,
    user: RoutingPageUser,
    file: UploadFile,
    all_or_nothing: Annotated[bool, Form()] = False,
) -> Response:
    try:
        report = accounts.import_csv(session, file.file.read(accounts.MAX_BYTES + 1), all_or_nothing=all_or_nothing)
    except InvalidInput as exc:
        return _page(request, session, user, **refuse(session, exc, {}).shown("import_"))
    # The report is the answer itself (not a flash): its table of bad rows can be long.
    return _page(request, session, user, report=report)


def _account_page(request: Request, session: Session, user: User, account_id: int, **extra: Any) -> Response:
    account = accounts.get(session, account_id)
    owner = teams.agent_infos(session, [account.agent_id]).get(account.agent_id)
    form = {"company_name": account.company_name, "domain": account.domain, "owner": owner.email if owner else ""}
    status = extra.pop("status", 200)
    return render(
        request, "admin/routing_account.html", user, status=status, active_area=Area.routing, account=account,
        agents=teams.list_agents(session), **{"form": form, **extra},
    )  # fmt: skip


@router.get(PAGE + "/accounts/{account_id}")
def account_page(request: Request, session: DbSession, user: RoutingPageUser, account_id: RowId) -> Response:
    return _account_page(request, session, user, account_id)


@router.post(PAGE + "/accounts/{account_id}")
def save_account(
    request: Request, session: DbSession, user: RoutingPageUser, account_id: RowId, form: Posted[AccountForm]
) -> Response:
    account = accounts.get(session, account_id)
    try:
        accounts.update(session, account, company_name=form.company_name, domain=form.domain, owner_email=form.owner)
    except (InvalidInput, Conflict) as exc:
        return _account_page(request, session, user, account_id, **refuse(session, exc, form.model_dump()).shown())
    return succeeded(request, "The account is saved.", f"{PAGE}#accounts")


@router.post(PAGE + "/accounts/{account_id}/delete")
def delete_account(request: Request, session: DbSession, user: RoutingPageUser, account_id: RowId) -> Response:
    account = accounts.get(session, account_id)
    accounts.remove(session, account)
    return succeeded(request, f"{account.company_name} ({account.domain}) is removed.", f"{PAGE}#accounts")


# --- rules ------------------------------------------------------------------------------------------------------


def _rule_page(
    request: Request, session: Session, user: User, rule: RoutingRule | None, status: int = 200, **extra: Any
) -> Response:
    form: dict[str, Any] = {"priority": 100, "conditions": EXAMPLE_CONDITIONS, "agents": []}
    info = None
    if rule is not None:
        info = teams.info(session, rules.team_of(session, rule), _skip_reasons(request))
        form = {
            "name": rule.name,
            "description": rule.description,
            "priority": rule.priority,
            "conditions": dump_yaml(rule.conditions),
            "agents": [m.agent.id for m in info.members],
        }
    return render(
        request, "admin/routing_rule.html", user, status=status, active_area=Area.routing, rule=rule, info=info,
        agents=teams.list_agents(session), **{"form": form, **extra},
    )  # fmt: skip


def _read_conditions(text: str) -> Any:
    data, problems = load_yaml(text)
    if problems:
        raise InvalidInput(
            "The conditions cannot be read.", [Problem("conditions", f"{p.path}: {p.message}") for p in problems]
        )
    return data


def _priority(text: str) -> int:
    """The typed priority; -1 when it is not a number, so that the service names it along with every other
    problem of the form."""
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 7 else -1


@router.get(PAGE + "/new-rule")
def new_rule_page(request: Request, session: DbSession, user: RoutingPageUser) -> Response:
    return _rule_page(request, session, user, None)


@router.get(PAGE + "/rules/{key}")
def rule_page(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    return _rule_page(request, session, user, rules.get(session, key))


@router.post(PAGE + "/rules")
def add_rule(request: Request, session: DbSession, user: RoutingPageUser, form: Posted[NewRuleForm]) -> Response:
    try:
        chosen = _agent_ids(session, form.agents)
        rule = rules.create(
            session, form.key, form.name, _read_conditions(form.conditions), chosen, description=form.description,
            priority=_priority(form.priority),
        )  # fmt: skip
    except (InvalidInput, Conflict, NotFound) as exc:
        return _rule_page(request, session, user, None, **refuse(session, exc, form.model_dump()).shown())
    return succeeded(request, f"The rule '{rule.name}' is created.", f"{PAGE}#rules")


@router.post(PAGE + "/rules/{key}")
def save_rule(
    request: Request, session: DbSession, user: RoutingPageUser, key: Key, form: Posted[RuleForm]
) -> Response:
    rule = rules.get(session, key)
    try:
        rules.update(
            session, rule, name=form.name, description=form.description, priority=_priority(form.priority),
            conditions=_read_conditions(form.conditions), agents=_agent_ids(session, form.agents),
        )  # fmt: skip
    except (InvalidInput, Conflict, NotFound) as exc:
        refused = refuse(session, exc, form.model_dump())
        return _rule_page(request, session, user, rules.get(session, key), **refused.shown())
    return succeeded(request, f"The rule '{rule.name}' is saved.", f"{PAGE}#rules")


@router.post(PAGE + "/rules/{key}/move")
def move_rule(
    request: Request,
    session: DbSession,
    user: RoutingPageUser,
    key: Key,
    direction: Annotated[Literal["up", "down"], Form()],
) -> Response:
    order = [rule.key for rule in rules.list_rules(session)]
    if key not in order:
        raise NotFound(f"There is no routing rule '{key}'.")
    index = order.index(key)
    order.insert(max(0, min(len(order) - 1, index + (-1 if direction == "up" else 1))), order.pop(index))
    rules.reorder(session, order)
    return redirect(f"{PAGE}#rules")


@router.post(PAGE + "/rules/{key}/delete")
def delete_rule(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    rule = rules.get(session, key)
    rules.delete(session, rule)
    return succeeded(request, f"The rule '{rule.name}' is deleted.", f"{PAGE}#rules")


# --- meeting types ----------------------------------------------------------------------------------------------


@router.post(PAGE + "/meeting-types")
def add_meeting_type(
    request: Request, session: DbSession, user: RoutingPageUser, form: Posted[NewMeetingTypeForm]
) -> Response:
    try:
        row = meeting_types.create(session, form.key, {"name": form.name})
    except (InvalidInput, Conflict) as exc:
        return _page(request, session, user, **refuse(session, exc, form.model_dump()).shown("type_"))
    return succeeded(
        request, f"The meeting type '{row.name}' is created: set its values.", f"{PAGE}/meeting-types/{row.key}"
    )


def _type_page(request: Request, session: Session, user: User, key: str, **extra: Any) -> Response:
    row = meeting_types.get(session, key)
    form: dict[str, Any] = {name: getattr(row, name) for name in meeting_types.LIMITS}
    form.update(name=row.name, team=meeting_types.team_key(session, row) or "")
    status = extra.pop("status", 200)
    return render(
        request, "admin/routing_meeting_type.html", user, status=status, active_area=Area.routing, row=row,
        teams=teams.list_teams(session), limits=meeting_types.LIMITS, labels=meeting_types.LABELS,
        **{"form": form, **extra},
    )  # fmt: skip


@router.get(PAGE + "/meeting-types/{key}")
def meeting_type_page(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    return _type_page(request, session, user, key)


def _number(text: str) -> int | str | None:
    """A form's number: empty is None (the agent's own value); anything else as typed for the service to judge."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.lstrip("-").isdigit() and len(text) < 12 else text


@router.post(PAGE + "/meeting-types/{key}")
def save_meeting_type(
    request: Request, session: DbSession, user: RoutingPageUser, key: Key, form: Posted[MeetingTypeForm]
) -> Response:
    typed = form.model_dump()
    values: dict[str, Any] = {"name": form.name, "team": form.team or None}
    values.update({setting: _number(typed[setting]) for setting in meeting_types.LIMITS})
    try:
        meeting_types.update(session, meeting_types.get(session, key), values)
    except InvalidInput as exc:
        return _type_page(request, session, user, key, **refuse(session, exc, typed).shown())
    return succeeded(request, "The meeting type is saved.", f"{PAGE}#meeting-types")


@router.post(PAGE + "/meeting-types/{key}/delete")
def delete_meeting_type(request: Request, session: DbSession, user: RoutingPageUser, key: Key) -> Response:
    row = meeting_types.get(session, key)
    meeting_types.delete(session, row)
    return succeeded(request, f"The meeting type '{row.name}' is deleted.", f"{PAGE}#meeting-types")
