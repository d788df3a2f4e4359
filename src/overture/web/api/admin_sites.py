"""Admin API: sites, the websites that embed the widget: allowed origins, the chat switch, email security and
language settings, the snippet to paste, and the body of the meeting invitation email with its preview. Everything
the Sites page does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from overture.db import utcnow
from overture.dialogues import service as dialogues
from overture.sites import invitation_body
from overture.sites import service as sites
from overture.sites.models import Site
from overture.sites.schemas import (
    InvitationBodyPublic,
    InvitationBodyUpdate,
    InvitationPreviewPublic,
    SiteCreate,
    SitePublic,
    SiteUpdate,
)
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ConfigurationApiUser

router = APIRouter(prefix="/api/v1/admin/sites", tags=["sites"], responses=API_ERROR_RESPONSES)
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key.")]


def public(request: Request, site: Site) -> SitePublic:
    return SitePublic.of(site, sites.snippet(site, request.app.state.context.settings.base_url))


@router.get("", summary="List sites")
def list_sites(request: Request, session: DbSession, _: ConfigurationApiUser) -> list[SitePublic]:
    return [public(request, site) for site in sites.list_sites(session)]


@router.post("", status_code=201, summary="Add a site")
def create_site(request: Request, session: DbSession, _: ConfigurationApiUser, body: SiteCreate) -> SitePublic:
    return public(request, sites.create(session, body.key, body.changes(), utcnow()))


@router.get("/{key}", summary="One site, with its snippet")
def get_site(request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> SitePublic:
    return public(request, sites.get(session, key))


@router.patch("/{key}", summary="Change a site's settings (only those sent)")
def update_site(
    request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey, body: SiteUpdate
) -> SitePublic:
    return public(request, sites.update(session, sites.get(session, key), body.changes()))


@router.delete("/{key}", summary="Delete a site no dialogue names (its page views go with it)")
def delete_site(request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> SitePublic:
    site = sites.get(session, key)
    shown = public(request, site)
    sites.delete(session, site, dialogues.keys_naming_site(session, key))
    return shown


# --- the invitation email body ------------------------------------------------------------------------------------


@router.get("/{key}/invitation-body", summary="The site's meeting invitation body, the default and the tokens")
def get_invitation_body(session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> InvitationBodyPublic:
    return invitation_body.public(sites.get(session, key))


@router.put("/{key}/invitation-body", summary="Set the site's invitation body (null: the default)")
def put_invitation_body(
    session: DbSession, _: ConfigurationApiUser, key: SiteKey, body: InvitationBodyUpdate
) -> InvitationBodyPublic:
    return invitation_body.public(invitation_body.save(sites.get(session, key), body.body))


@router.post(
    "/{key}/invitation-body/preview",
    summary="Render a body with a sample meeting, without saving it (a mistake is answered with its line)",
)
def preview_invitation_body(
    session: DbSession, _: ConfigurationApiUser, key: SiteKey, body: InvitationBodyUpdate
) -> InvitationPreviewPublic:
    sites.get(session, key)
    return invitation_body.preview(body.body)
