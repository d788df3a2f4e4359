"""Admin API: sites, the websites that embed the widget: allowed origins, the chat switch, email security and
language settings, and the snippet to paste. Everything the Sites page does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.dialogues.models import Dialogue, DialogueVersion
from overture.sites import service as sites
from overture.sites.models import Site
from overture.sites.schemas import SiteCreate, SitePublic, SiteUpdate
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import AreaGuard, DbSession
from overture.web.errors import API_ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/admin/sites", tags=["sites"], responses=API_ERROR_RESPONSES)
Configurer = Annotated[User, Depends(AreaGuard(Area.configuration, api=True))]
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key.")]


def dialogues_naming(session: Session, key: str) -> list[str]:
    """Keys of the dialogues (not archived) whose draft or live version names the site `key` (a document without
    `site:` names the default site)."""
    live = {
        dialogue_id: document
        for dialogue_id, document in session.execute(
            select(DialogueVersion.dialogue_id, DialogueVersion.document).join(
                Dialogue,
                (Dialogue.id == DialogueVersion.dialogue_id) & (Dialogue.published_version == DialogueVersion.number),
            )
        )
    }
    rows = session.execute(
        select(Dialogue.id, Dialogue.key, Dialogue.draft).where(
            Dialogue.kind == "dialogue", Dialogue.status != "archived"
        )
    )
    found = []
    for dialogue_id, dialogue_key, draft in rows:
        documents = [draft, live.get(dialogue_id)]
        if any(isinstance(doc, dict) and (doc.get("site") or sites.DEFAULT_SITE) == key for doc in documents):
            found.append(dialogue_key)
    return sorted(found)


def public(request: Request, site: Site) -> SitePublic:
    return SitePublic.of(site, sites.snippet(site, request.app.state.context.settings.base_url))


@router.get("", summary="List sites")
def list_sites(request: Request, session: DbSession, _: Configurer) -> list[SitePublic]:
    return [public(request, site) for site in sites.list_sites(session)]


@router.post("", status_code=201, summary="Add a site")
def create_site(request: Request, session: DbSession, _: Configurer, body: SiteCreate) -> SitePublic:
    return public(request, sites.create(session, body.key, body.changes(), utcnow()))


@router.get("/{key}", summary="One site, with its snippet")
def get_site(request: Request, session: DbSession, _: Configurer, key: SiteKey) -> SitePublic:
    return public(request, sites.get(session, key))


@router.patch("/{key}", summary="Change a site's settings (only those sent)")
def update_site(request: Request, session: DbSession, _: Configurer, key: SiteKey, body: SiteUpdate) -> SitePublic:
    return public(request, sites.update(session, sites.get(session, key), body.changes()))


@router.delete("/{key}", summary="Delete a site no dialogue names (its page views go with it)")
def delete_site(request: Request, session: DbSession, _: Configurer, key: SiteKey) -> SitePublic:
    site = sites.get(session, key)
    shown = public(request, site)
    sites.delete(session, site, dialogues_naming(session, key))
    return shown
