"""What a caller hands the outbox: a validated message with optional attachments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+(;.*)?$", max_length=100)
    content: bytes = Field(max_length=10_000_000)


class NewMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    to: list[EmailStr] = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=300)
    text_body: str = Field(max_length=200_000)
    html_body: str | None = Field(default=None, max_length=500_000)
    kind: str = Field(default="message", max_length=50)
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    to: list[str]
    subject: str
    text_body: str
    html_body: str | None
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentPublic]


class MessagePage(BaseModel):
    total: int
    items: list[MessagePublic]
