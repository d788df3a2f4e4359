"""Dialogues and flows as stored things: create, edit the draft, publish a version, pause, archive, clone.

A draft must have the document's shape (so it can be edited and shown) but may still have problems; publishing
refuses any problem, so nothing invalid is ever published. A published version is frozen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from overture import signals
from overture.dialogues.document import DialogueDocument, Document, DocumentKind, FlowDocument, document_to_data
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.dialogues.validation import check_document, parse_document, raise_for_problems
from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.fields import FieldSchema
from overture.sites.models import Site
from overture.sites.service import DEFAULT_SITE

# Extra checks the caller runs before publishing (e.g. the dialogue's own test scenarios, which need the engine,
# a higher layer): each returns the problems it found.
PublishCheck = Callable[[Document, dict[str, FlowDocument]], list[Problem]]


def _parse(data: Any, kind: DocumentKind) -> Document:
    document, problems = parse_document(data, kind)
    raise_for_problems(problems, f"The {kind}")
    assert document is not None
    return document


def get(session: Session, key: str) -> Dialogue:
    dialogue = session.scalar(select(Dialogue).where(Dialogue.key == key))
    if dialogue is None:
        raise NotFound(f"There is no dialogue or flow with the key '{key}'.")
    return dialogue


def find(session: Session, key: str) -> Dialogue | None:
    return session.scalar(select(Dialogue).where(Dialogue.key == key))


def list_all(session: Session, *, kind: DocumentKind | None = None, archived: bool = False) -> list[Dialogue]:
    query = select(Dialogue).order_by(Dialogue.kind, Dialogue.name)
    if kind:
        query = query.where(Dialogue.kind == kind)
    if not archived:
        query = query.where(Dialogue.status != "archived")
    return list(session.scalars(query))


def draft_document(dialogue: Dialogue) -> Document:
    return _parse(dialogue.draft, dialogue.kind)  # type: ignore[arg-type]


def _as_document(data: Any, kind: DocumentKind) -> Any:
    """`data` in its normal form (defaults left out, aliases used), to compare documents rather than how they were
    written; as it is when it does not parse."""
    document, _ = parse_document(data, kind)
    return document_to_data(document) if document is not None else data


def has_unpublished_changes(dialogue: Dialogue) -> bool:
    """True when the draft is another document than the live version (or nothing was ever published). Layout,
    comments and defaults written out do not count: the documents are compared, not their text."""
    live = next((v for v in dialogue.versions if v.number == dialogue.published_version), None)
    if live is None:
        return True
    kind: DocumentKind = "flow" if dialogue.kind == "flow" else "dialogue"
    return live.document != dialogue.draft and _as_document(live.document, kind) != _as_document(dialogue.draft, kind)


def create(session: Session, data: Any, kind: DocumentKind, now: datetime, text: str | None = None) -> Dialogue:
    """Creates a dialogue (or flow) whose draft is `data`; raises InvalidInput for a malformed document and
    Conflict when the key exists."""
    document = _parse(data, kind)
    if find(session, document.key) is not None:
        raise Conflict(f"A dialogue or flow with the key '{document.key}' exists already.", [Problem("key", "In use.")])
    dialogue = Dialogue(
        key=document.key,
        kind=kind,
        name=document.name,
        draft=document_to_data(document),
        draft_text=text,
        draft_updated_at=now,
        created_at=now,
    )
    session.add(dialogue)
    session.flush()
    return dialogue


def update_draft(
    session: Session,
    dialogue: Dialogue,
    data: Any,
    now: datetime,
    revision: int | None = None,
    text: str | None = None,
) -> None:
    """Replaces the draft (`text`: the YAML it was read from, kept to show it again as written). With
    `revision`, refuses (Conflict) when someone saved since that revision was read."""
    if dialogue.status == "archived":
        raise Conflict(f"'{dialogue.key}' is archived; clone it to edit a copy.")
    document = _parse(data, dialogue.kind)  # type: ignore[arg-type]
    if document.key != dialogue.key:
        raise InvalidInput(
            "The key cannot change.", [Problem("key", f"This is '{dialogue.key}'; clone it for another key.")]
        )
    expected = dialogue.revision if revision is None else revision
    changed = session.execute(
        update(Dialogue)
        .where(Dialogue.id == dialogue.id, Dialogue.revision == expected)
        .values(
            draft=document_to_data(document),
            draft_text=text,
            name=document.name,
            draft_updated_at=now,
            revision=expected + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Someone else saved '{dialogue.key}' meanwhile. Reload it, then make your change again.")
    session.refresh(dialogue)


def published_flows(session: Session, keys: Sequence[str] | None = None) -> dict[str, FlowDocument]:
    """The current published version of every reusable flow (or of those named)."""
    query = (
        select(Dialogue)
        .options(selectinload(Dialogue.versions))
        .where(Dialogue.kind == "flow", Dialogue.published_version.is_not(None), Dialogue.status != "archived")
    )
    if keys is not None:
        query = query.where(Dialogue.key.in_(list(keys)))
    flows = {}
    for flow in session.scalars(query):
        version = next(v for v in flow.versions if v.number == flow.published_version)
        flows[flow.key] = FlowDocument.model_validate(version.document)
    return flows


def _site_problems(session: Session, key: str) -> list[Problem]:
    known = list(session.scalars(select(Site.key).order_by(Site.key)))
    if key in known:
        return []
    return [
        Problem(
            "site",
            f"There is no site '{key}'. Add it in Configuration > Sites, or use one of: {', '.join(known) or 'none'}.",
        )
    ]


def problems_of(
    session: Session, dialogue: Dialogue, fields: FieldSchema, checks: Sequence[PublishCheck] = ()
) -> list[Problem]:
    """Every problem that would stop the draft from being published."""
    document, problems = parse_document(dialogue.draft, dialogue.kind)  # type: ignore[arg-type]
    if document is None:
        return problems
    flows = published_flows(session)
    problems = check_document(document, fields=fields, flows=flows)
    if isinstance(document, DialogueDocument):
        problems.extend(_site_problems(session, document.site))
    if not problems:
        for check in checks:
            problems.extend(check(document, flows))
    return problems


def publish(
    session: Session,
    dialogue: Dialogue,
    *,
    fields: FieldSchema,
    now: datetime,
    user_id: int | None = None,
    checks: Sequence[PublishCheck] = (),
) -> DialogueVersion:
    """Freezes the draft as the next version and makes it live; raises InvalidInput listing every problem."""
    if dialogue.status == "archived":
        raise Conflict(f"'{dialogue.key}' is archived; clone it to publish a copy.")
    if dialogue.status == "published" and not has_unpublished_changes(dialogue):
        raise Conflict(f"The draft is the same as the live version v{dialogue.published_version}: nothing to publish.")
    raise_for_problems(problems_of(session, dialogue, fields, checks), f"'{dialogue.key}'")
    number = (dialogue.published_version or 0) + 1
    version = DialogueVersion(number=number, document=dialogue.draft, published_at=now, published_by=user_id)
    dialogue.versions.append(version)
    dialogue.published_version = number
    dialogue.status = "published"
    signals.bump(session, signals.TARGETING)
    session.flush()
    return version


def pause(session: Session, dialogue: Dialogue) -> None:
    if dialogue.status != "published":
        raise Conflict(f"'{dialogue.key}' is {dialogue.status}; only a published one can be paused.")
    dialogue.status = "paused"
    signals.bump(session, signals.TARGETING)


def resume(session: Session, dialogue: Dialogue) -> None:
    if dialogue.status != "paused":
        raise Conflict(f"'{dialogue.key}' is {dialogue.status}; only a paused one can be resumed.")
    dialogue.status = "published"
    signals.bump(session, signals.TARGETING)


def archive(session: Session, dialogue: Dialogue) -> None:
    """Retires it: no longer shown or editable; its versions stay readable and running conversations finish."""
    dialogue.status = "archived"
    signals.bump(session, signals.TARGETING)


def clone(session: Session, dialogue: Dialogue, new_key: str, now: datetime, name: str | None = None) -> Dialogue:
    """A new draft dialogue with a copy of this one's draft under another key."""
    data = {**dialogue.draft, "key": new_key, "name": name or f"{dialogue.name} (copy)"}  # the copy starts as data
    return create(session, data, dialogue.kind, now)  # type: ignore[arg-type]


def version(session: Session, dialogue: Dialogue, number: int) -> DialogueVersion:
    found = session.scalar(
        select(DialogueVersion).where(DialogueVersion.dialogue_id == dialogue.id, DialogueVersion.number == number)
    )
    if found is None:
        raise NotFound(f"'{dialogue.key}' has no version {number}.")
    return found


def live_version(session: Session, dialogue: Dialogue) -> DialogueVersion:
    """The version new conversations start on; raises Conflict when the dialogue is not live."""
    if dialogue.status != "published" or dialogue.published_version is None:
        raise Conflict(f"'{dialogue.key}' is not live (it is {dialogue.status}).")
    return version(session, dialogue, dialogue.published_version)


@dataclass
class ImportResult:
    key: str
    created: bool
    published: DialogueVersion | None


def upsert(
    session: Session, data: Any, kind: DocumentKind, now: datetime, text: str | None = None
) -> tuple[Dialogue, bool]:
    """Creates, or updates the draft of, the dialogue with the document's key; returns (dialogue, created)."""
    document = _parse(data, kind)
    existing = find(session, document.key)
    if existing is None:
        return create(session, data, kind, now, text), True
    if existing.kind != kind:
        raise Conflict(f"'{document.key}' is a {existing.kind}, not a {kind}.")
    update_draft(session, existing, data, now, text=text)
    return existing, False


def keys_whose_documents(session: Session, names: Callable[[Any], bool], kind: DocumentKind | None = None) -> list[str]:
    """Keys of the dialogues and flows (`kind`: of that kind only), not archived, whose draft or live document (as
    stored: JSON data) `names` something, sorted. For "which dialogues name this site, this team..." before a delete."""
    published = select(DialogueVersion.dialogue_id, DialogueVersion.document).join(
        Dialogue, (Dialogue.id == DialogueVersion.dialogue_id) & (Dialogue.published_version == DialogueVersion.number)
    )
    live: dict[int, Any] = {dialogue_id: document for dialogue_id, document in session.execute(published)}
    query = select(Dialogue.id, Dialogue.key, Dialogue.draft).where(Dialogue.status != "archived")
    if kind is not None:
        query = query.where(Dialogue.kind == kind)
    return sorted(
        dialogue_key
        for dialogue_id, dialogue_key, draft in session.execute(query)
        if any(names(document) for document in (draft, live.get(dialogue_id)) if isinstance(document, dict))
    )


def keys_naming_site(session: Session, key: str) -> list[str]:
    """Keys of the dialogues (not archived) whose draft or live version names the site `key` (a document without
    `site:` names the default site)."""
    return keys_whose_documents(session, lambda document: (document.get("site") or DEFAULT_SITE) == key, "dialogue")
