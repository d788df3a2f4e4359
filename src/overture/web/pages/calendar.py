"""Admin pages: the Calendar area. An agent sees their own calendar: its connection (or what needs attention), the
ways to connect one (built-in with an optional ICS feed, CalDAV, Google and Microsoft when set up), and their
availability settings. Admins and sales admins see every agent and open any agent's page.

Pages name an agent by id, or "me" for the signed-in agent (whose profile is made on their first change).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session

from overture.calendars import connections, registry
from overture.db import utcnow
from overture.errors import Conflict, InvalidInput, OvertureError
from overture.scheduling import agents
from overture.scheduling.hours import WEEKDAYS
from overture.scheduling.models import Agent
from overture.users.models import User
from overture.users.roles import Area, Role
from overture.web.context import AppContext
from overture.web.deps import DbSession
from overture.web.guards import CalendarPageUser
from overture.web.pages.forms import MeetingLimitsForm, Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, redirect, render, succeeded
from overture.web.shared_transaction import outside_transaction

router = page_router()
AgentKey = Annotated[str, Path(pattern=r"^(me|[1-9][0-9]{0,8})$", description="An agent's id, or me.")]
OAuthProvider = Annotated[str, Path(pattern=registry.pattern(registry.with_consent()))]
FormProvider = Annotated[str, Path(pattern=registry.pattern(registry.with_form()))]
PAGE = "/admin/calendar"
DAY_LABELS = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
STATUS_LABELS = {"connected": "Connected", "needs_attention": "Needs attention", "not_connected": "No calendar"}
STATUS_CLASSES = {"connected": "status-published", "needs_attention": "status-failed", "not_connected": "status-paused"}
TEXT = 2000


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def page_of(user: User, agent: Agent) -> str:
    return PAGE if agent.user_id == user.id else f"{PAGE}/{agent.id}"


def _target(session: Session, user: User, key: str) -> Agent:
    """The agent a form changes: "me" (made on first use) or an id the user may manage."""
    return agents.ensure_agent(session, user) if key == "me" else agents.agent_for(session, user, int(key))


# --- the settings form -------------------------------------------------------------------------------------------


def settings_form(values: dict[str, Any]) -> dict[str, str]:
    """Stored settings as the form's text fields."""
    form = {
        name: "" if value is None else str(value)
        for name, value in values.items()
        if not isinstance(value, list | dict)
    }
    weekly = values.get("weekly_hours") or {}
    for day in WEEKDAYS:
        form[f"hours_{day}"] = ", ".join(weekly.get(day, []))
    lines = []
    for item in values.get("date_overrides") or []:
        hours = ", ".join(item.get("hours", []))
        lines.append(f"{item['date']} {('+ ' + hours) if not item.get('replace', True) else (hours or 'off')}")
    form["date_overrides"] = "\n".join(lines)
    form["out_of_office"] = "\n".join(
        item["start"] if item["start"] == item["end"] else f"{item['start']} to {item['end']}"
        for item in values.get("out_of_office") or []
    )
    return form


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def _override(line: str) -> dict[str, Any]:
    """ "2026-12-24 off", "2026-12-27 10:00-12:00, 14:00-16:00" or "2026-12-28 + 18:00-20:00" (extra hours)."""
    day, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if rest.lower() in ("", "off"):
        return {"date": day, "hours": [], "replace": True}
    if rest.startswith("+"):
        return {"date": day, "hours": _split(rest[1:]), "replace": False}
    return {"date": day, "hours": _split(rest), "replace": True}


def _away(line: str) -> dict[str, str]:
    """ "2026-08-01 to 2026-08-15", or one date."""
    first, _, last = line.strip().partition(" to ")
    return {"start": first.strip(), "end": (last or first).strip()}


def settings_data(form: dict[str, str]) -> dict[str, Any]:
    """The form's text fields as settings for `agents.parse_settings` (which says what is wrong)."""
    data: dict[str, Any] = {
        name: (form[name].strip() or None) if name in ("daily_max", "weekly_max") else form[name]
        for name in agents.AgentSettingsIn.model_fields
        if name in form and name not in ("weekly_hours", "date_overrides", "out_of_office")
    }
    data["weekly_hours"] = {day: _split(form.get(f"hours_{day}", "")) for day in WEEKDAYS}
    data["weekly_hours"] = {day: ranges for day, ranges in data["weekly_hours"].items() if ranges}
    data["date_overrides"] = [_override(line) for line in form.get("date_overrides", "").splitlines() if line.strip()]
    data["out_of_office"] = [_away(line) for line in form.get("out_of_office", "").splitlines() if line.strip()]
    return data


# Where the settings form shows what the service says of a path: each day's hours have their own box.
SETTINGS_FIELDS = {f"weekly_hours.{day}": f"hours_{day}" for day in WEEKDAYS}
# Boxes of one entry per line: a problem says its line.
LINE_FIELDS = ("date_overrides", "out_of_office")


# --- pages -------------------------------------------------------------------------------------------------------


def _agent_page(
    request: Request,
    session: Session,
    user: User,
    subject: User,
    agent: Agent | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    context = _context(request)
    connection = connections.connection_of(session, agent.id) if agent is not None else None
    values = agents.stored_settings(agent) if agent is not None else agents.AgentSettingsIn().model_dump(mode="json")
    state = agents.status_of(agent, connection)
    return render(
        request,
        "admin/calendar.html",
        user,
        status=status,
        active_area=Area.calendar,
        subject=subject,
        agent=agent,
        key="me" if subject.id == user.id else str(agent.id if agent else ""),
        own=subject.id == user.id,
        connection=connection,
        description=connections.describe(connection) if connection is not None else None,
        details=connections.details(connection) if connection is not None else {},
        state=state,
        state_label=STATUS_LABELS[state],
        state_class=STATUS_CLASSES[state],
        offered=connections.offered(context.settings),
        oauth_setups=connections.oauth_setups(context.settings),
        connect_forms=registry.with_form(),
        provider_labels={name: registry.label(name) for name in registry.PROVIDERS},
        day_labels=DAY_LABELS,
        **{"form": settings_form(values), "problems": {}, "section": "", **extra},
    )


@router.get(PAGE)
def calendar_page(request: Request, session: DbSession, user: CalendarPageUser) -> Response:
    if user.role == Role.agent:
        return _agent_page(request, session, user, user, agents.agent_of(session, user))
    rows = agents.listing(session)
    return render(
        request,
        "admin/calendar_agents.html",
        user,
        active_area=Area.calendar,
        rows=rows,
        descriptions={row.user.id: connections.describe(row.connection) for row in rows if row.connection},
        status_labels=STATUS_LABELS,
        status_classes=STATUS_CLASSES,
    )


@router.post(PAGE + "/agents")
def set_up_agent(
    request: Request, session: DbSession, user: CalendarPageUser, user_id: Annotated[int, Form(ge=1, le=2_147_483_647)]
) -> Response:
    target = agents.user_to_set_up(session, user, user_id)
    try:
        agent = agents.ensure_agent(session, target)
    except InvalidInput as exc:
        return refuse_with_flash(request, session, exc, PAGE)
    return redirect(page_of(user, agent))


@router.get(PAGE + "/{key}")
def agent_page(request: Request, session: DbSession, user: CalendarPageUser, key: AgentKey) -> Response:
    if key == "me" or (agent := agents.agent_for(session, user, int(key))).user_id == user.id:
        return redirect(PAGE)
    return _agent_page(request, session, user, agent.user, agent)


class SettingsForm(MeetingLimitsForm):
    """The settings form as sent: text, checked by `agents.parse_settings` so that each mistake shows at its field."""

    display_name: str = Field("", max_length=TEXT)
    photo_url: str = Field("", max_length=TEXT)
    time_zone: str = Field("", max_length=200)
    hours_mon: str = Field("", max_length=TEXT)
    hours_tue: str = Field("", max_length=TEXT)
    hours_wed: str = Field("", max_length=TEXT)
    hours_thu: str = Field("", max_length=TEXT)
    hours_fri: str = Field("", max_length=TEXT)
    hours_sat: str = Field("", max_length=TEXT)
    hours_sun: str = Field("", max_length=TEXT)
    date_overrides: str = Field("", max_length=50 * TEXT)
    out_of_office: str = Field("", max_length=10 * TEXT)
    weekly_max: str = Field("", max_length=20)
    meeting_link: str = Field("", max_length=TEXT)


@router.post(PAGE + "/{key}/settings")
def save_settings(
    request: Request, session: DbSession, user: CalendarPageUser, key: AgentKey, sent: Posted[SettingsForm]
) -> Response:
    agent = _target(session, user, key)
    form = sent.model_dump()
    try:
        agents.update_settings(session, agent, agents.parse_settings(settings_data(form)))
    except InvalidInput as exc:
        refused = refuse(session, exc, form, SETTINGS_FIELDS, LINE_FIELDS)
        agent = _target(session, user, key)
        return _agent_page(request, session, user, agent.user, agent, section="settings", **refused.shown())
    return succeeded(request, "The settings are saved.", page_of(user, agent))


def _connect_failed(request: Request, session: Session, user: User, key: str, section: str, exc: OvertureError,
                    form: dict[str, str]) -> Response:  # fmt: skip
    refused = refuse(session, exc, form)
    agent = _target(session, user, key)
    shown = {**refused.shown(), "form": {**settings_form(agents.stored_settings(agent)), **form}}
    # A full outbound gate (503) is no fault of the form: it keeps its status, for the agent to try again.
    shown["status"] = exc.status if exc.status < 500 or exc.status == 503 else 422
    return _agent_page(request, session, user, agent.user, agent, section=section, **shown)


@router.post(PAGE + "/{key}/oauth/{provider}")
def start_oauth(
    request: Request, session: DbSession, user: CalendarPageUser, key: AgentKey, provider: OAuthProvider
) -> Response:
    agent = _target(session, user, key)
    return redirect(agents.start_oauth(_context(request).calendar_world, user, agent, provider))


@router.get(PAGE + "/oauth/{provider}/callback")
def finish_oauth(
    request: Request,
    session: DbSession,
    user: CalendarPageUser,
    provider: OAuthProvider,
    code: Annotated[str, Query(max_length=4000)] = "",
    state: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
    error_description: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    label = registry.label(provider)
    if error:
        reason = error_description or error
        flash(request, f"{label} was not connected: {reason}", "error")
        return redirect(PAGE)
    try:
        world = _context(request).calendar_world
        done = outside_transaction(session, lambda: agents.finish_oauth(world, user, provider, code, state, utcnow()))
    except OvertureError as exc:
        flash(request, exc.message, "error")
        return redirect(PAGE)
    return succeeded(
        request, f"Connected: {done.description}.", PAGE if done.user_id == user.id else f"{PAGE}/{done.agent_id}"
    )


@router.post(PAGE + "/{key}/disconnect")
def disconnect(request: Request, session: DbSession, user: CalendarPageUser, key: AgentKey) -> Response:
    agent = _target(session, user, key)
    try:
        removed = agents.disconnect(session, agent, by=user, now=utcnow(), base_url=_context(request).settings.base_url)
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, page_of(user, agent))
    return succeeded(
        request,
        f"{connections.describe(removed)} is disconnected: no meetings are booked until a calendar is connected again.",
        page_of(user, agent),
    )


async def sent_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (each provider's check says what is missing or too long)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


# Last: its {provider} would otherwise take the paths of the routes above.
@router.post(PAGE + "/{key}/{provider}")
def connect_by_form(
    request: Request,
    session: DbSession,
    user: CalendarPageUser,
    key: AgentKey,
    provider: FormProvider,
    sent: Annotated[dict[str, str], Depends(sent_fields)],
) -> Response:
    """Connects the calendar of the provider's form (calendars/registry.py), checked first."""
    form = registry.with_form()[provider]
    given = {field.name: sent.get(field.name, "") for field in form.fields}
    agent = _target(session, user, key)
    world = _context(request).calendar_world
    try:
        # Checked over the network with no transaction open (never hold SQLite's write lock during a network call).
        account = outside_transaction(session, lambda: connections.check_account(world, provider, given))
        connection = agents.connect(session, agent, account, secret_key=_context(request).secret_key, now=utcnow())
    except OvertureError as exc:
        # A password is not sent back into the page.
        kept = {field.name: given[field.name] for field in form.fields if field.kind != "password"}
        return _connect_failed(request, session, user, key, provider, exc, kept)
    return succeeded(request, form.done.format(description=connections.describe(connection)), page_of(user, agent))
