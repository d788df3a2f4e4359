"""The page of each integration of the registry (Integrations, admins): `/admin/integrations/<name>`, drawn by
templates/admin/<name>.html (Marketo: marketo.html).

Its connect form (the module's fields), checked over the network with no transaction open, refused beside the
field at fault with the values kept (never the secret); once connected: the status (since when, by whom, the last
check; the sync's part is the template partial integrations/<name>_status.html, given `sync_status`), "Test
connection", the field mapping table (each remote field mapped to an Overture field or not synced, "Make it a custom
field" for an unmapped one; shown and saved in pages of `PAGE_ROWS` rows per object, because a form posts at most
1,000 fields), and Disconnect with a confirmation box.

An integration that syncs records in (`SYNCING`) also has its sync's status as JSON with the partial drawn
(`<page>/status`, which static/integration_sync.js polls while a sync runs) and "Sync now" (`<page>/sync`), which
queues a run of its job and comes back to the page following it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput, NotFound, OvertureError, Problem
from overture.integrations import marketo, registry, service
from overture.integrations.accounts import RemoteField
from overture.integrations.marketo import status as marketo_status
from overture.integrations.models import CONNECTED, IntegrationConnection
from overture.integrations.world import IntegrationWorld, integration_world
from overture.people.fields import FieldSpec
from overture.users.models import User
from overture.users.roles import Area
from overture.web.context import AppContext
from overture.web.deps import DbSession
from overture.web.guards import IntegrationsPageUser
from overture.web.pages.forms import refuse, refuse_with_flash
from overture.web.pages.rendering import page_router, render, succeeded
from overture.web.shared_transaction import outside_transaction

router = page_router()
HOME = "/admin/integrations"
PAGE = HOME + "/{name}"
PAGE_ROWS = 400  # mapping rows a page shows and posts (a form posts at most 1,000 fields)
MAX_FORM_FIELDS = 1_000

IntegrationName = Annotated[str, Path(pattern=registry.pattern(), description="The integration's name.")]
Confirmed = Annotated[bool, Form()]


@dataclass(frozen=True)
class Syncing:
    """How the page follows an integration's sync: where it stands at a time (an object with `as_json()` and
    `in_progress`, or None before its first run), and queuing a run of its job."""

    status: Callable[[Session, datetime], Any]
    queue: Callable[[AppContext], object]


# The integrations that sync records in, by name.
SYNCING: dict[str, Syncing] = {
    marketo.NAME: Syncing(marketo_status.sync_status, lambda context: context.jobs.sync_marketo()),
}


@dataclass(frozen=True)
class MappingRow:
    """A row of the mapping table: the remote field, what it maps to ("" for not synced) and what it may map to."""

    field: RemoteField
    target: str
    choices: list[FieldSpec]

    @property
    def key(self) -> str:
        return f"{self.field.object}.{self.field.name}"


@dataclass(frozen=True)
class MappingTable:
    """One object's rows (a page of them), with its paging."""

    object: str
    label: str
    rows: list[MappingRow]
    page: int
    pages: int
    total: int


def _context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def _world(request: Request) -> IntegrationWorld:
    context = _context(request)
    return integration_world(context.settings, context.secret_key)


def _page_of(request: Request, object_: str) -> int:
    raw = request.query_params.get(f"{object_}_page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100_000 else 1


def _tables(request: Request, session: Session, name: str, row: IntegrationConnection) -> list[MappingTable]:
    module = service.module_of(name)
    schema = service.field_schema(session)
    fields = service.remote_fields(row)
    mapping = row.mapping or {}
    tables = []
    for object_, label in module.OBJECTS.items():
        own = [field for field in fields if field.object == object_]
        pages = max(1, -(-len(own) // PAGE_ROWS))
        page = min(_page_of(request, object_), pages)
        shown = own[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
        rows = [
            MappingRow(field, mapping.get(object_, {}).get(field.name) or "", module.targets(field, schema))
            for field in shown
        ]
        tables.append(MappingTable(object_, label, rows, page, pages, len(own)))
    return tables


def _syncing(name: str) -> Syncing:
    """The sync of the integration `name`. Raises NotFound when it syncs nothing in."""
    syncing = SYNCING.get(name)
    if syncing is None:
        raise NotFound(f"{service.module_of(name).LABEL} syncs nothing into Overture.")
    return syncing


def _page(request: Request, session: Session, user: User, name: str, status: int = 200, **extra: Any) -> Response:
    module = service.module_of(name)
    row = service.find(session, name)
    connected = row is not None and row.status == CONNECTED
    syncing = SYNCING.get(name)
    shown = {} if row is None else {key: str(value) for key, value in (row.settings or {}).items() if value}
    context: dict[str, Any] = {
        "module": module,
        "name": name,
        "connection": row,
        "connected": connected,
        "description": module.describe(row.settings or {}) if row is not None else "",
        "shown_settings": shown,
        "tables": _tables(request, session, name, row) if connected and row is not None else [],
        "sync_status": syncing.status(session, utcnow()) if connected and syncing is not None else None,
        # Back from "Sync now": the page's script follows the run it queued.
        "sync_follow": request.query_params.get("sync") == "queued",
        "form": {field.name: shown.get(field.name, "") for field in module.FORM.fields if field.kind != "password"},
        "mapping_problems": {},
        "mapping_values": {},
        **extra,
    }
    return render(request, f"admin/{name}.html", user, status=status, active_area=Area.integrations, **context)


@router.get(PAGE)
def integration_page(
    request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName
) -> Response:
    return _page(request, session, user, name)


async def sent_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields."""
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    return {key: value for key, value in form.items() if isinstance(value, str)}


Sent = Annotated[dict[str, str], Depends(sent_fields)]


@router.post(PAGE + "/connect")
def connect(
    request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName, sent: Sent
) -> Response:
    """Connects the integration with the form's fields, checked over the network first."""
    module = service.module_of(name)
    given = {field.name: sent.get(field.name, "") for field in module.FORM.fields}
    world = _world(request)
    try:
        # Checked with no transaction open (never hold SQLite's write lock during a network call).
        account = outside_transaction(session, lambda: service.check_account(world, name, given))
        row = service.connect(session, account, by=user.email, now=utcnow(), secret_key=_context(request).secret_key)
    except OvertureError as exc:
        kept = {field.name: given[field.name] for field in module.FORM.fields if field.kind != "password"}
        return _page(request, session, user, name, **refuse(session, exc, kept).shown())
    finally:
        world.close()
    return succeeded(request, f"{module.describe(row.settings)} is connected. {account.message}", f"{HOME}/{name}")


@router.post(PAGE + "/test")
def test_connection(
    request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName
) -> Response:
    """Checks the stored connection again and says exactly what failed, or what works."""
    here = f"{HOME}/{name}"
    try:
        found = service.stored(session, name, _context(request).secret_key)
        if found is None:
            raise Conflict(f"{service.module_of(name).LABEL} is not connected. Connect it first.")
        world = _world(request)
        try:
            check = outside_transaction(session, lambda: service.check_again(world, name, found))
        finally:
            world.close()
        service.record_check(session, name, check, utcnow())
    except OvertureError as exc:
        return refuse_with_flash(request, session, exc, here, "Not tested: ")
    if not check.ok:
        return refuse_with_flash(request, session, OvertureError(f"The test failed. {check.message}"), here)
    return succeeded(request, f"The test worked. {check.message}", here)


@router.post(PAGE + "/mapping")
def save_mapping(
    request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName, sent: Sent
) -> Response:
    """Saves the mapping rows posted (one object's page of them); the others keep theirs."""
    given: dict[str, dict[str, str | None]] = {}
    for key, value in sent.items():
        object_, dot, field_name = key.partition(".")
        if dot and object_ in service.module_of(name).OBJECTS:
            given.setdefault(object_, {})[field_name] = value or None
    try:
        service.set_mapping(session, name, given)
    except InvalidInput as exc:
        refused = refuse(session, exc, {key: value for key, value in sent.items() if "." in key})
        return _page(request, session, user, name, status=refused.status, mapping_error=refused.message,
                     mapping_problems=refused.problems, mapping_values=dict(refused.values))  # fmt: skip
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"{HOME}/{name}", "Not saved: ")
    return succeeded(request, "The field mapping is saved.", f"{HOME}/{name}#mapping")


@router.post(PAGE + "/custom-field")
def make_custom_field(
    request: Request,
    session: DbSession,
    user: IntegrationsPageUser,
    name: IntegrationName,
    field: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Makes an Overture custom field for an unmapped remote field ("lead.productInterest") and maps it."""
    object_, _, field_name = field.partition(".")
    here = f"{HOME}/{name}#mapping"
    try:
        spec = service.make_custom_field(session, name, object_, field_name, utcnow())
    except OvertureError as exc:
        return refuse_with_flash(request, session, exc, here, "No custom field made: ")
    return succeeded(
        request, f"The custom field {spec.name} ({spec.type.value}) is made and {field_name} maps to it.", here
    )


@router.post(PAGE + "/disconnect")
def disconnect(
    request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName, confirm: Confirmed = False
) -> Response:
    """Disconnects, once the box is ticked: every job of the integration stops and the secret is forgotten."""
    here = f"{HOME}/{name}"
    label = service.module_of(name).LABEL
    if not confirm:
        unconfirmed = InvalidInput(f"{label} is still connected: tick the box to confirm.",
                                   [Problem("confirm", "Tick the box to confirm.")])  # fmt: skip
        return refuse_with_flash(request, session, unconfirmed, here)
    try:
        row = service.disconnect(session, name, by=user.email, now=utcnow())
    except OvertureError as exc:
        return refuse_with_flash(request, session, exc, here)
    return succeeded(
        request,
        f"{service.module_of(name).describe(row.settings)} is disconnected: nothing is synced until it is connected "
        "again. Its client secret is forgotten; the field mapping is kept.",
        here,
    )


@router.get(PAGE + "/status")
def sync_status(request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName) -> Response:
    """Where the integration's sync stands, for the page's script: `status` (null before its first run, or while
    the integration is not connected) and `html`, the page's status partial drawn with it."""
    syncing = _syncing(name)
    found = syncing.status(session, utcnow()) if service.is_connected(session, name) else None
    partial = _context(request).templates.env.get_template(f"integrations/{name}_status.html")
    return JSONResponse(
        {
            "ok": True,
            "status": found.as_json() if found is not None else None,
            "html": partial.render(sync_status=found),
        }
    )


@router.post(PAGE + "/sync")
def sync_now(request: Request, session: DbSession, user: IntegrationsPageUser, name: IntegrationName) -> Response:
    """Queues a run of the integration's sync (its periodic job, now) and comes back to the page, which follows it."""
    syncing = _syncing(name)
    here = f"{HOME}/{name}"
    label = service.module_of(name).LABEL
    if not service.is_connected(session, name):
        return refuse_with_flash(request, session, Conflict(f"{label} is not connected. Connect it first."), here,
                                 "Not synced: ")  # fmt: skip
    syncing.queue(_context(request))
    return succeeded(
        request,
        f"A {label} sync is queued: it starts as soon as a worker is free (if a sync is running already, that one "
        "carries on instead). Its progress shows below.",
        f"{here}?sync=queued#sync",
    )
