"""Widget API: `Overture.identify` (a signed email from the host page) and the site's avatar. Both public; a
site's allowed origins say which pages may."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from overture.db import utcnow
from overture.errors import NotFound
from overture.sites import avatars
from overture.sites import service as sites
from overture.visits import identify
from overture.web.api import widget_access as access
from overture.web.api.widget_router import widget_router
from overture.web.deps import Context, DbSession

router = widget_router()
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key.")]
# The avatar is an image shown by <img>: nothing in it may run, even opened on its own (an SVG).
AVATAR_HEADERS = {
    "Cache-Control": "public, max-age=3600",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


class IdentifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(max_length=80, pattern=sites.KEY_PATTERN, description="The site's key (the snippet's data-site).")
    visitor_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    email: str = Field(min_length=3, max_length=254, description="The visitor's email, as the host's server knows it.")
    signature: str | None = Field(
        default=None,
        max_length=128,
        description="Hex HMAC-SHA256 of the lower-cased email, keyed with the site's identify secret, computed on "
        "the host's server. Required: a call without it is refused (401).",
    )
    consent: bool = Field(
        default=False,
        description="The visitor consented (the widget sends true only then); a site that requires consent refuses "
        "identify without it (403).",
    )


class IdentifyOut(BaseModel):
    visitor_id: str = Field(description="The visitor id to keep (the one sent, or a new one if it was unknown).")


@router.post("/identify", response_model=IdentifyOut, summary="Tell who the visitor is, signed by the site's server")
def identify_visitor(request: Request, session: DbSession, context: Context, body: IdentifyIn) -> Response:
    """Links the visitor to the person with this email (merging an anonymous visitor into them). Refused with 401,
    writing nothing, when the signature is missing or does not match."""
    site = sites.get(session, body.site)
    access.check_site(access.Caller.of(request, context), site.key, site.origins or ())
    access.check_consent(site.key, site.require_consent, body.consent)
    visitor_id = identify.identify(session, site, body.visitor_id, body.email, body.signature, utcnow())
    return Response(IdentifyOut(visitor_id=visitor_id).model_dump_json(), media_type="application/json")


@router.get(
    "/sites/{key}/avatar",
    summary="The site's avatar image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified (If-None-Match)"}},
)
def site_avatar(request: Request, session: DbSession, context: Context, key: SiteKey) -> Response:
    """The bot's picture, with an ETag; the visit call's appearance gives its address. An <img> sends no Origin
    header; a page's script that does must be of the site's origins, as for every widget call."""
    access.check_site(access.Caller.of(request, context), key, sites.get(session, key).origins or ())
    avatar = avatars.find_by_key(session, key)
    if avatar is None:
        raise NotFound(f"The site '{key}' has no avatar.")
    etag = f'"{avatar.sha256}"'
    headers = {**AVATAR_HEADERS, "ETag": etag}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(avatar.content, media_type=avatar.content_type, headers=headers)
