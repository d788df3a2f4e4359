"""How the widget looks on a site: the appearance document, its defaults, its validation and the contrast check.

The document is stored in `sites.appearance` ({} = every default) and returned by the visit call. Every setting has
a default, so a partial document is complete once validated; unknown settings are refused, so a typo is not
silently ignored. The avatar is not part of the document: it is a file (see `avatars.py`).

Version 2 gave the header, each bubble and the buttons their own text colour (none: black or white, whichever reads
better); version 1 had one `colors.text` for all of them. A stored version 1 document is upgraded when read, keeping
its look: each element's text colour is its old `text`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.orm import Session

from overture import signals
from overture.errors import InvalidInput, Problem
from overture.sites.models import Site

LauncherIcon = Literal["chat", "message", "question", "wave", "sparkle"]
Sound = Literal["off", "chime", "pop", "ding"]  # the sounds the widget ships; off = silent
LAUNCHER_ICONS: tuple[str, ...] = get_args(LauncherIcon)
# Each launcher icon as the widget draws it: SVG path data in a 24 x 24 box, holes cut with the even-odd rule.
LAUNCHER_ICON_PATHS: dict[str, str] = {
    "chat": "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    "message": "M2 5h20v14H2zm2 2v1l8 5 8-5V7z",
    "question": (
        "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-1 14h2v2h-2zm1-10a4 4 0 0 0-4 4h2a2 2 0 1 1 2 2h-1v3h2v-1.2"
        "A4 4 0 0 0 12 6z"
    ),
    "wave": (
        "M7 11V5a1.5 1.5 0 0 1 3 0v5h1V3a1.5 1.5 0 0 1 3 0v7h1V4.5a1.5 1.5 0 0 1 3 0V14a7 7 0 0 1-12.6 4.2"
        "L3.2 13a1.5 1.5 0 0 1 2.4-1.8z"
    ),
    "sparkle": (
        "M12 2l2.5 7.5L22 12l-7.5 2.5L12 22l-2.5-7.5L2 12l7.5-2.5zm7 0 .8 2.2L22 5l-2.2.8L19 8l-.8-2.2L16 5l2.2-.8z"
    ),
}
SOUNDS: tuple[str, ...] = get_args(Sound)
CONTRAST_MINIMUM = 4.5  # WCAG 2.1 AA for normal text
VERSION: Literal[2] = 2
# Each element the visitor reads text on: its text colour's setting, and the pair's names in warnings.
TEXT_BACKGROUNDS = {
    "header": ("header_text", "The header's text", "the header"),
    "bot_bubble": ("bot_bubble_text", "The bot's bubble text", "the bot's bubbles"),
    "visitor_bubble": ("visitor_bubble_text", "The visitor's bubble text", "the visitor's bubbles"),
    "buttons": ("buttons_text", "The button text", "the buttons"),
    "background": ("text", "The panel text", "the panel's background"),
}
# The automatic text colour: the default dark ink or white, whichever contrasts more with the element.
DARK_INK, LIGHT_INK = "#1b2330", "#ffffff"
# The launcher's icon is near-black or white, whichever contrasts more with the launcher (white on a tie).
LAUNCHER_DARK_INK = "#111111"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A font family name as CSS reads it unquoted: letters, digits, spaces and hyphens.
_FONT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,59}$")

Pixels = Annotated[int, Field(ge=0, le=200)]


def _plain_text(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("Remove the invisible control characters.")
    return value


def _https_url(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"https://[^\s\x00-\x1f\x7f\"'<>\\]+", value):
        raise ValueError("Use a full https:// address, e.g. https://www.example.com/privacy.")
    return value


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Colors(_Part):
    """A hex colour (#rrggbb) for each element, and for each element's text. A text colour left empty (None) is
    automatic: dark or white, whichever reads better on its element. `text` is the panel's own text (on
    `background`); the launcher's icon is always black or white."""

    header: str = "#dbe7f7"
    header_text: str | None = None
    bot_bubble: str = "#eef1f5"
    bot_bubble_text: str | None = None
    visitor_bubble: str = "#d4e4ff"
    visitor_bubble_text: str | None = None
    buttons: str = "#c9dcff"
    buttons_text: str | None = None
    text: str = DARK_INK
    background: str = "#ffffff"
    launcher: str = "#1f5fbf"

    @field_validator("*", mode="before")
    @classmethod
    def _hex(cls, value: object, info: ValidationInfo) -> str | None:
        if value is None and cls.model_fields[str(info.field_name)].default is None:
            return None
        if not isinstance(value, str) or not _HEX.fullmatch(value.strip()):
            raise ValueError("Use a hex colour such as #1f5fbf.")
        value = value.strip().lower()
        if len(value) == 4:  # #abc is #aabbcc
            value = "#" + "".join(digit * 2 for digit in value[1:])
        return value

    def text_on(self, element: str) -> str:
        """The colour of the text on `element` (a key of TEXT_BACKGROUNDS): the chosen one, or the automatic one."""
        chosen: str | None = getattr(self, TEXT_BACKGROUNDS[element][0])
        return chosen or readable_on(getattr(self, element))

    def resolved(self) -> Colors:
        """Every automatic text colour replaced by the colour it stands for (what the widget paints)."""
        return self.model_copy(
            update={setting: self.text_on(element) for element, (setting, *_) in TEXT_BACKGROUNDS.items()}
        )


class Font(_Part):
    """`inherit`: the host page's body font; `system`: the operating system's font; `web`: a named web font loaded
    from `url` (a stylesheet, e.g. from Google Fonts or the site itself)."""

    family: Literal["inherit", "system", "web"] = "inherit"
    name: str | None = Field(default=None, max_length=60, description="The web font's family name, e.g. Inter.")
    url: str | None = Field(default=None, max_length=500, description="The https address of its stylesheet.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _FONT_NAME.fullmatch(value.strip()):
            raise ValueError("Use the font's family name: letters, digits, spaces and hyphens (e.g. Open Sans).")
        return value.strip()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _https_url(value) if value is not None and value.strip() else None

    @model_validator(mode="after")
    def _web_font_complete(self) -> Font:
        if self.family == "web" and (self.name is None or self.url is None):
            raise ValueError("A web font needs its family name and the https address of its stylesheet.")
        return self


class Launcher(_Part):
    position: Literal["bottom-right", "bottom-left"] = "bottom-right"
    offset_x: Pixels = Field(default=20, description="Distance from the left or right edge, in px.")
    offset_y: Pixels = Field(default=20, description="Distance from the bottom edge, in px.")
    icon: LauncherIcon = "chat"


class Teaser(_Part):
    """The short message ("poke") beside the closed launcher, shown separately on desktop and on mobile."""

    text: str = Field(default="Questions? We are here to help.", max_length=140)
    desktop: bool = True
    mobile: bool = False

    @field_validator("text")
    @classmethod
    def _clean(cls, value: str) -> str:
        return _plain_text(value)

    @model_validator(mode="after")
    def _text_when_shown(self) -> Teaser:
        if (self.desktop or self.mobile) and not self.text:
            raise ValueError("Write the teaser's text, or turn it off on desktop and mobile.")
        return self


class Appearance(_Part):
    """The whole appearance document, every setting with its default."""

    version: Literal[2] = Field(default=VERSION, description="The document's shape; older ones are upgraded.")
    header_label: str = Field(default="Chat with us", min_length=1, max_length=60)
    bot_name: str = Field(default="Assistant", min_length=1, max_length=40)
    colors: Colors = Field(default_factory=Colors)
    font: Font = Field(default_factory=Font)
    corner_radius: int = Field(default=12, ge=0, le=32, description="Rounding of the panel and bubbles, in px.")
    launcher: Launcher = Field(default_factory=Launcher)
    response_delay_ms: int = Field(default=700, ge=0, le=5000, description="Typing time before each bot message.")
    sound: Sound = "off"
    teaser: Teaser = Field(default_factory=Teaser)
    privacy_policy_url: str | None = Field(default=None, max_length=500)
    z_index: int = Field(default=2147483000, ge=0, le=2147483647)

    @field_validator("header_label", "bot_name", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        return _plain_text(value) if isinstance(value, str) else value

    @field_validator("privacy_policy_url")
    @classmethod
    def _privacy(cls, value: str | None) -> str | None:
        return _https_url(value) if value is not None and value.strip() else None


class WidgetLauncher(Launcher):
    """The launcher as the widget draws it: the settings, and what they resolve to."""

    ink: str = Field(description="The icon's colour: #111111 or #ffffff, whichever contrasts more with the launcher.")
    icon_path: str = Field(description="The icon's SVG path data (a 24 x 24 box, even-odd fill).")


class WidgetAppearance(Appearance):
    """What the widget receives: the appearance with the avatar's address (None: no avatar, show initials), every
    colour worked out and the launcher's icon drawn, so the widget only applies them."""

    avatar_url: str | None = None
    colors: Colors = Field(default_factory=Colors, validate_default=True)
    launcher: WidgetLauncher = Field(default_factory=dict, validate_default=True)

    @field_validator("colors", mode="after")
    @classmethod
    def _painted(cls, colors: Colors) -> Colors:
        """The widget gets every text colour as a colour: the automatic ones are worked out here, once."""
        return colors.resolved()

    @field_validator("launcher", mode="before")
    @classmethod
    def _drawn(cls, value: object, info: ValidationInfo) -> object:
        """The launcher's settings with the icon's colour on the launcher colour (`colors`, validated before it)
        and the chosen icon's path, worked out again when a widget appearance is validated anew."""
        if isinstance(value, Launcher):
            value = value.model_dump()
        if isinstance(value, Mapping):
            value = {key: setting for key, setting in value.items() if key not in ("ink", "icon_path")}
        settings = Launcher.model_validate(value)
        colors = info.data.get("colors") or Colors()
        drawn = {"ink": launcher_ink(colors.launcher), "icon_path": LAUNCHER_ICON_PATHS[settings.icon]}
        return {**settings.model_dump(), **drawn}


def defaults() -> Appearance:
    return Appearance()


def validate(data: Mapping[str, Any]) -> Appearance:
    """The document, complete (defaults for what is missing) and normalised (colours as lower-case #rrggbb).
    Raises InvalidInput listing every problem with its path (e.g. `colors.header`)."""
    try:
        return Appearance.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        message = problems[0].message if len(problems) == 1 else f"The appearance has {len(problems)} problems."
        raise InvalidInput(f"The appearance is not saved. {message}", problems) from None


def stored(data: Mapping[str, Any] | None) -> Appearance:
    """A stored document as the widget uses it, upgraded to this version; one that no longer validates gives the
    defaults rather than a broken widget."""
    try:
        return Appearance.model_validate(upgrade(data or {}))
    except ValidationError:
        return Appearance()


def upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document in this version's shape. Version 1 (no `version`) wrote its one `colors.text` on the
    header, both bubbles and the buttons: each of them keeps that colour, so a saved look does not change."""
    document = dict(data)
    if not document or "version" in document:
        return document
    colors = dict(document.get("colors") or {})
    ink = colors.get("text", DARK_INK)
    for element, (setting, *_) in TEXT_BACKGROUNDS.items():
        if element != "background":
            colors.setdefault(setting, ink)
    return {**document, "colors": colors, "version": VERSION}


def save(session: Session, site: Site, data: Mapping[str, Any]) -> Appearance:
    """Validates the document and makes it the site's appearance (settings left out take their defaults).
    Raises InvalidInput listing every problem, and then changes nothing."""
    appearance = validate(data)
    site.appearance = appearance.model_dump(mode="json")
    session.flush()
    signals.bump(session, signals.TARGETING)  # the visit call's appearance comes from the targeting cache
    return appearance


def _problem(error: Mapping[str, Any]) -> Problem:
    path = ".".join(str(part) for part in error["loc"]) or "appearance"
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    elif kind == "extra_forbidden":
        message = f"'{error['loc'][-1]}' is not an appearance setting."
    elif kind in ("greater_than_equal", "less_than_equal"):
        field = _bounds(error["loc"])
        message = f"Use a number from {field[0]} to {field[1]}." if field else str(error["msg"])
    elif kind == "literal_error":
        message = f"Use one of: {context.get('expected', '')}."
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = "Use a whole number."
    elif kind in ("string_too_long", "too_long"):
        message = f"Too long: use at most {context.get('max_length')} characters."
    elif kind == "string_too_short":
        message = "This is empty: write one."
    elif kind in ("bool_parsing", "bool_type"):
        message = "Use true or false."
    else:
        message = str(error["msg"])
    return Problem(path, message)


def _bounds(location: tuple[Any, ...]) -> tuple[int, int] | None:
    """The (ge, le) of the numeric setting at `location`."""
    model: type[BaseModel] = Appearance
    for part in location[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    info = model.model_fields.get(str(location[-1]))
    if info is None:
        return None
    low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    return (int(low), int(high)) if low is not None and high is not None else None


# --- contrast (WCAG 2.1, 1.4.3) ------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    """Relative luminance of a #rrggbb colour, as WCAG 2.1 defines it."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05) with L1 the lighter colour: 1.0 (same colour) to 21.0 (black on white)."""
    first, second = (_luminance(Colors(text=c).text) for c in (foreground, background))
    lighter, darker = max(first, second), min(first, second)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(background: str) -> str:
    """DARK_INK or LIGHT_INK, whichever contrasts more with `background`."""
    dark, light = contrast_ratio(DARK_INK, background), contrast_ratio(LIGHT_INK, background)
    return DARK_INK if dark >= light else LIGHT_INK


def launcher_ink(launcher: str) -> str:
    """The launcher icon's colour on `launcher`: LAUNCHER_DARK_INK or white, whichever contrasts more."""
    on_dark, on_white = contrast_ratio("#000000", launcher), contrast_ratio(LIGHT_INK, launcher)
    return LAUNCHER_DARK_INK if on_dark > on_white else LIGHT_INK


def _low_contrasts(appearance: Appearance) -> list[tuple[str, str]]:
    """(element, warning) for each element whose text contrast is below 4.5:1, in a fixed order; the warning names
    both colours of the pair."""
    colors = appearance.colors
    found = []
    for element, (_, text, label) in TEXT_BACKGROUNDS.items():
        background, ink = getattr(colors, element), colors.text_on(element)
        ratio = contrast_ratio(ink, background)
        if ratio < CONTRAST_MINIMUM:
            found.append(
                (
                    element,
                    f"{text} ({ink}) on {label} ({background}) has a contrast of {_floor(ratio)}:1, below the "
                    f"{CONTRAST_MINIMUM}:1 that WCAG 2.1 AA asks for: some visitors cannot read it.",
                )
            )
    return found


def contrast_warnings(appearance: Appearance) -> list[str]:
    """A sentence for each element whose text contrast is below 4.5:1 (WCAG 2.1 AA): header, bot bubble, visitor
    bubble, buttons, background, in that order."""
    return [warning for _, warning in _low_contrasts(appearance)]


def contrast_by_color(appearance: Appearance) -> dict[str, str]:
    """The same warnings by the colour they are about (`header`, `buttons`...), to show each beside its colour."""
    return dict(_low_contrasts(appearance))


def _floor(ratio: float) -> str:
    """Rounded down to two decimals, so 4.499 never reads as 4.5."""
    return f"{int(ratio * 100) / 100:.2f}"
