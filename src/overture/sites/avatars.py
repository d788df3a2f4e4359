"""The bot's avatar in a site's widget: checked on upload, one per site, served publicly at a stable address.

Rules: square, at most 256 KB and 200x200 px; PNG, GIF, JPEG or WebP (the type read from the bytes), or an SVG,
which is sanitised first (see `svg_sanitiser.py`) and must have a square viewBox. Changing the avatar bumps the
targeting signal: the visit call's appearance carries the avatar's address, with its hash as version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from overture import signals
from overture.errors import InvalidInput, Problem
from overture.sites import svg_sanitiser
from overture.sites.image_headers import read_header
from overture.sites.models import Site, SiteAvatar

MAX_BYTES = 256 * 1024
MAX_PIXELS = 200
SVG_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    content: bytes


def url_path(site_key: str, sha256: str) -> str:
    """Where the widget finds the avatar; the version changes with the picture, so caches never show an old one."""
    return f"/api/v1/widget/sites/{site_key}/avatar?v={sha256[:16]}"


def check(content: bytes) -> CheckedImage:
    """The image as it will be stored (an SVG sanitised). Raises InvalidInput (path `avatar`) saying what is
    wrong: empty, too large, not a supported type, not square, more than 200x200 px, an SVG we cannot read."""
    if not content:
        _refuse("The file is empty: choose an image.")
    if len(content) > MAX_BYTES:
        _refuse(f"The image is {len(content) // 1024} KB: use one of at most {MAX_BYTES // 1024} KB.")
    header = read_header(content)
    if header is not None:
        if header.width != header.height:
            _refuse(f"The image is {header.width}x{header.height} px: use a square one.")
        if header.width > MAX_PIXELS or header.width == 0:
            _refuse(f"The image is {header.width}x{header.height} px: use at most {MAX_PIXELS}x{MAX_PIXELS} px.")
        return CheckedImage(header.content_type, content)
    if b"<svg" not in content[:4096].lower():
        _refuse("Use a PNG, JPEG, GIF, WebP or SVG image.")
    try:
        clean = svg_sanitiser.sanitise(content)
    except svg_sanitiser.UnsafeSvg as exc:
        _refuse(str(exc))
    if svg_sanitiser.square_side(clean) is None:
        _refuse('The SVG is not square: give it a square viewBox, e.g. viewBox="0 0 64 64".')
    return CheckedImage(SVG_TYPE, clean)


def _refuse(message: str) -> NoReturn:
    raise InvalidInput(f"The avatar is not saved: {message}", [Problem("avatar", message)])


def find(session: Session, site: Site) -> SiteAvatar | None:
    return session.scalar(select(SiteAvatar).where(SiteAvatar.site_id == site.id))


def find_by_key(session: Session, site_key: str) -> SiteAvatar | None:
    return session.scalar(select(SiteAvatar).join(Site, Site.id == SiteAvatar.site_id).where(Site.key == site_key))


def upload(session: Session, site: Site, content: bytes, now: datetime) -> SiteAvatar:
    """Checks the image and makes it the site's avatar (replacing any). Raises InvalidInput as `check` does."""
    image = check(content)
    avatar = find(session, site)
    if avatar is None:
        avatar = SiteAvatar(site_id=site.id)
        session.add(avatar)
    avatar.content_type = image.content_type
    avatar.content = image.content
    avatar.sha256 = hashlib.sha256(image.content).hexdigest()
    avatar.uploaded_at = now
    session.flush()
    signals.bump(session, signals.TARGETING)
    return avatar


def remove(session: Session, site: Site) -> bool:
    """Removes the site's avatar (the widget shows the bot's initial); False when there was none."""
    result = session.execute(delete(SiteAvatar).where(SiteAvatar.site_id == site.id))
    removed = bool(result.rowcount)  # type: ignore[attr-defined]
    if removed:
        signals.bump(session, signals.TARGETING)
    return removed
