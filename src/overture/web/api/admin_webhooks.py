"""IntegrationsApiUser API: webhook endpoints (add, change, delete, rotate the secret, send a test event) and their
deliveries (the log, one delivery with its attempts, send again). Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from overture.db import utcnow
from overture.web.deps import DbSession, RowId
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import IntegrationsApiUser
from overture.webhooks import events
from overture.webhooks import service as webhooks
from overture.webhooks.schemas import (
    DeliveryDetail,
    DeliveryPage,
    DeliveryPublic,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    EndpointUpdate,
    EventTypePublic,
    SecretPublic,
    detail,
)

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"], responses=API_ERROR_RESPONSES)


@router.get("/event-types", summary="The event types an endpoint can subscribe to")
def event_types(_: IntegrationsApiUser) -> list[EventTypePublic]:
    return [EventTypePublic(type=name, description=text) for name, text in events.EVENT_TYPES.items()]


@router.get("/endpoints", summary="List the endpoints")
def list_endpoints(session: DbSession, _: IntegrationsApiUser) -> list[EndpointPublic]:
    return [EndpointPublic.model_validate(e) for e in webhooks.list_endpoints(session)]


@router.post("/endpoints", status_code=201, summary="Add an endpoint (its secret is in this answer only)")
def create_endpoint(session: DbSession, _: IntegrationsApiUser, body: EndpointCreate) -> EndpointCreated:
    endpoint = webhooks.create_endpoint(session, body.given(), utcnow())
    return EndpointCreated(**EndpointPublic.model_validate(endpoint).model_dump(), secret=endpoint.secret)


@router.get("/endpoints/{endpoint_id}", summary="One endpoint")
def get_endpoint(session: DbSession, _: IntegrationsApiUser, endpoint_id: RowId) -> EndpointPublic:
    return EndpointPublic.model_validate(webhooks.get_endpoint(session, endpoint_id))


@router.patch("/endpoints/{endpoint_id}", summary="Change an endpoint (only the fields sent)")
def update_endpoint(
    session: DbSession, _: IntegrationsApiUser, endpoint_id: RowId, body: EndpointUpdate
) -> EndpointPublic:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    webhooks.update_endpoint(session, endpoint, body.over(endpoint), utcnow())
    return EndpointPublic.model_validate(endpoint)


@router.delete("/endpoints/{endpoint_id}", summary="Delete an endpoint and its deliveries")
def delete_endpoint(session: DbSession, _: IntegrationsApiUser, endpoint_id: RowId) -> EndpointPublic:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    shown = EndpointPublic.model_validate(endpoint)
    webhooks.delete_endpoint(session, endpoint)
    return shown


@router.post("/endpoints/{endpoint_id}/secret", summary="Rotate the signing secret (the new one is shown once)")
def rotate_secret(session: DbSession, _: IntegrationsApiUser, endpoint_id: RowId) -> SecretPublic:
    return SecretPublic(secret=webhooks.rotate_secret(session, webhooks.get_endpoint(session, endpoint_id), utcnow()))


@router.post("/endpoints/{endpoint_id}/test", status_code=202, summary="Queue a webhook.test event to the endpoint")
def send_test(session: DbSession, _: IntegrationsApiUser, endpoint_id: RowId) -> DeliveryPublic:
    delivery = webhooks.send_test(session, webhooks.get_endpoint(session, endpoint_id), utcnow())
    return DeliveryPublic.model_validate(delivery)


@router.get("/endpoints/{endpoint_id}/deliveries", summary="The endpoint's deliveries, newest first")
def list_deliveries(
    session: DbSession,
    _: IntegrationsApiUser,
    endpoint_id: RowId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="A page's `next_before`.")] = None,
) -> DeliveryPage:
    endpoint = webhooks.get_endpoint(session, endpoint_id)
    rows, next_before = webhooks.list_deliveries(session, endpoint, limit=limit, before=before)
    return DeliveryPage(items=[DeliveryPublic.model_validate(r) for r in rows], next_before=next_before)


@router.get("/deliveries/{delivery_id}", summary="One delivery: its body and every attempt")
def get_delivery(session: DbSession, _: IntegrationsApiUser, delivery_id: RowId) -> DeliveryDetail:
    delivery = webhooks.get_delivery(session, delivery_id)
    return detail(delivery, webhooks.attempts_of(session, delivery))


@router.post("/deliveries/{delivery_id}/redeliver", status_code=202, summary="Send a delivery again, now")
def redeliver(session: DbSession, _: IntegrationsApiUser, delivery_id: RowId) -> DeliveryPublic:
    delivery = webhooks.redeliver(session, webhooks.get_delivery(session, delivery_id), utcnow())
    return DeliveryPublic.model_validate(delivery)
