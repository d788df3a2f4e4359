"""The appearance document (defaults, validation with every problem's path, contrast per WCAG 2.1) and the avatar
rules (type from the bytes, size, square, SVG sanitising)."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from overture.db import Database, utcnow
from overture.errors import InvalidInput
from overture.sites import appearance as appearances
from overture.sites import avatars
from overture.sites import service as sites
from overture.sites.image_headers import read_header
from overture.sites.svg_sanitiser import sanitise


def png(width: int, height: int) -> bytes:
    """A real (tiny, valid) PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


GIF_1x1 = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
# 16x16 baseline JPEG header (APP0, then SOF0 with the size), enough for the header reader.
JPEG_16 = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9"
)
WEBP_LOSSLESS_4 = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f" + struct.pack("<I", 3 | (3 << 14)) + b"\x00" * 8


# --- the document ------------------------------------------------------------------------------------------------


def test_an_empty_document_gives_every_default_and_the_defaults_are_readable() -> None:
    appearance = appearances.validate({})
    assert appearance == appearances.defaults()
    assert appearance.launcher.position == "bottom-right" and appearance.font.family == "inherit"
    assert appearance.sound == "off" and 0 <= appearance.response_delay_ms <= 5000
    assert appearances.contrast_warnings(appearance) == []


def test_colours_are_normalised_to_lower_case_six_digit_hex() -> None:
    appearance = appearances.validate({"colors": {"header": "#ABC", "launcher": " #0B3D91 "}})
    assert appearance.colors.header == "#aabbcc" and appearance.colors.launcher == "#0b3d91"


def test_every_problem_is_reported_with_its_path_and_a_sentence() -> None:
    with pytest.raises(InvalidInput) as caught:
        appearances.validate(
            {
                "colors": {"header": "blue", "shadow": "#000000"},
                "font": {"family": "web", "name": "Inter"},
                "corner_radius": 99,
                "launcher": {"position": "top-left", "offset_x": -5, "icon": "rocket"},
                "response_delay_ms": 9000,
                "sound": "airhorn",
                "teaser": {"text": "", "mobile": True},
                "privacy_policy_url": "http://example.com/privacy",
                "z_index": "high",
            }
        )
    problems = {p.path: p.message for p in caught.value.problems}
    assert problems["colors.header"] == "Use a hex colour such as #1f5fbf."
    assert problems["colors.shadow"] == "'shadow' is not an appearance setting."
    assert "web font needs its family name and the https address" in problems["font"]
    assert problems["corner_radius"] == "Use a number from 0 to 32."
    assert problems["launcher.offset_x"] == "Use a number from 0 to 200."
    assert problems["response_delay_ms"] == "Use a number from 0 to 5000."
    assert "bottom-left" in problems["launcher.position"] and "chat" in problems["launcher.icon"]
    assert "chime" in problems["sound"]
    assert "teaser's text" in problems["teaser"]
    assert "https://" in problems["privacy_policy_url"]
    assert problems["z_index"] == "Use a whole number."


def test_a_web_font_needs_an_https_stylesheet_and_a_plain_family_name() -> None:
    good = appearances.validate({"font": {"family": "web", "name": "Open Sans", "url": "https://f.example/os.css"}})
    assert good.font.name == "Open Sans"
    with pytest.raises(InvalidInput) as caught:
        appearances.validate({"font": {"family": "web", "name": "x;}body{", "url": "javascript:alert(1)"}})
    assert {p.path for p in caught.value.problems} == {"font.name", "font.url"}


@pytest.mark.parametrize(
    ("foreground", "background", "ratio"),
    [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#777777", "#ffffff", 4.48),
        ("#0000ff", "#fff", 8.59),
    ],
)
def test_contrast_ratio_follows_wcag_2_1(foreground: str, background: str, ratio: float) -> None:
    assert appearances.contrast_ratio(foreground, background) == pytest.approx(ratio, abs=0.01)
    assert appearances.contrast_ratio(background, foreground) == pytest.approx(ratio, abs=0.01)


def test_text_below_4_5_to_1_on_an_element_is_warned_about_naming_the_pair() -> None:
    appearance = appearances.validate(
        {"colors": {"header_text": "#777777", "header": "#ffffff", "buttons_text": "#767676", "text": "#999999"}}
    )
    warnings = appearances.contrast_warnings(appearance)
    assert warnings[0] == (
        "The header's text (#777777) on the header (#ffffff) has a contrast of 4.47:1, below the 4.5:1 that WCAG 2.1 "
        "AA asks for: some visitors cannot read it."
    )
    assert "The button text (#767676) on the buttons (#c9dcff)" in warnings[1]
    assert "The panel text (#999999) on the panel's background (#ffffff)" in warnings[2]
    assert list(appearances.contrast_by_color(appearance)) == ["header", "buttons", "background"]
    readable = appearances.validate({"colors": {"text": "#000000"}})
    assert appearances.contrast_warnings(readable) == []


def test_an_automatic_text_colour_is_dark_or_white_whichever_reads_better_on_its_element() -> None:
    appearance = appearances.validate({"colors": {"header": "#0b3d91", "buttons": "#222222"}})
    assert appearance.colors.header_text is None  # automatic, as stored
    assert appearance.colors.text_on("header") == "#ffffff" and appearance.colors.text_on("buttons") == "#ffffff"
    assert appearance.colors.text_on("bot_bubble") == "#1b2330"
    assert appearances.contrast_warnings(appearance) == []


def test_a_dark_header_with_white_text_leaves_the_bubbles_dark_on_light_for_the_widget() -> None:
    chosen = appearances.validate({"colors": {"header": "#0b3d91", "header_text": "#ffffff"}})
    painted = appearances.WidgetAppearance.model_validate(chosen.model_dump()).colors
    assert (painted.header_text, painted.bot_bubble_text, painted.visitor_bubble_text, painted.buttons_text) == (
        "#ffffff",
        "#1b2330",
        "#1b2330",
        "#1b2330",
    )
    assert appearances.WidgetAppearance().colors.header_text == "#1b2330"  # the visit call's defaults, worked out


@pytest.mark.parametrize(
    ("launcher", "ink"),
    [("#1f5fbf", "#ffffff"), ("#ffee00", "#111111"), ("#ff0000", "#111111"), ("#767676", "#111111"),
     ("#757575", "#ffffff"), ("#000000", "#ffffff"), ("#ffffff", "#111111")],
)  # fmt: skip
def test_the_launcher_icon_is_near_black_or_white_whichever_contrasts_more_with_the_launcher(
    launcher: str, ink: str
) -> None:
    """The loader's rule before the server drew the launcher (#767676 and #757575 sit either side of the turn)."""
    widget = appearances.WidgetAppearance.model_validate({"colors": {"launcher": launcher}})
    assert widget.launcher.ink == ink


def test_the_widget_gets_the_path_of_the_launcher_icon_chosen_and_every_icon_has_one() -> None:
    assert set(appearances.LAUNCHER_ICON_PATHS) == set(appearances.LAUNCHER_ICONS)
    for icon in appearances.LAUNCHER_ICONS:
        widget = appearances.WidgetAppearance.model_validate({"launcher": {"icon": icon}})
        assert widget.launcher.icon_path == appearances.LAUNCHER_ICON_PATHS[icon]
    assert appearances.WidgetAppearance().launcher.icon_path.startswith("M4 4h16")  # the chat bubble


def test_a_widget_appearance_validated_again_works_its_launcher_out_again() -> None:
    chosen = {"colors": {"launcher": "#ffee00"}, "launcher": {"icon": "wave"}}
    drawn = appearances.WidgetAppearance.model_validate(chosen)
    recoloured = drawn.model_dump() | {"colors": {"launcher": "#0b3d91"}}
    again = appearances.WidgetAppearance.model_validate(recoloured).launcher
    assert (again.icon, again.ink, again.icon_path) == ("wave", "#ffffff", drawn.launcher.icon_path)


def test_a_version_1_document_is_upgraded_when_read_and_keeps_its_look() -> None:
    old = {"bot_name": "Ada", "colors": {"header": "#0b3d91", "text": "#ffffff"}}
    upgraded = appearances.stored(old)
    assert upgraded.version == 2 and upgraded.bot_name == "Ada"
    colors = upgraded.colors
    assert {colors.header_text, colors.bot_bubble_text, colors.visitor_bubble_text, colors.buttons_text} == {"#ffffff"}
    assert colors.text == "#ffffff"
    assert appearances.stored({"colors": {"header": "#0b3d91"}}).colors.header_text == "#1b2330"  # v1's default ink
    assert appearances.stored({}) == appearances.defaults()  # nothing saved: today's defaults, automatic text


def test_a_text_colour_is_a_hex_colour_or_none() -> None:
    with pytest.raises(InvalidInput) as caught:
        appearances.validate({"colors": {"header_text": "white", "text": None}})
    assert {p.path: p.message for p in caught.value.problems} == {
        "colors.header_text": "Use a hex colour such as #1f5fbf.",
        "colors.text": "Use a hex colour such as #1f5fbf.",
    }


def test_a_stored_document_that_no_longer_validates_gives_the_defaults() -> None:
    assert appearances.stored({"corner_radius": "round"}) == appearances.defaults()


def test_saving_stores_the_complete_document(db: Database) -> None:
    with db.write() as session:
        appearances.save(session, sites.get(session, "www"), {"bot_name": "Ada"})
    with db.read() as session:
        stored = sites.get(session, "www").appearance
    assert stored["bot_name"] == "Ada" and stored["colors"]["text"] == appearances.defaults().colors.text
    assert stored["version"] == 2 and stored["colors"]["header_text"] is None


# --- avatar images -----------------------------------------------------------------------------------------------


def test_image_sizes_are_read_from_png_gif_jpeg_and_webp_headers() -> None:
    wide = read_header(png(40, 30))
    assert wide is not None and (wide.content_type, wide.width, wide.height) == ("image/png", 40, 30)
    gif = read_header(GIF_1x1)
    assert gif is not None and (gif.content_type, gif.width, gif.height) == ("image/gif", 1, 1)
    jpeg = read_header(JPEG_16)
    assert jpeg is not None and (jpeg.content_type, jpeg.width, jpeg.height) == ("image/jpeg", 16, 16)
    webp = read_header(WEBP_LOSSLESS_4)
    assert webp is not None and (webp.content_type, webp.width, webp.height) == ("image/webp", 4, 4)
    assert read_header(b"not an image at all") is None and read_header(b"\x89PNG\r\n\x1a\n") is None


def test_a_square_small_image_is_accepted_with_the_type_of_its_bytes() -> None:
    checked = avatars.check(png(64, 64))
    assert checked.content_type == "image/png"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (png(64, 48), "64x48 px: use a square one"),
        (png(256, 256), "use at most 200x200 px"),
        (png(64, 64) + b"\x00" * (256 * 1024), "KB: use one of at most 256 KB"),
        (b"%PDF-1.7 not an image", "Use a PNG, JPEG, GIF, WebP or SVG image."),
    ],
)
def test_an_avatar_that_breaks_a_rule_is_refused_saying_which(content: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        avatars.check(content)
    assert words in caught.value.message and caught.value.problems[0].path == "avatar"


EVIL_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 64 64"
  onload="alert(1)">
  <script>alert(2)</script>
  <style>@import url(https://evil.example/x.css);</style>
  <foreignObject width="64" height="64"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <image href="https://evil.example/track.png" width="10" height="10"/>
  <a href="javascript:alert(3)"><rect width="5" height="5"/></a>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
  <circle cx="32" cy="32" r="30" fill="url(#g)" stroke="url(https://evil.example/s)" onclick="alert(4)"
    style="fill: red; background: url(https://evil.example/b)"/>
  <use xlink:href="https://evil.example/sprite.svg#a"/>
  <use href="#g"/>
  <path d="M0 0L10 10" transform="rotate(45)"/>
</svg>"""


def test_an_svg_keeps_its_drawing_and_loses_scripts_handlers_and_external_references() -> None:
    clean = sanitise(EVIL_SVG).decode()
    for gone in ("script", "alert", "onload", "onclick", "foreignObject", "<image", "evil.example", "@import", "<a "):
        assert gone not in clean, gone
    for kept in ('<circle cx="32" cy="32" r="30" fill="url(#g)"', 'href="#g"', 'transform="rotate(45)"', "stop-color"):
        assert kept in clean, kept
    assert avatars.check(EVIL_SVG).content_type == "image/svg+xml"


def test_an_svg_with_a_doctype_or_a_non_square_view_box_is_refused() -> None:
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    )
    with pytest.raises(InvalidInput, match="DOCTYPE or ENTITY"):
        avatars.check(billion)
    with pytest.raises(InvalidInput, match="not square"):
        avatars.check(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"><rect width="1" height="1"/></svg>')
    with pytest.raises(InvalidInput, match="not an SVG image"):
        avatars.check(b'<html xmlns="http://www.w3.org/1999/xhtml"><svg/></html>')


def test_uploading_replaces_the_avatar_and_removing_it_leaves_none(db: Database) -> None:
    with db.write() as session:
        site = sites.get(session, "www")
        first = avatars.upload(session, site, png(32, 32), utcnow()).sha256
        second = avatars.upload(session, site, GIF_1x1, utcnow()).sha256
        assert first != second
    with db.write() as session:
        site = sites.get(session, "www")
        avatar = avatars.find(session, site)
        assert avatar is not None and avatar.content_type == "image/gif" and avatar.sha256 == second
        assert avatars.remove(session, site) is True
        assert avatars.remove(session, site) is False
        assert avatars.find(session, site) is None
