"""The Dialogues page: the list, and an editor of the YAML document with its problems shown line by line,
publish, pause, resume, archive, clone and the version history. The visual designer will edit the same document."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.conversations.scenarios import scenario_check
from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.dialogues.document import KEY_PATTERN
from overture.dialogues.models import Dialogue
from overture.dialogues.validation import parse_document
from overture.dialogues.yaml_io import dump_yaml, line_of, load_yaml
from overture.errors import Conflict, InvalidInput, OvertureError, Problem
from overture.people.models import Person
from overture.people.service import field_schema
from overture.sites import service as sites_service
from overture.sites.demo import demo_pages
from overture.sites.models import Site
from overture.sites.service import DEFAULT_SITE
from overture.users.models import User
from overture.visits.explain import explain
from overture.visits.schemas import parsable_url
from overture.web.context import AppContext
from overture.web.deps import Context, DbSession
from overture.web.guards import DialoguesPageUser
from overture.web.pages.forms import Posted, refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, render, succeeded

router = page_router()
DialogueKey = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN)]


def starter(key: str, name: str, site: str | None = None) -> dict[str, object]:
    """A new document that is valid from the start, to edit from; a dialogue names its site, a flow has none."""
    return {
        "key": key,
        "name": name,
        **({"site": site} if site is not None else {}),
        "flow": {"start": "hello", "cards": {"hello": {"say": "Hello! How can we help you today?", "end": True}}},
    }


def _site_choices(session: Session) -> tuple[list[Site], str | None]:
    """The sites a new dialogue may belong to, and the one offered first: the only one, else the site most dialogues
    belong to (the demo's website, in the demo), else the first listed."""
    sites = sites_service.list_sites(session)
    used = Counter(
        draft.get("site", DEFAULT_SITE)
        for draft in session.scalars(select(Dialogue.draft).where(Dialogue.kind == "dialogue"))
        if isinstance(draft, dict)
    )
    keys = [site.key for site in sites]
    best = max(keys, key=lambda key: (used[key], -keys.index(key)), default=None)
    return sites, best


def _list(
    request: Request, session: Session, user: User, form: dict[str, str], status: int = 200, **extra: Any
) -> Response:
    sites, offered = _site_choices(session)
    return render(
        request,
        "admin/dialogues.html",
        user,
        status=status,
        items=dialogues.list_all(session, archived=True),
        sites=sites,
        form={"site": offered, **form},
        key_pattern=KEY_PATTERN,
        **extra,
    )


def _located(text: str, problems: list[Problem]) -> list[dict[str, object]]:
    return [{"path": p.path, "message": p.message, "line": line_of(text, p.path)} for p in problems]


def _editor(
    request: Request,
    session: Session,
    user: User,
    dialogue: Dialogue,
    *,
    text: str | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
    explain: dict[str, Any] | None = None,
) -> Response:
    if text is None:
        text = dialogue.draft_text if dialogue.draft_text is not None else dump_yaml(dialogue.draft)
    if problems is None:
        problems = dialogues.problems_of(session, dialogue, field_schema(session))
    return render(
        request,
        "admin/dialogue.html",
        user,
        status=status,
        dialogue=dialogue,
        text=text,
        problems=_located(text, problems),
        unpublished=dialogues.has_unpublished_changes(dialogue),
        explain=explain or {},
    )


@router.get("/admin/dialogues")
def list_page(request: Request, session: DbSession, user: DialoguesPageUser) -> Response:
    return _list(request, session, user, {})


class NewDialogueForm(BaseModel):
    key: str = Field(max_length=80)
    name: str = Field(max_length=200)
    kind: Literal["dialogue", "flow"] = "dialogue"
    site: str = Field("", max_length=80)


@router.post("/admin/dialogues")
def create(request: Request, session: DbSession, user: DialoguesPageUser, sent: Posted[NewDialogueForm]) -> Response:
    key, name, kind = sent.key, sent.name, sent.kind
    site = sent.site or (_site_choices(session)[1] or "")  # a form without the field: the site the select offers
    form = {**sent.model_dump(), "site": site}
    try:
        if kind == "dialogue" and sites_service.find(session, site) is None:
            # A dialogue of a site that does not exist would never show anywhere.
            raise InvalidInput("Choose the site the dialogue is for.", [Problem("site", f"There is no site '{site}'.")])
        document = starter(key.strip(), name.strip(), site if kind == "dialogue" else None)
        # Kept as text too: the stored document leaves out `site: default`, a default value, but the editor shows it.
        dialogue = dialogues.create(session, document, kind, utcnow(), text=dump_yaml(document))
    except (InvalidInput, Conflict) as exc:
        return _list(request, session, user, **refuse(session, exc, form).shown())
    return succeeded(
        request,
        f"'{dialogue.name}' is created. Write its flow below, then publish it.",
        f"/admin/dialogues/{dialogue.key}",
    )


@router.get("/admin/dialogues/{key}")
def editor(
    request: Request,
    session: DbSession,
    context: Context,
    user: DialoguesPageUser,
    key: DialogueKey,
    explain_url: Annotated[str, Query(max_length=2000)] = "",
    explain_person: Annotated[str, Query(max_length=254)] = "",
) -> Response:
    dialogue = dialogues.get(session, key)
    explained = (
        _explain(session, context, dialogue, explain_url.strip(), explain_person.strip()) if explain_url else None
    )
    return _editor(
        request, session, user, dialogue, explain={"url": explain_url, "person": explain_person, **(explained or {})}
    )


def _explain(session: Session, context: AppContext, dialogue: Dialogue, url: str, person: str) -> dict[str, Any]:
    """Why this dialogue would or would not show on `url` to `person` (an email or an id; empty: a new visitor)."""
    if not url.lower().startswith(("http://", "https://")):
        return {"error": "Give the page's full address, starting with https://."}
    try:
        url = parsable_url(url)
    except ValueError as exc:
        return {"error": f"This address cannot be read: {exc}."}
    person_id: int | None = None
    if person:
        found = session.scalar(
            select(Person.id).where(
                Person.id == int(person) if person.isdigit() and len(person) < 10 else Person.email == person.lower()
            )
        )
        if found is None:
            return {"error": f"No person has the email or id {person}."}
        person_id = found
    try:
        # The site is the one a visitor of the URL gets (by allowed origins), as in the API and the CLI.
        explained = explain(session.connection(), context.selector_cache, url=url, person_id=person_id, now=utcnow(),
                            embedded=demo_pages(context.settings.base_url))  # fmt: skip
    except OvertureError as exc:
        return {"error": exc.message}
    shown = next((verdict.key for verdict in explained.verdicts if verdict.shown), None)
    return {
        "verdict": explained.for_dialogue(dialogue.key),
        "shown": shown,
        "continuing": explained.continuing,
        "site": explained.site,
    }


@router.post("/admin/dialogues/{key}")
def save(
    request: Request,
    session: DbSession,
    user: DialoguesPageUser,
    key: DialogueKey,
    document: Annotated[str, Form(max_length=500_000)],
    revision: Annotated[int, Form(ge=1)],
) -> Response:
    dialogue = dialogues.get(session, key)
    data, problems = load_yaml(document)
    if not problems:
        _, problems = parse_document(data, dialogue.kind)  # type: ignore[arg-type]
    if problems:
        # Not saved: the text stays in the editor with every problem, nothing half-written is stored.
        return _editor(request, session, user, dialogue, text=document, problems=problems, status=422)
    try:
        dialogues.update_draft(session, dialogue, data, utcnow(), revision=revision, text=document)
    except (Conflict, InvalidInput) as exc:
        refused = refuse(session, exc, {"document": document})
        return _editor(
            request,
            session,
            user,
            dialogue,
            text=document,
            problems=refused.all_problems or [Problem("document", refused.message)],
            status=refused.status,
        )
    return succeeded(request, "The draft is saved.", f"/admin/dialogues/{key}")


@router.post("/admin/dialogues/{key}/publish")
def publish(request: Request, session: DbSession, user: DialoguesPageUser, key: DialogueKey) -> Response:
    dialogue = dialogues.get(session, key)
    try:
        version = dialogues.publish(
            session, dialogue, fields=field_schema(session), now=utcnow(), user_id=user.id, checks=[scenario_check]
        )
    except (InvalidInput, Conflict) as exc:
        refused = refuse(session, exc, {})
        flash(request, f"Not published: {refused.message} Fix what is listed below, then publish again.", "error")
        return _editor(
            request, session, user, dialogues.get(session, key), problems=refused.all_problems, status=refused.status
        )
    return succeeded(request, f"Version {version.number} is published and live.", f"/admin/dialogues/{key}")


def _state_change(request: Request, session: Session, key: str, change: str) -> Response:
    dialogue = dialogues.get(session, key)
    actions = {"pause": dialogues.pause, "resume": dialogues.resume, "archive": dialogues.archive}
    try:
        actions[change](session, dialogue)
    except Conflict as exc:
        return refuse_with_flash(request, session, exc, f"/admin/dialogues/{key}")
    done = {"pause": "paused: it is no longer shown", "resume": "live again", "archive": "archived"}
    return succeeded(request, f"'{dialogue.name}' is {done[change]}.", f"/admin/dialogues/{key}")


@router.post("/admin/dialogues/{key}/pause")
def pause(request: Request, session: DbSession, user: DialoguesPageUser, key: DialogueKey) -> Response:
    return _state_change(request, session, key, "pause")


@router.post("/admin/dialogues/{key}/resume")
def resume(request: Request, session: DbSession, user: DialoguesPageUser, key: DialogueKey) -> Response:
    return _state_change(request, session, key, "resume")


@router.post("/admin/dialogues/{key}/archive")
def archive(request: Request, session: DbSession, user: DialoguesPageUser, key: DialogueKey) -> Response:
    return _state_change(request, session, key, "archive")


@router.post("/admin/dialogues/{key}/clone")
def clone(
    request: Request,
    session: DbSession,
    user: DialoguesPageUser,
    key: DialogueKey,
    new_key: Annotated[str, Form(max_length=80)],
) -> Response:
    try:
        copy = dialogues.clone(session, dialogues.get(session, key), new_key.strip(), utcnow())
    except (InvalidInput, Conflict) as exc:
        return refuse_with_flash(request, session, exc, f"/admin/dialogues/{key}", lead="Not cloned: ")
    return succeeded(request, f"Cloned as '{copy.key}', a new draft.", f"/admin/dialogues/{copy.key}")


@router.get("/admin/dialogues/{key}/versions/{number}")
def version_page(
    request: Request,
    session: DbSession,
    user: DialoguesPageUser,
    key: DialogueKey,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
) -> Response:
    dialogue = dialogues.get(session, key)
    version = dialogues.version(session, dialogue, number)
    return render(
        request,
        "admin/dialogue_version.html",
        user,
        dialogue=dialogue,
        version=version,
        text=dump_yaml(version.document),
    )
