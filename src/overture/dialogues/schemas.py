"""The admin API's shapes for dialogues and flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from overture.dialogues.document import KEY_PATTERN


class ProblemOut(BaseModel):
    path: str
    message: str


class DialogueSummary(BaseModel):
    key: str
    kind: Literal["dialogue", "flow"]
    name: str
    status: Literal["draft", "published", "paused", "archived"]
    published_version: int | None
    draft_updated_at: datetime
    unpublished_changes: bool = Field(description="The draft differs from the published version.")


class DialogueDetail(DialogueSummary):
    revision: int = Field(description="Send it back when saving the draft, to refuse overwriting a newer save.")
    draft: dict[str, Any]
    problems: list[ProblemOut] = Field(description="What stops the draft from being published; empty when ready.")


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]
    revision: int | None = Field(default=None, description="The revision you edited; refused if someone saved since.")


class VersionOut(BaseModel):
    number: int
    published_at: datetime
    published_by: int | None
    document: dict[str, Any] | None = None


class CloneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: str | None = Field(default=None, max_length=200)


class ValidationOut(BaseModel):
    ok: bool
    problems: list[ProblemOut]
