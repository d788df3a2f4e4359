"""Admin API: dialogues and reusable flows. Everything the Dialogues page does."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query

from overture.conversations.scenarios import scenario_check
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.models import Dialogue
from overture.dialogues.schemas import (
    CloneRequest,
    DialogueDetail,
    DialogueSummary,
    DraftUpdate,
    ProblemOut,
    ValidationOut,
    VersionOut,
)
from overture.dialogues.validation import validate
from overture.people.service import field_schema
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import DialoguesApiUser

router = APIRouter(prefix="/api/v1/admin/dialogues", tags=["dialogues"], responses=API_ERROR_RESPONSES)
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The dialogue's or flow's key.")]
Kind = Annotated[Literal["dialogue", "flow"], Query(description="A dialogue, or a reusable flow.")]
Document = Annotated[dict[str, Any], Body(description="The document in its YAML/JSON form (see docs/dialogues.md).")]


def summary(dialogue: Dialogue) -> DialogueSummary:
    return DialogueSummary(
        key=dialogue.key,
        kind=dialogue.kind,
        name=dialogue.name,
        status=dialogue.status,
        published_version=dialogue.published_version,
        draft_updated_at=dialogue.draft_updated_at,
        unpublished_changes=dialogues.has_unpublished_changes(dialogue),
    )


def detail(session: DbSession, dialogue: Dialogue) -> DialogueDetail:
    problems = dialogues.problems_of(session, dialogue, field_schema(session))
    return DialogueDetail(
        **summary(dialogue).model_dump(),
        revision=dialogue.revision,
        draft=dialogue.draft,
        problems=[ProblemOut(path=p.path, message=p.message) for p in problems],
    )


@router.get("", summary="List dialogues and flows")
def list_dialogues(
    session: DbSession, _: DialoguesApiUser, kind: Annotated[Literal["dialogue", "flow"] | None, Query()] = None
) -> list[DialogueSummary]:
    return [summary(d) for d in dialogues.list_all(session, kind=kind, archived=True)]


@router.post("", status_code=201, summary="Create a dialogue (or flow) from a document")
def create(session: DbSession, _: DialoguesApiUser, document: Document, kind: Kind = "dialogue") -> DialogueDetail:
    return detail(session, dialogues.create(session, document, kind, utcnow()))


@router.post("/validate", summary="Check a document without saving it")
def validate_document(
    session: DbSession, _: DialoguesApiUser, document: Document, kind: Kind = "dialogue"
) -> ValidationOut:
    _checked, problems = validate(
        document, fields=field_schema(session), flows=dialogues.published_flows(session), kind=kind
    )
    return ValidationOut(ok=not problems, problems=[ProblemOut(path=p.path, message=p.message) for p in problems])


@router.get("/{key}", summary="One dialogue with its draft and what stops it from being published")
def get(session: DbSession, _: DialoguesApiUser, key: DialogueKey) -> DialogueDetail:
    return detail(session, dialogues.get(session, key))


@router.put("/{key}/draft", summary="Replace the draft")
def update_draft(session: DbSession, _: DialoguesApiUser, key: DialogueKey, body: DraftUpdate) -> DialogueDetail:
    dialogue = dialogues.get(session, key)
    dialogues.update_draft(session, dialogue, body.document, utcnow(), revision=body.revision)
    return detail(session, dialogue)


@router.post("/{key}/publish", summary="Publish the draft as the next version (refused with every problem)")
def publish(session: DbSession, user: DialoguesApiUser, key: DialogueKey) -> VersionOut:
    dialogue = dialogues.get(session, key)
    version = dialogues.publish(
        session, dialogue, fields=field_schema(session), now=utcnow(), user_id=user.id, checks=[scenario_check]
    )
    return VersionOut(number=version.number, published_at=version.published_at, published_by=version.published_by)


@router.post("/{key}/pause", summary="Stop showing it (running conversations finish)")
def pause(session: DbSession, _: DialoguesApiUser, key: DialogueKey) -> DialogueSummary:
    dialogue = dialogues.get(session, key)
    dialogues.pause(session, dialogue)
    return summary(dialogue)


@router.post("/{key}/resume", summary="Show a paused dialogue again")
def resume(session: DbSession, _: DialoguesApiUser, key: DialogueKey) -> DialogueSummary:
    dialogue = dialogues.get(session, key)
    dialogues.resume(session, dialogue)
    return summary(dialogue)


@router.post("/{key}/archive", summary="Retire it (versions stay readable)")
def archive(session: DbSession, _: DialoguesApiUser, key: DialogueKey) -> DialogueSummary:
    dialogue = dialogues.get(session, key)
    dialogues.archive(session, dialogue)
    return summary(dialogue)


@router.post("/{key}/clone", status_code=201, summary="Copy the draft under a new key")
def clone(session: DbSession, _: DialoguesApiUser, key: DialogueKey, body: CloneRequest) -> DialogueDetail:
    copy = dialogues.clone(session, dialogues.get(session, key), body.key, utcnow(), name=body.name)
    return detail(session, copy)


@router.get("/{key}/versions", summary="Published versions, oldest first")
def versions(session: DbSession, _: DialoguesApiUser, key: DialogueKey) -> list[VersionOut]:
    dialogue = dialogues.get(session, key)
    return [
        VersionOut(number=v.number, published_at=v.published_at, published_by=v.published_by) for v in dialogue.versions
    ]


@router.get("/{key}/versions/{number}", summary="One published version with its document")
def get_version(
    session: DbSession, _: DialoguesApiUser, key: DialogueKey, number: Annotated[int, Path(ge=1, le=1_000_000)]
) -> VersionOut:
    version = dialogues.version(session, dialogues.get(session, key), number)
    return VersionOut(
        number=version.number,
        published_at=version.published_at,
        published_by=version.published_by,
        document=version.document,
    )
