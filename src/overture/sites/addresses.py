"""The origins and email domains an admin gives a site, checked and normalised before they are stored, and the one
rule for reading any web address: scheme and host ignore case (pure).

An origin is what a browser sends in its Origin header: scheme, host and port, no path (`https://www.example.com`).
`https://*.example.com` covers every subdomain of example.com (matching is in `origins.py`). Stored origins are
lower-case, without a default port or a trailing slash, exactly as browsers send them, so matching stays a string
comparison.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Plain http is for trying Overture on one's own machine; a real website is served over https.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# scheme "://" authority, then the rest (path, query, fragment) exactly as given.
_ADDRESS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", re.S)


class InvalidValue(ValueError):
    """The value is not valid; the message says why, in a sentence a marketer understands."""


def lower_scheme_and_host(url: str) -> str:
    """`url` with its scheme and host in lower case and a default port (:443 for https, :80 for http) dropped, so that
    `HTTPS://Example.COM:443/Pricing` reads as `https://example.com/Pricing`. The path, query and fragment keep their
    case: web servers treat /Pricing and /pricing as different pages. Any user name keeps its case too. A text that
    does not start with scheme://  is returned as it is (a path-only pattern, or something a later check refuses).

    Every place that reads a web address (page rules, site origins, the visit call, explain) goes through this."""
    match = _ADDRESS.fullmatch(url)
    if match is None:
        return url
    scheme, authority, rest = match.groups()
    scheme = scheme.lower()
    user, at, host = authority.rpartition("@")
    host = host.lower()
    default_port = f":{DEFAULT_PORTS[scheme]}" if scheme in DEFAULT_PORTS else None
    if default_port and host.endswith(default_port):
        host = host.removesuffix(default_port)
    return f"{scheme}://{user}{at}{host}{rest}"


def _host_name(host: str) -> str:
    """`host` as a lower-case ASCII host name (international names in their xn-- form); raises InvalidValue."""
    try:
        ascii_host = host.lower() if host.isascii() else host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidValue(f"'{host}' is not a valid host name.") from None
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_host.split(".")):
        raise InvalidValue(f"'{host}' is not a valid host name.")
    return ascii_host


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def normalise_origin(text: str) -> str:
    """`text` as an origin: lower-case, without a default port or a trailing slash. Raises InvalidValue naming what
    is wrong (no scheme, a path, http on a public host, a misplaced wildcard...)."""
    value = text.strip()
    if _SPACE_OR_CONTROL.search(value):
        raise InvalidValue(f"'{value}' has spaces or invisible characters; write one origin per line.")
    if "://" not in value:
        raise InvalidValue(f"'{value}' has no scheme: write it in full, e.g. https://{value}.")
    parts = urlsplit(lower_scheme_and_host(value))
    scheme = parts.scheme
    if scheme not in DEFAULT_PORTS:
        raise InvalidValue(f"'{value}' must start with https:// (or http:// for localhost).")
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise InvalidValue(f"'{value}' has a path: an origin is scheme and host only, e.g. https://www.example.com.")
    if "@" in parts.netloc:
        raise InvalidValue(f"'{value}' has a user name: an origin is scheme and host only.")
    host = parts.hostname or ""
    if not host:
        raise InvalidValue(f"'{value}' has no host name.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise InvalidValue(f"'{value}' has a port that is not a number from 1 to 65535.")
    wildcard = host.startswith("*.")
    base = host.removeprefix("*.")
    if "*" in base:
        raise InvalidValue(f"'{value}': a wildcard is allowed only at the start, as in https://*.example.com.")
    if _is_ipv4(base):
        if wildcard:
            raise InvalidValue(f"'{value}': a wildcard covers subdomains of a domain name, not of an IP address.")
        name = base
    else:
        name = _host_name(base)
        if wildcard and "." not in name:
            raise InvalidValue(f"'{value}': a wildcard must cover the subdomains of one domain, e.g. *.example.com.")
    if scheme == "http" and name not in LOCAL_HOSTS:
        raise InvalidValue(f"'{value}': use https. Plain http is allowed only for localhost and 127.0.0.1.")
    netloc = ("*." if wildcard else "") + name
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def normalise_domain(text: str) -> str:
    """`text` as an email domain, lower-case (`example.com`; a leading @ is dropped); raises InvalidValue."""
    value = text.strip().removeprefix("@")
    problem = InvalidValue(f"'{value}' is not a domain: write it like example.com.")
    if not value or _SPACE_OR_CONTROL.search(value) or "." not in value.strip("."):
        raise problem
    try:
        return _host_name(value.rstrip("."))
    except InvalidValue:
        raise problem from None
