"""A person's company as it was before their email changed it: a value (no database), so that a conversation's
state can hold it and the pure engine can carry it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CompanyBefore(BaseModel):
    """A person's company as it was before their email changed it: enough to put it back. JSON, kept in the
    conversation's snapshot of the answer that gave the email."""

    model_config = ConfigDict(frozen=True)

    # The company the person had; None when they had none.
    id: int | None = None
    # Its known fields by dotted name, to make it again once merged away (or to give back its name).
    values: dict[str, Any] = Field(default_factory=dict)
    # The fields its merge gave the domain's company (which lacked them), taken back when still as given.
    filled: list[str] = Field(default_factory=list)
