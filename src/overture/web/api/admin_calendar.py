"""Admin API: the Calendar area. Agents and their calendar connections, as the Calendar page shows them: list the
agents, set one up, change their availability settings, connect a calendar by a form (built-in, CalDAV), start a
connection through a provider's consent page (Google, Microsoft: the agent finishes it in the browser), disconnect.
The providers, their forms' fields and the bodies that carry them come from calendars/registry.py.

An agent's token reaches their own profile only; admins' and sales admins' tokens reach every agent.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, Field, create_model
from sqlalchemy.orm import Session

from overture.calendars import connections, registry
from overture.calendars.accounts import ConnectForm
from overture.calendars.models import CalendarConnection
from overture.db import utcnow
from overture.scheduling import agents
from overture.scheduling.agents import AgentSettingsChanges, AgentSettingsIn
from overture.scheduling.models import Agent
from overture.users.models import User
from overture.web.context import AppContext
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import CalendarApiUser
from overture.web.shared_transaction import outside_transaction

router = APIRouter(prefix="/api/v1/admin", tags=["calendar"], responses=API_ERROR_RESPONSES)
OAuthProvider = Annotated[
    str,
    Path(
        pattern=registry.pattern(registry.with_consent()),
        description="The OAuth calendar provider: " + ", ".join(registry.with_consent()) + ".",
    ),
]


class CalendarStatus(BaseModel):
    """An agent's calendar as routing sees it. `problem` says what needs attention (routing skips the agent)."""

    status: agents.Status
    connected: bool
    provider: str | None = None
    description: str | None = Field(None, description='In words, e.g. "Microsoft Outlook (rep@contoso.com)".')
    account: dict[str, str] = Field(default_factory=dict, description="What may be shown: URL, user name, mailbox.")
    connected_at: datetime | None = None
    checked_at: datetime | None = None
    problem: str | None = None
    problem_since: datetime | None = None

    @classmethod
    def of(cls, agent: Agent | None, connection: CalendarConnection | None) -> CalendarStatus:
        found = cls(
            status=agents.status_of(agent, connection),
            connected=connection is not None,
            problem=agent.attention if agent is not None else None,
            problem_since=agent.attention_since if agent is not None else None,
        )
        if connection is not None:
            found.provider = connection.provider
            found.description = connections.describe(connection)
            found.account = connections.details(connection)
            found.connected_at = connection.connected_at
            found.checked_at = connection.checked_at
        return found


class AgentSummary(BaseModel):
    """A user with the agent role. `id` is None until their profile is set up (POST /agents)."""

    id: int | None
    user_id: int
    email: str
    name: str
    calendar: CalendarStatus


class AgentPublic(AgentSummary):
    settings: AgentSettingsIn


class AgentCreate(BaseModel):
    user_id: int = Field(ge=1, le=2_147_483_647, description="A user with the agent role.")


def _form_body(name: str, form: ConnectForm) -> type[BaseModel]:
    """The body that connects a provider by its form: `provider` and the form's fields, named after the provider's
    label ("CalDAV calendar": CalDAVCalendarIn)."""
    fields: dict[str, Any] = {"provider": (Literal[name], ...)}
    for field in form.fields:
        about = field.about or None
        if field.required:
            fields[field.name] = (str, Field(max_length=field.limit, description=about))
        else:
            fields[field.name] = (str | None, Field(None, max_length=field.limit, description=about))
    title = re.sub(r"\W", "", registry.label(name).split()[0])
    body: type[BaseModel] = create_model(f"{title}CalendarIn", **fields)
    return body


# One body per provider connected by a form, told apart by `provider`.
CalendarIn: Any = Annotated[
    Union[tuple(_form_body(name, form) for name, form in registry.with_form().items())],  # noqa: UP007
    Field(discriminator="provider"),
]


class ConsentLink(BaseModel):
    consent_url: str = Field(description="Open it in the agent's browser; the provider sends them back to Overture.")


def summary(user: User, agent: Agent | None, connection: CalendarConnection | None) -> AgentSummary:
    return AgentSummary(
        id=agent.id if agent is not None else None,
        user_id=user.id,
        email=user.email,
        name=agent.name if agent is not None else (user.name or user.email),
        calendar=CalendarStatus.of(agent, connection),
    )


def public(session: Session, agent: Agent) -> AgentPublic:
    connection = connections.connection_of(session, agent.id)
    return AgentPublic(**summary(agent.user, agent, connection).model_dump(), settings=agents.settings_of(agent))


@router.get("/agents", summary="List the agents and the state of their calendars (an agent: themselves)")
def list_agents(session: DbSession, user: CalendarApiUser) -> list[AgentSummary]:
    only = None if user.role in agents.MANAGERS else user
    return [summary(row.user, row.agent, row.connection) for row in agents.listing(session, only)]


@router.post("/agents", status_code=201, summary="Set up the agent profile of a user with the agent role")
def create_agent(session: DbSession, user: CalendarApiUser, body: AgentCreate) -> AgentPublic:
    agent = agents.ensure_agent(session, agents.user_to_set_up(session, user, body.user_id))
    return public(session, agent)


@router.get("/agents/{agent_id}", summary="One agent, with their settings and calendar")
def get_agent(session: DbSession, user: CalendarApiUser, agent_id: RowId) -> AgentPublic:
    return public(session, agents.agent_for(session, user, agent_id))


@router.patch("/agents/{agent_id}/settings", summary="Change an agent's settings (only those sent)")
def update_settings(
    session: DbSession,
    user: CalendarApiUser,
    agent_id: RowId,
    changes: Annotated[
        AgentSettingsChanges,
        Body(description="Any settings of `AgentPublic.settings`; those left out keep their value."),
    ],
) -> AgentPublic:
    agent = agents.agent_for(session, user, agent_id)
    agents.update_settings(session, agent, agents.changed_settings(agent, changes.sent()))
    return public(session, agent)


@router.get("/agents/{agent_id}/calendar", summary="An agent's calendar connection")
def get_calendar(session: DbSession, user: CalendarApiUser, agent_id: RowId) -> CalendarStatus:
    agent = agents.agent_for(session, user, agent_id)
    return CalendarStatus.of(agent, connections.connection_of(session, agent.id))


@router.put("/agents/{agent_id}/calendar", summary="Connect a calendar by its provider's form (checked first)")
def connect_calendar(
    request: Request,
    session: DbSession,
    user: CalendarApiUser,
    agent_id: RowId,
    body: CalendarIn,  # built from the registry
) -> CalendarStatus:
    context: AppContext = request.app.state.context
    world = context.calendar_world
    agent = agents.agent_for(session, user, agent_id)
    sent: BaseModel = body
    given = {name: value or "" for name, value in sent.model_dump(exclude={"provider"}).items()}
    provider = str(getattr(sent, "provider"))  # noqa: B009 (the bodies are made at run time)
    # Checked over the network with no transaction open (never hold SQLite's write lock during a network call).
    account = outside_transaction(session, lambda: connections.check_account(world, provider, given))
    connection = agents.connect(session, agent, account, secret_key=context.secret_key, now=utcnow())
    return CalendarStatus.of(agent, connection)


@router.post(
    "/agents/{agent_id}/calendar/oauth/{provider}",
    summary="Start connecting a calendar through its provider's consent page",
)
def start_oauth(
    request: Request, session: DbSession, user: CalendarApiUser, agent_id: RowId, provider: OAuthProvider
) -> ConsentLink:
    agent = agents.agent_for(session, user, agent_id)
    return ConsentLink(consent_url=agents.start_oauth(request.app.state.context.calendar_world, user, agent, provider))


@router.delete("/agents/{agent_id}/calendar", summary="Disconnect an agent's calendar (they need attention after)")
def disconnect_calendar(request: Request, session: DbSession, user: CalendarApiUser, agent_id: RowId) -> CalendarStatus:
    context: AppContext = request.app.state.context
    agent = agents.agent_for(session, user, agent_id)
    agents.disconnect(session, agent, by=user, now=utcnow(), base_url=context.settings.base_url)
    return CalendarStatus.of(agent, None)
