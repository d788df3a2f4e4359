"""An uploaded SVG made safe to show: only the drawing survives.

Allow-list, not block-list: an element or attribute we do not know is dropped, so a new way to run script or
fetch something is dropped too. What goes: scripts, event handlers (on*), foreignObject, images, links, animation,
<style> sheets, any reference that is not to an element of the same file (href, url(...)), and every other
namespace. A document type declaration is refused outright, so no entity can expand or be fetched. Elements may
nest MAX_DEPTH deep: the depth is counted while parsing, so a deeper file is refused before the tree is walked
(walking and writing it are recursive, and a few thousand levels would exhaust Python's stack).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import cast

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"

ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
        "polyline", "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
    }
)  # fmt: skip
ATTRIBUTES = frozenset(
    {
        "id", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx",
        "fy", "d", "points", "transform", "preserveAspectRatio", "version", "fill", "fill-opacity", "fill-rule",
        "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-opacity", "stroke-dasharray",
        "stroke-dashoffset", "stroke-miterlimit", "opacity", "offset", "stop-color", "stop-opacity",
        "gradientUnits", "gradientTransform", "spreadMethod", "clip-path", "clip-rule", "clipPathUnits", "mask",
        "maskUnits", "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline",
        "letter-spacing", "style", "class", "visibility", "display",
    }
)  # fmt: skip
MAX_DEPTH = 100  # drawings nest a handful of groups; editors rarely go past 20
_FEED = 16 * 1024  # parse in pieces, so the depth check stops a deep file early

# A reference to an element of this file: url(#id). Any other url( (another file, data:, javascript:) goes.
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z][\w.-]*\s*\)")
# Inline style: plain declarations only (no url(), no escapes, no @rules).
_PLAIN_STYLE = re.compile(r"^[A-Za-z0-9\s:;#.,%-]*$")


class UnsafeSvg(ValueError):
    """The file cannot be read as an SVG we can make safe; the message says why, for the person uploading it."""


def sanitise(content: bytes) -> bytes:
    """The SVG with only drawing elements and attributes left, as UTF-8. Raises UnsafeSvg when it is not an SVG
    (or has a document type declaration)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsafeSvg("The SVG is not UTF-8 text.") from None
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise UnsafeSvg("SVG files with a DOCTYPE or ENTITY declaration are refused: export the SVG without one.")
    root = _parse(text)
    if root.tag != f"{{{SVG}}}svg":
        raise UnsafeSvg("The file is not an SVG image (its root element is not <svg>).")
    _clean(root)
    ElementTree.register_namespace("", SVG)
    ElementTree.register_namespace("xlink", XLINK)
    clean: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
    return clean


def _parse(text: str) -> ElementTree.Element:
    """The document's root element. Raises UnsafeSvg when it is not well-formed or nests deeper than MAX_DEPTH."""
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(events=("start", "end"))
    root: ElementTree.Element | None = None
    depth = 0
    try:
        pieces = [text[at : at + _FEED] for at in range(0, len(text), _FEED)]
        for piece in [*pieces, None]:
            if piece is None:
                parser.close()  # raises for a document left unfinished
            else:
                parser.feed(piece)
            for event, element in parser.read_events():  # type: ignore[misc]  # (name, element) for these events
                if event == "end":
                    depth -= 1
                    continue
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnsafeSvg(
                        f"The SVG is nested too deeply: its elements go more than {MAX_DEPTH} levels deep. "
                        "Flatten its groups and upload it again."
                    )
                if root is None:
                    root = cast(ElementTree.Element, element)
    except ElementTree.ParseError as exc:
        raise UnsafeSvg(f"The SVG is not well-formed XML ({exc}).") from None
    assert root is not None  # the parser refuses a document without an element
    return root


def _clean(element: ElementTree.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag, SVG) not in ELEMENTS:
            element.remove(child)  # comments, processing instructions, unknown or foreign elements
        else:
            _clean(child)
    for name, value in list(element.attrib.items()):
        if not _attribute_kept(name, value):
            del element.attrib[name]
    if element.tail and not element.tail.strip():
        element.tail = None


def _attribute_kept(name: str, value: str) -> bool:
    if name in ("href", f"{{{XLINK}}}href"):
        return value.strip().startswith("#")
    if name not in ATTRIBUTES:
        return False  # event handlers, other namespaces, anything unknown
    if name == "style":
        return bool(_PLAIN_STYLE.fullmatch(value))
    return "(" not in _LOCAL_URL.sub("", value) or name in ("transform", "gradientTransform")


def _local(tag: str, namespace: str) -> str | None:
    prefix = f"{{{namespace}}}"
    return tag[len(prefix) :] if tag.startswith(prefix) else None


def square_side(content: bytes) -> float | None:
    """The side of a sanitised SVG's square viewBox (or width and height), None when it is not square."""
    root = ElementTree.fromstring(content)
    box = root.get("viewBox")
    if box:
        parts = re.split(r"[\s,]+", box.strip())
        try:
            width, height = float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            return None
    else:
        try:
            width = float((root.get("width") or "").removesuffix("px"))
            height = float((root.get("height") or "").removesuffix("px"))
        except ValueError:
            return None
    return width if width == height and width > 0 else None
