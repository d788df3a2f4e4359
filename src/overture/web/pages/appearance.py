"""The Appearance page of a site: every setting of how the widget looks, contrast warnings beside the colours, the
avatar, and a live preview of the real widget (an iframe of a small page that loads /widget.js with the site).
Also the rotation of the site's identify secret, shown on the site page."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, Path, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import InvalidInput
from overture.sites import appearance as appearances
from overture.sites import avatars, identify
from overture.sites import service as sites
from overture.sites.appearance import Colors
from overture.sites.models import Site
from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import AreaGuard, DbSession
from overture.web.pages.rendering import flash, page_router, redirect, render

router = page_router()
Configurer = Annotated[User, Depends(AreaGuard(Area.configuration, api=False))]
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN)]
SITES = "/admin/configuration/sites"
COLOR_LABELS = {
    "header": "Header",
    "bot_bubble": "Bot's bubbles",
    "visitor_bubble": "Visitor's bubbles",
    "buttons": "Buttons",
    "text": "Text (on all of the above)",
    "background": "Panel background",
    "launcher": "Launcher",
}
NUMBERS = ("corner_radius", "launcher.offset_x", "launcher.offset_y", "response_delay_ms", "z_index")
OPTIONAL_TEXTS = ("font.name", "font.url", "privacy_policy_url")
TEXTS = ("header_label", "bot_name", "font.family", "launcher.position", "launcher.icon", "sound", "teaser.text")
CHECKS = ("teaser.desktop", "teaser.mobile")
FORM_LIMIT = 600  # characters per field; the document's own limits are smaller
# The preview is framed by the Appearance page (same origin) and runs the widget: inline styles and web fonts.
PREVIEW_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
        "font-src 'self' data: https:; script-src 'self'; connect-src 'self'; frame-ancestors 'self'; "
        "form-action 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-frame-options": "SAMEORIGIN",
}


def flat(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"colors": {"header": ...}} as {"colors.header": ...}: form field names are the document's paths."""
    values: dict[str, Any] = {}
    for name, value in document.items():
        if isinstance(value, dict):
            values.update(flat(value, f"{prefix}{name}."))
        else:
            values[f"{prefix}{name}"] = value
    return values


def _put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[last] = value


async def form_document(request: Request) -> dict[str, Any]:
    """The posted form as an appearance document (blank numbers and optional texts left to their defaults)."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value[:FORM_LIMIT] if isinstance(value, str) else ""

    document: dict[str, Any] = {}
    for name in (*TEXTS, *(f"colors.{color}" for color in Colors.model_fields)):
        if name in form:
            _put(document, name, text(name))
    for name in NUMBERS:
        if text(name).strip():
            _put(document, name, text(name).strip())
    for name in OPTIONAL_TEXTS:
        _put(document, name, text(name).strip() or None)
    for name in CHECKS:
        _put(document, name, text(name) == "true")
    return document


FormDocument = Annotated[dict[str, Any], Depends(form_document)]


def _page(request: Request, session: Session, user: User, site: Site, status: int = 200, **extra: Any) -> Response:
    appearance = appearances.stored(site.appearance)
    avatar = avatars.find(session, site)
    return render(
        request,
        "admin/appearance.html",
        user,
        status=status,
        site=site,
        form=extra.pop("form", None) or flat(appearance.model_dump()),
        contrast=appearances.contrast_by_color(appearance),
        color_labels=COLOR_LABELS,
        icons=appearances.LAUNCHER_ICONS,
        sounds=appearances.SOUNDS,
        avatar_url=avatars.url_path(site.key, avatar.sha256) if avatar else None,
        avatar_limits={"kb": avatars.MAX_BYTES // 1024, "px": avatars.MAX_PIXELS},
        **extra,
    )


@router.get(SITES + "/{key}/appearance")
def appearance_page(request: Request, session: DbSession, user: Configurer, key: SiteKey) -> Response:
    return _page(request, session, user, sites.get(session, key))


@router.post(SITES + "/{key}/appearance")
def save_appearance(
    request: Request, session: DbSession, user: Configurer, key: SiteKey, document: FormDocument
) -> Response:
    site = sites.get(session, key)
    try:
        appearances.save(session, site, document)
    except InvalidInput as exc:
        session.rollback()
        return _page(
            request, session, user, sites.get(session, key), status=exc.status, form=flat(document),
            error=exc.message, problems={p.path: p.message for p in exc.problems},
        )  # fmt: skip
    flash(request, f"The appearance of '{site.name}' is saved: the widget shows it within a second.", "success")
    return redirect(f"{SITES}/{key}/appearance")


@router.post(SITES + "/{key}/avatar")
def upload_avatar(request: Request, session: DbSession, user: Configurer, key: SiteKey, avatar: UploadFile) -> Response:
    site = sites.get(session, key)
    try:
        avatars.upload(session, site, avatar.file.read(avatars.MAX_BYTES + 1), utcnow())
    except InvalidInput as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(f"{SITES}/{key}/appearance#avatar")
    flash(request, "The avatar is saved.", "success")
    return redirect(f"{SITES}/{key}/appearance#avatar")


@router.post(SITES + "/{key}/avatar/delete")
def remove_avatar(request: Request, session: DbSession, user: Configurer, key: SiteKey) -> Response:
    if avatars.remove(session, sites.get(session, key)):
        flash(request, "The avatar is removed: the widget shows the bot's initial.", "success")
    return redirect(f"{SITES}/{key}/appearance#avatar")


def widget_served(request: Request) -> bool:
    """Whether this Overture serves /widget.js (its route and its files are there)."""
    routed = any(getattr(route, "path", None) == "/widget.js" for route in request.app.routes)
    return routed and (resources.files("overture") / "widget").is_dir()


@router.get(SITES + "/{key}/appearance/preview")
def preview(request: Request, session: DbSession, user: Configurer, key: SiteKey) -> Response:
    """A plain page with the site's snippet, framed by the Appearance page. Until /widget.js is served, a still
    drawing of the launcher and panel in the saved colours stands in for it."""
    site = sites.get(session, key)
    avatar = avatars.find(session, site)
    response = render(
        request,
        "admin/appearance_preview.html",
        user,
        site=site,
        appearance=appearances.stored(site.appearance),
        avatar_url=avatars.url_path(site.key, avatar.sha256) if avatar else None,
        widget_served=widget_served(request),
    )
    response.headers.update(PREVIEW_HEADERS)
    return response


@router.post(SITES + "/{key}/identify-secret")
def rotate_identify_secret(request: Request, session: DbSession, user: Configurer, key: SiteKey) -> Response:
    identify.rotate_secret(session, sites.get(session, key))
    flash(
        request,
        "The identify secret is rotated. Put the new one on your server: identify calls signed with the old one "
        "are refused from now on.",
        "success",
    )
    return redirect(f"{SITES}/{key}#identify")
