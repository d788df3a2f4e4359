"""Admin API: how the widget looks on a site (the appearance document, the avatar) and the secret that signs
`Overture.identify` calls. Everything the Appearance page and the site page's identify section do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import NotFound
from overture.sites import appearance as appearances
from overture.sites import avatars, signing
from overture.sites import service as sites
from overture.sites.appearance import Appearance
from overture.sites.models import Site
from overture.web.deps import DbSession
from overture.web.errors import API_ERROR_RESPONSES
from overture.web.guards import ConfigurationApiUser

router = APIRouter(prefix="/api/v1/admin/sites", tags=["sites"], responses=API_ERROR_RESPONSES)
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key.")]


class AppearanceOut(BaseModel):
    appearance: Appearance = Field(description="Every setting, defaults filled.")
    avatar_url: str | None = Field(description="The avatar's public address, or none.")
    contrast_warnings: list[str] = Field(description="Text colours below 4.5:1 on an element (WCAG 2.1 AA).")


class IdentifySecretOut(BaseModel):
    identify_secret: str = Field(description="Keep it on your server: it signs Overture.identify calls.")


def appearance_out(request: Request, session: Session, site: Site) -> AppearanceOut:
    appearance = appearances.stored(site.appearance)
    avatar = avatars.find(session, site)
    base = request.app.state.context.settings.base_url.rstrip("/")
    return AppearanceOut(
        appearance=appearance,
        avatar_url=base + avatars.url_path(site.key, avatar.sha256) if avatar else None,
        contrast_warnings=appearances.contrast_warnings(appearance),
    )


@router.get("/{key}/appearance", summary="How the widget looks on a site")
def get_appearance(request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> AppearanceOut:
    return appearance_out(request, session, sites.get(session, key))


@router.put("/{key}/appearance", summary="Replace the appearance (settings left out take their defaults)")
def put_appearance(
    request: Request,
    session: DbSession,
    _: ConfigurationApiUser,
    key: SiteKey,
    body: Annotated[
        dict[str, Any],
        Body(
            description="The appearance document (see the GET answer's `appearance` for every setting). Every "
            "problem is answered at once, with its path.",
            examples=[{"bot_name": "Ada", "colors": {"header": "#0b3d91", "header_text": "#ffffff"}}],
        ),
    ],
) -> AppearanceOut:
    site = sites.get(session, key)
    appearances.save(session, site, body)
    return appearance_out(request, session, site)


@router.put("/{key}/avatar", summary="Upload the avatar (multipart, field `file`)")
def put_avatar(
    request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey, file: UploadFile
) -> AppearanceOut:
    """Square, at most 256 KB and 200x200 px; PNG, JPEG, GIF, WebP, or SVG (sanitised: scripts, event handlers,
    external references and foreignObject are removed)."""
    site = sites.get(session, key)
    avatars.upload(session, site, file.file.read(avatars.MAX_BYTES + 1), utcnow())
    return appearance_out(request, session, site)


@router.delete("/{key}/avatar", summary="Remove the avatar (the widget shows the bot's initial)")
def delete_avatar(request: Request, session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> AppearanceOut:
    site = sites.get(session, key)
    if not avatars.remove(session, site):
        raise NotFound(f"The site '{key}' has no avatar.")
    return appearance_out(request, session, site)


@router.get("/{key}/identify-secret", summary="The secret that signs Overture.identify calls")
def get_identify_secret(session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> IdentifySecretOut:
    return IdentifySecretOut(identify_secret=sites.get(session, key).identify_secret)


@router.post("/{key}/identify-secret", summary="Rotate the identify secret (the old one stops working at once)")
def rotate_identify_secret(session: DbSession, _: ConfigurationApiUser, key: SiteKey) -> IdentifySecretOut:
    return IdentifySecretOut(identify_secret=signing.rotate_secret(session, sites.get(session, key)))
