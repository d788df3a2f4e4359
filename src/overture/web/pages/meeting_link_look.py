"""How the visitor's meeting pages look: the site's saved appearance (colours, font, corner radius, bot name and
avatar) turned into the CSS custom properties of static/meeting_link.css, so the reschedule page reads as the chat
the visitor booked in.

Every colour the page writes text on gets a text colour that reads on it (the site's text colour when its contrast
is 4.5:1 or more, else white or near-black, whichever reads better): the page must stay readable whatever the site
chose for its widget.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from overture.sites import appearance, avatars
from overture.sites.models import Site

_FALLBACK_TEXTS = ("#ffffff", "#111827")
_SYSTEM_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'


@dataclass(frozen=True)
class Look:
    """`variables` are CSS custom properties (name -> value, every value validated when the site saved it);
    `avatar_url` is a same-origin path or None (the page shows the bot name's initial)."""

    bot_name: str
    avatar_url: str | None
    variables: dict[str, str]

    @property
    def initial(self) -> str:
        return self.bot_name[:1].upper()

    @property
    def css(self) -> str:
        """`:root{...}` for the page's nonce'd <style>: hex colours, whole pixels and a font name of letters,
        digits, spaces and hyphens (appearance.py refuses anything else), so nothing here can end the rule."""
        return ":root{" + "".join(f"{name}:{value};" for name, value in self.variables.items()) + "}"


def look_of(session: Session, site_key: str | None) -> Look:
    """The look of the meeting's site; the default appearance when the meeting has no site or it is gone."""
    site = session.scalar(select(Site).where(Site.key == site_key)) if site_key else None
    saved = appearance.stored(site.appearance if site is not None else None)
    avatar = avatars.find(session, site) if site is not None else None
    colors = saved.colors
    variables = {
        "--ov-header": colors.header,
        "--ov-header-text": readable(colors.text, colors.header),
        "--ov-buttons": colors.buttons,
        "--ov-buttons-text": readable(colors.text, colors.buttons),
        "--ov-background": colors.background,
        "--ov-text": readable(colors.text, colors.background),
        "--ov-radius": f"{saved.corner_radius}px",
        "--ov-font": _font(saved.font),
    }
    return Look(
        bot_name=saved.bot_name,
        avatar_url=avatars.url_path(site.key, avatar.sha256) if site is not None and avatar is not None else None,
        variables=variables,
    )


def readable(preferred: str, background: str) -> str:
    """`preferred` when it reads on `background` (WCAG AA, 4.5:1), else the better of white and near-black."""
    if appearance.contrast_ratio(preferred, background) >= appearance.CONTRAST_MINIMUM:
        return preferred
    return max(_FALLBACK_TEXTS, key=lambda text: appearance.contrast_ratio(text, background))


def _font(font: appearance.Font) -> str:
    # A web font's stylesheet lives on another origin, which the page's CSP does not load: its name is tried
    # first (installed on many machines), then the system's font.
    if font.family == "web" and font.name:
        return f'"{font.name}", {_SYSTEM_FONT}'
    return _SYSTEM_FONT
