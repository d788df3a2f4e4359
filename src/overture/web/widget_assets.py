"""Serves the widget's files: /widget.js (the loader a site's snippet names), /widget/panel.js and /widget/panel.css
(loaded only when a dialogue shows). Each answer carries an ETag, the hash of its content, and a 304 answers a
matching If-None-Match. The loader names the panel's files with a content hash (?v=...), so those addresses may be
cached for a year; the loader's own address never changes, so browsers keep it briefly and revalidate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from overture.sites.appearance import LAUNCHER_ICON_PATHS, Launcher

router = APIRouter(include_in_schema=False)

PANEL_VERSION_PLACEHOLDER = "__PANEL_VERSION__"
# The launcher's icon before the visit answer draws the site's: the default one, from the one table of icons.
DEFAULT_ICON_PLACEHOLDER = "__DEFAULT_ICON__"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# The loader's address is in every customer's pages: short enough that a new release reaches visitors within the
# hour, long enough that a visitor's page views within a visit do not ask again.
LOADER_MAX_AGE = 3600
HASHED_MAX_AGE = 31_536_000


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str
    etag: str


def _read(name: str) -> str:
    return _compact((resources.files("overture") / "widget" / name).read_text(encoding="utf-8"))


def _compact(source: str) -> str:
    """The source without its comment lines and indentation: what the visitor downloads is smaller, with no build
    step and nothing a browser could read differently (only whole comment lines and leading spaces go)."""
    kept: list[str] = []
    in_comment = False
    for line in source.splitlines():
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_comment = "*/" not in stripped
            if stripped.endswith("*/") or in_comment:
                continue
        if not stripped or stripped.startswith("//"):
            continue
        kept.append(stripped)
    return "\n".join(kept) + "\n"


def _asset(text: str, media_type: str) -> Asset:
    content = text.encode()
    return Asset(content, media_type, '"' + hashlib.sha256(content).hexdigest()[:32] + '"')


@cache
def panel_version() -> str:
    """The hash of the panel's files, which the loader puts in their addresses."""
    return hashlib.sha256((_read("panel.js") + "\0" + _read("panel.css")).encode()).hexdigest()[:16]


@cache
def widget_assets() -> dict[str, Asset]:
    """The three files by name, read once: the loader carries the hash of the panel's files it loads and the
    default launcher icon."""
    panel_js, panel_css = _read("panel.js"), _read("panel.css")
    loader = (
        _read("overture.js")
        .replace(PANEL_VERSION_PLACEHOLDER, panel_version())
        .replace(DEFAULT_ICON_PLACEHOLDER, LAUNCHER_ICON_PATHS[Launcher().icon])
    )
    return {
        "widget.js": _asset(loader, JAVASCRIPT),
        "panel.js": _asset(panel_js, JAVASCRIPT),
        "panel.css": _asset(panel_css, CSS),
    }


def _serve(request: Request, asset: Asset, max_age: int) -> Response:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": f"public, max-age={max_age}" + (", immutable" if max_age == HASHED_MAX_AGE else ""),
        # Any site may load the widget; the API calls it makes are what each site's origins restrict.
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    wanted = request.headers.get("if-none-match", "")
    if asset.etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(asset.content, media_type=asset.media_type, headers=headers)


def _hashed(request: Request) -> bool:
    """Only the current hash is cached for long: an old page asking for an old hash gets today's file, briefly."""
    return request.query_params.get("v") == panel_version()


@router.get("/widget.js")
def loader(request: Request) -> Response:
    return _serve(request, widget_assets()["widget.js"], LOADER_MAX_AGE)


@router.get("/widget/panel.js")
def panel_script(request: Request) -> Response:
    return _serve(request, widget_assets()["panel.js"], HASHED_MAX_AGE if _hashed(request) else LOADER_MAX_AGE)


@router.get("/widget/panel.css")
def panel_styles(request: Request) -> Response:
    return _serve(request, widget_assets()["panel.css"], HASHED_MAX_AGE if _hashed(request) else LOADER_MAX_AGE)
