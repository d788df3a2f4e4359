"""The admin API's shapes for webhooks (in and out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from overture.webhooks import events
from overture.webhooks.models import URL_LENGTH, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from overture.webhooks.service import DESCRIPTION_LENGTH, EndpointInput

EventTypes = Annotated[
    list[Annotated[str, Field(max_length=60)]],
    Field(max_length=len(events.EVENT_TYPES), description="The event types sent to it (GET .../event-types).",
          examples=[["meeting.booked", "person.created"]]),
]  # fmt: skip
ALLOW_PRIVATE = "Deliver to a loopback or private address (a server on your own network); refused otherwise."


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=URL_LENGTH, examples=["https://hooks.example.com/overture"])
    description: str = Field(default="", max_length=DESCRIPTION_LENGTH)
    event_types: EventTypes
    enabled: bool = True
    allow_private: bool = Field(default=False, description=ALLOW_PRIVATE)

    def given(self) -> EndpointInput:
        return EndpointInput(self.url, self.description, tuple(self.event_types), self.enabled, self.allow_private)


class EndpointUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=URL_LENGTH)
    description: str | None = Field(default=None, max_length=DESCRIPTION_LENGTH)
    event_types: EventTypes | None = None
    enabled: bool | None = None
    allow_private: bool | None = Field(default=None, description=ALLOW_PRIVATE)

    def over(self, endpoint: WebhookEndpoint) -> EndpointInput:
        def pick(value: Any, current: Any) -> Any:
            return current if value is None else value

        return EndpointInput(
            pick(self.url, endpoint.url),
            pick(self.description, endpoint.description),
            tuple(pick(self.event_types, endpoint.event_types)),
            pick(self.enabled, endpoint.enabled),
            pick(self.allow_private, endpoint.allow_private),
        )


class EndpointPublic(BaseModel):
    """An endpoint; its secret is shown only when made (`EndpointCreated`) or rotated (`SecretPublic`)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    allow_private: bool
    failing_since: datetime | None = Field(description="The first failed attempt since the last success.")
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointPublic):
    secret: str = Field(description="The signing secret (whsec_...): shown this once; keep it in the receiver.")


class SecretPublic(BaseModel):
    secret: str = Field(description="The new signing secret: shown this once. Deliveries are signed with it now.")


class EventTypePublic(BaseModel):
    type: str
    description: str


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    succeeded: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str = Field(description="The first 1 KB of the answer.")
    error: str | None

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptPublic:
        return cls.model_validate(attempt)


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    event_id: str = Field(description="The webhook-id header: the same at every attempt.")
    event_type: str
    status: str = Field(description="pending, sending, delivered or failed.")
    attempts: int = Field(description="Attempts of its current schedule (a redelivery starts a new one).")
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryPublic):
    body: str = Field(description="The body as sent and signed.")
    attempt_log: list[AttemptPublic] = Field(description="Every attempt, newest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


def detail(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryDetail:
    shown = DeliveryPublic.model_validate(delivery).model_dump()
    return DeliveryDetail(**shown, body=delivery.body, attempt_log=[AttemptPublic.of(a) for a in attempts])
