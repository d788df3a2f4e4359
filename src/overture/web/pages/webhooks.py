"""The Webhooks pages (Integrations, admins): the endpoints, a form to add one and to change it (its event types as
checkboxes), its secret shown once when made or rotated, a test event, and its deliveries log (status, the answer's
excerpt, send again)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import Conflict, InvalidInput
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import DbSession, RowId
from overture.web.guards import IntegrationsPageUser
from overture.web.pages.forms import refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, redirect, render
from overture.webhooks import events
from overture.webhooks import service as webhooks
from overture.webhooks.models import STATUS_LABELS, WebhookEndpoint

router = page_router()
PAGE = "/admin/integrations/webhooks"
PAGE_SIZE = 50
EventTypes = Annotated[list[str], Form(max_length=len(events.EVENT_TYPES) + 5)]
Checkbox = Annotated[str, Form(max_length=5)]


def _form(endpoint: WebhookEndpoint | None) -> dict[str, Any]:
    if endpoint is None:
        return {"url": "", "description": "", "event_types": [], "enabled": True, "allow_private": False}
    return {"url": endpoint.url, "description": endpoint.description, "event_types": list(endpoint.event_types),
            "enabled": endpoint.enabled, "allow_private": endpoint.allow_private}  # fmt: skip


def _given(url: str, description: str, event_types: list[str], enabled: str, allow_private: str) -> dict[str, Any]:
    return {"url": url, "description": description, "event_types": event_types, "enabled": enabled == "true",
            "allow_private": allow_private == "true"}  # fmt: skip


def _list_page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    return render(
        request, "admin/webhooks.html", user, status=status, active_area=Area.integrations,
        endpoints=webhooks.list_endpoints(session), event_types=events.EVENT_TYPES, **{"form": _form(None), **extra},
    )  # fmt: skip


def _endpoint_page(
    request: Request,
    session: Session,
    user: User,
    endpoint: WebhookEndpoint,
    status: int = 200,
    before: int | None = None,
    **extra: Any,
) -> Response:
    rows, next_before = webhooks.list_deliveries(session, endpoint, limit=PAGE_SIZE, before=before)
    return render(
        request, "admin/webhook.html", user, status=status, active_area=Area.integrations, endpoint=endpoint,
        deliveries=rows, next_before=next_before, before=before, counts=webhooks.count_deliveries(session, endpoint),
        event_types=events.EVENT_TYPES, status_labels=STATUS_LABELS, **{"form": _form(endpoint), **extra},
    )  # fmt: skip


@router.get(PAGE)
def webhooks_page(request: Request, session: DbSession, user: IntegrationsPageUser) -> Response:
    return _list_page(request, session, user)


@router.post(PAGE)
def add_endpoint(
    request: Request,
    session: DbSession,
    user: IntegrationsPageUser,
    url: Annotated[str, Form(max_length=2100)],
    description: Annotated[str, Form(max_length=600)] = "",
    event_types: EventTypes = [],  # noqa: B006 - FastAPI copies defaults
    allow_private: Checkbox = "",
) -> Response:
    values = _given(url, description, event_types, "true", allow_private)
    try:
        given = webhooks.EndpointInput(**{**values, "event_types": tuple(event_types)})
        endpoint = webhooks.create_endpoint(session, given, utcnow())
    except InvalidInput as exc:
        return _list_page(request, session, user, **refuse(session, exc, values).shown())
    # The secret is shown on this answer only, never stored in a flash (a cookie) nor shown again.
    return _endpoint_page(request, session, user, endpoint, status=201, new_secret=endpoint.secret, made=True)


@router.get(PAGE + "/{endpoint_id}")
def endpoint_page(
    request: Request,
    session: DbSession,
    user: IntegrationsPageUser,
    endpoint_id: RowId,
    before: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    return _endpoint_page(request, session, user, webhooks.get_endpoint(session, endpoint_id), before=before)


@router.post(PAGE + "/{endpoint_id}")
def update_endpoint(
    request: Request,
    session: DbSession,
    user: IntegrationsPageUser,
    endpoint_id: RowId,
    url: Annotated[str, Form(max_length=2100)],
    description: Annotated[str, Form(max_length=600)] = "",
    event_types: EventTypes = [],  # noqa: B006 - FastAPI copies defaults
    enabled: Checkbox = "",
    allow_private: Checkbox = "",
) -> Response:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    values = _given(url, description, event_types, enabled, allow_private)
    try:
        webhooks.update_endpoint(
            session, endpoint, webhooks.EndpointInput(**{**values, "event_types": tuple(event_types)}), utcnow()
        )
    except InvalidInput as exc:
        refused = refuse(session, exc, values)
        return _endpoint_page(request, session, user, webhooks.get_endpoint(session, endpoint_id), **refused.shown())
    flash(request, "The endpoint is saved.", "success")
    return redirect(f"{PAGE}/{endpoint_id}")


@router.post(PAGE + "/{endpoint_id}/secret")
def rotate_secret(request: Request, session: DbSession, user: IntegrationsPageUser, endpoint_id: RowId) -> Response:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    secret = webhooks.rotate_secret(session, endpoint, utcnow())
    return _endpoint_page(request, session, user, endpoint, new_secret=secret)


@router.post(PAGE + "/{endpoint_id}/test")
def send_test(request: Request, session: DbSession, user: IntegrationsPageUser, endpoint_id: RowId) -> Response:
    webhooks.send_test(session, webhooks.get_endpoint(session, endpoint_id), utcnow())
    flash(request, "A test event is queued: it shows in the log below once sent.", "success")
    return redirect(f"{PAGE}/{endpoint_id}")


@router.post(PAGE + "/{endpoint_id}/delete")
def delete_endpoint(request: Request, session: DbSession, user: IntegrationsPageUser, endpoint_id: RowId) -> Response:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    webhooks.delete_endpoint(session, endpoint)
    flash(request, f"The endpoint {endpoint.url} is deleted, with its deliveries.", "success")
    return redirect(PAGE)


@router.get(PAGE + "/{endpoint_id}/deliveries/{delivery_id}")
def delivery_page(
    request: Request, session: DbSession, user: IntegrationsPageUser, endpoint_id: RowId, delivery_id: RowId
) -> Response:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    delivery = webhooks.get_delivery(session, delivery_id, endpoint_id)
    return render(
        request, "admin/webhook_delivery.html", user, active_area=Area.integrations, endpoint=endpoint,
        delivery=delivery, attempts=webhooks.attempts_of(session, delivery), status_labels=STATUS_LABELS,
    )  # fmt: skip


@router.post(PAGE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver")
def redeliver(
    request: Request,
    session: DbSession,
    user: IntegrationsPageUser,
    endpoint_id: RowId,
    delivery_id: RowId,
    back: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Sends a delivery again; back to its own page (`back=delivery`) or to the endpoint's log."""
    here = f"{PAGE}/{endpoint_id}" + (f"/deliveries/{delivery_id}" if back == "delivery" else "")
    try:
        webhooks.redeliver(session, webhooks.get_delivery(session, delivery_id, endpoint_id), utcnow())
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, here)
    flash(request, "The delivery is queued to be sent again now.", "success")
    return redirect(here)
