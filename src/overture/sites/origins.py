"""Which web pages may use a site's widget: the Origin of a browser request (and the page's address when the call
names one) against the site's allowed origins. Every widget call uses this one rule."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from overture.sites.addresses import DEFAULT_PORTS


def origin_allowed(origins: Iterable[str], origin: str | None, own_origin: str) -> bool:
    """True when a request from `origin` may use the site.

    No Origin header means no browser page is asking (a server or a script): the widget API is public anyway. A
    browser page may when its origin is Overture's own (the demo, the admin's preview) or one of the site's
    origins, where `https://*.example.com` covers every subdomain (not the bare domain: list it too).
    `own_origin` may be Overture's base URL: its path is ignored.
    """
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    own = urlsplit(own_origin.lower())
    if origin == (f"{own.scheme}://{own.netloc}" if own.scheme and own.netloc else own_origin.lower().rstrip("/")):
        return True
    for allowed in origins:
        allowed = allowed.lower().rstrip("/")
        if allowed == origin:
            return True
        scheme, _, host = allowed.partition("://*.")
        if host and origin.startswith(scheme + "://") and origin.endswith("." + host):
            return True
    return False


def origin_of(url: str) -> str | None:
    """The origin of an absolute http(s) address as a browser would send it (lower-case, no default port), or None
    for anything else (empty, relative, another scheme, unreadable)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def refused_origin(origins: Iterable[str], origin: str | None, page_url: str | None, own_origin: str) -> str | None:
    """The origin that may not use the site, or None when the call may.

    A browser page's call is judged by its Origin header, which the page cannot change; when the call also names
    the page (a page URL), that address must be of an allowed origin too. No Origin header means no browser page
    is asking (a server-to-server script, curl), as `origin_allowed` says: allowed, whatever URL it names.
    """
    origins = tuple(origins)
    if origin is None:
        return None
    if not origin_allowed(origins, origin, own_origin):
        return origin
    page_origin = origin_of(page_url) if page_url else None
    if page_origin is not None and not origin_allowed(origins, page_origin, own_origin):
        return page_origin
    return None
