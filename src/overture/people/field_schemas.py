"""The admin API's shapes for the field schema: Create / Update / Public. The service checks names, labels and
choices and explains every problem; these models set the outer limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from overture.people.custom_fields import FieldEntry
from overture.people.fields import FieldType

Choices = list[Annotated[str, Field(max_length=100)]]


class FieldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=80,
        description="person. or company. followed by a snake_case key. The stable key dialogues use; it never changes.",
        examples=["person.segment"],
    )
    label: str = Field(max_length=100, description="What people read on pages and in exports.", examples=["Segment"])
    type: FieldType
    choices: Choices = Field(
        default_factory=list, max_length=200, description="The allowed values: required for choice fields only."
    )
    visitor_fillable: bool = Field(default=True, description="Whether a dialogue may ask the visitor for it.")


class FieldUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=100, description="The new label; the name stays.")
    visitor_fillable: bool | None = None
    choices: Choices | None = Field(default=None, max_length=200, description="Choice fields only: the new list.")


class FieldPublic(BaseModel):
    name: str
    label: str
    type: FieldType
    choices: list[str]
    visitor_fillable: bool
    built_in: bool = Field(description="Built-in fields are part of Overture and cannot be changed.")
    status: str = Field(description="built-in, active or retired (retired fields keep their data).")
    retired_at: datetime | None

    @classmethod
    def of(cls, entry: FieldEntry) -> FieldPublic:
        return cls(
            name=entry.name,
            label=entry.label,
            type=FieldType(entry.type),
            choices=list(entry.choices),
            visitor_fillable=entry.visitor_fillable,
            built_in=entry.built_in,
            status=entry.status,
            retired_at=entry.retired_at,
        )
