"""The Appearance page of a site: every setting of how the widget looks, contrast warnings beside the colours, the
avatar, and a live preview: the real widget (/widget.js and the panel's files) in iframes of a small page of ours,
on a sample conversation, following the form as it is typed (the page's script asks the check route for the
appearance and the warnings, and hands the appearance to the frames). Also the rotation of the site's identify
secret, shown on the site page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from overture.db import utcnow
from overture.errors import InvalidInput
from overture.sites import appearance as appearances
from overture.sites import avatars, signing
from overture.sites import service as sites
from overture.sites.appearance import Appearance, Colors, WidgetAppearance
from overture.sites.models import Site
from overture.users.models import User
from overture.web.deps import DbSession
from overture.web.errors import error_body
from overture.web.guards import ConfigurationPageUser
from overture.web.pages.forms import refuse, refuse_with_flash
from overture.web.pages.rendering import flash, page_router, redirect, render, succeeded

router = page_router()
SiteKey = Annotated[str, Path(max_length=80, pattern=sites.KEY_PATTERN)]
SITES = "/admin/configuration/sites"
# Each element and the text on it, in the order of the form: (element's label, text's label, text's setting).
COLOR_PAIRS = {
    "header": ("Header", "Header text", "header_text"),
    "bot_bubble": ("Bot's bubbles", "Bot's bubble text", "bot_bubble_text"),
    "visitor_bubble": ("Visitor's bubbles", "Visitor's bubble text", "visitor_bubble_text"),
    "buttons": ("Buttons", "Button text", "buttons_text"),
    "background": ("Panel background", "Panel text", "text"),
}
# The text colours that may be automatic: the form sends "auto.colors.NAME" = true for them.
AUTOMATIC = tuple(name for name, field in Colors.model_fields.items() if field.default is None)
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
    for color in AUTOMATIC:
        if text(f"auto.colors.{color}") == "true":
            _put(document, f"colors.{color}", None)
    for name in NUMBERS:
        if text(name).strip():
            _put(document, name, text(name).strip())
    for name in OPTIONAL_TEXTS:
        _put(document, name, text(name).strip() or None)
    for name in CHECKS:
        _put(document, name, text(name) == "true")
    return document


FormDocument = Annotated[dict[str, Any], Depends(form_document)]


def _automatic_inks(form: dict[str, Any]) -> dict[str, str]:
    """The colour each automatic text colour stands for on the form's element colours, to show in its input."""
    inks = {}
    for element, (setting, *_) in appearances.TEXT_BACKGROUNDS.items():
        try:
            inks[setting] = appearances.readable_on(str(form.get(f"colors.{element}")))
        except ValidationError:  # not a colour (the form was refused): its problem is shown beside it
            inks[setting] = appearances.DARK_INK
    return inks


def _widget_look(session: Session, site: Site, appearance: Appearance) -> dict[str, Any]:
    """What the widget would get from the visit call with this appearance (automatic colours worked out)."""
    avatar = avatars.find(session, site)
    avatar_url = avatars.url_path(site.key, avatar.sha256) if avatar else None
    return WidgetAppearance.model_validate({**appearance.model_dump(), "avatar_url": avatar_url}).model_dump(
        mode="json"
    )


def _page(request: Request, session: Session, user: User, site: Site, status: int = 200, **extra: Any) -> Response:
    appearance = appearances.stored(site.appearance)
    avatar = avatars.find(session, site)
    form = extra.pop("form", None) or flat(appearance.model_dump())
    return render(
        request,
        "admin/appearance.html",
        user,
        status=status,
        site=site,
        form=form,
        inks=_automatic_inks(form),
        contrast=appearances.contrast_by_color(appearance),
        color_pairs=COLOR_PAIRS,
        automatic=AUTOMATIC,
        icons=appearances.LAUNCHER_ICONS,
        sounds=appearances.SOUNDS,
        avatar_url=avatars.url_path(site.key, avatar.sha256) if avatar else None,
        avatar_limits={"kb": avatars.MAX_BYTES // 1024, "px": avatars.MAX_PIXELS},
        **extra,
    )


@router.get(SITES + "/{key}/appearance")
def appearance_page(request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey) -> Response:
    return _page(request, session, user, sites.get(session, key))


@router.post(SITES + "/{key}/appearance")
def save_appearance(
    request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey, document: FormDocument
) -> Response:
    site = sites.get(session, key)
    try:
        appearances.save(session, site, document)
    except InvalidInput as exc:
        return _page(request, session, user, sites.get(session, key), **refuse(session, exc, flat(document)).shown())
    return succeeded(
        request,
        f"The appearance of '{site.name}' is saved: the widget shows it within a second.",
        f"{SITES}/{key}/appearance",
    )


@router.post(SITES + "/{key}/avatar")
def upload_avatar(
    request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey, avatar: UploadFile
) -> Response:
    site = sites.get(session, key)
    try:
        avatars.upload(session, site, avatar.file.read(avatars.MAX_BYTES + 1), utcnow())
    except InvalidInput as exc:
        return refuse_with_flash(request, session, exc, f"{SITES}/{key}/appearance#avatar")
    return succeeded(request, "The avatar is saved.", f"{SITES}/{key}/appearance#avatar")


@router.post(SITES + "/{key}/avatar/delete")
def remove_avatar(request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey) -> Response:
    if avatars.remove(session, sites.get(session, key)):
        flash(request, "The avatar is removed: the widget shows the bot's initial.", "success")
    return redirect(f"{SITES}/{key}/appearance#avatar")


@router.post(SITES + "/{key}/appearance/check")
def check_appearance(session: DbSession, user: ConfigurationPageUser, key: SiteKey, document: FormDocument) -> Response:
    """The form as it is being typed, nothing saved: the appearance the widget would get and the contrast
    warnings by element; or (422) the API's error shape, each problem with its path. The page's script shows them in
    the preview."""
    site = sites.get(session, key)
    try:
        appearance = appearances.validate(document)
    except InvalidInput as exc:  # answered, not raised: a page route's errors are pages, this one is read by a script
        return JSONResponse(error_body(exc.status, exc.message, exc.problems), status_code=exc.status)
    return JSONResponse(
        {
            "ok": True,
            "appearance": _widget_look(session, site, appearance),
            "contrast": appearances.contrast_by_color(appearance),
        }
    )


@router.get(SITES + "/{key}/appearance/preview")
def preview(
    request: Request,
    session: DbSession,
    user: ConfigurationPageUser,
    key: SiteKey,
    show: Annotated[
        Literal["chat", "teaser"], Query(description="The open chat, or the launcher and teaser.")
    ] = "chat",
) -> Response:
    """A plain page that runs the real widget on a sample conversation, framed by the Appearance page: the open
    chat, or the closed launcher with its teaser. Its script answers the widget's calls itself, so nothing is
    written, and takes each new appearance from the Appearance page."""
    site = sites.get(session, key)
    response = render(
        request,
        "admin/appearance_preview.html",
        user,
        site=site,
        show=show,
        look=_widget_look(session, site, appearances.stored(site.appearance)),
    )
    response.headers.update(PREVIEW_HEADERS)
    return response


@router.post(SITES + "/{key}/identify-secret")
def rotate_identify_secret(request: Request, session: DbSession, user: ConfigurationPageUser, key: SiteKey) -> Response:
    signing.rotate_secret(session, sites.get(session, key))
    return succeeded(
        request,
        "The identify secret is rotated. Put the new one on your server: identify calls signed with the old one "
        "are refused from now on.",
        f"{SITES}/{key}#identify",
    )
