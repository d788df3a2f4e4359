"""Promoting an experiment's variant (docs/experiments.md): the next version of the dialogue has the variant's flow
as its flow and no experiment, and is published like any version (conversations already running finish on theirs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from overture.dialogues import service as dialogues
from overture.dialogues.document import DialogueDocument, document_to_data
from overture.dialogues.experiments import find_variant, promoted
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.errors import Conflict, InvalidInput, Problem
from overture.people.fields import FieldSchema


def promote(
    session: Session,
    dialogue: Dialogue,
    variant: str,
    *,
    fields: FieldSchema,
    now: datetime,
    user_id: int | None = None,
    checks: Sequence[dialogues.PublishCheck] = (),
) -> DialogueVersion:
    """Publishes the live version with variant `variant` as its flow and no experiment; the draft becomes that
    document too. Raises Conflict when the live version runs no experiment or when the draft has changes that are
    not published (promoting would replace them), InvalidInput for a variant the experiment does not have or when
    the promoted document does not pass publishing (its tests, say)."""
    if dialogue.published_version is None or dialogue.kind != "dialogue":
        raise Conflict(f"'{dialogue.key}' has no published version: nothing runs an experiment.")
    live = dialogues.version(session, dialogue, dialogue.published_version)
    document = DialogueDocument.model_validate(live.document)
    experiment = document.experiment
    if experiment is None:
        raise Conflict(f"The live version v{live.number} of '{dialogue.key}' runs no experiment: nothing to promote.")
    if find_variant(experiment, variant) is None:
        keys = ", ".join(v.key for v in experiment.variants)
        raise InvalidInput(
            f"The experiment '{experiment.key}' has no variant '{variant}'.",
            [Problem("variant", f"There is no variant '{variant}': use one of {keys}.")],
        )
    if dialogues.has_unpublished_changes(dialogue):
        raise Conflict(
            f"The draft of '{dialogue.key}' has changes that are not published; promoting would replace them. "
            "Publish them first (the experiment goes on), or put the live version back in the editor."
        )
    data = document_to_data(promoted(document, variant))
    dialogues.update_draft(session, dialogue, data, now)
    return dialogues.publish(session, dialogue, fields=fields, now=now, user_id=user_id, checks=checks)
