"""Which web pages may use a site's widget: the Origin of a browser request against the site's allowed origins."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


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
