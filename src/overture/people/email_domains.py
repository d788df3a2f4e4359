"""Email domains: the domain of an address, whether it is a free-mail one, whether it falls under a list of
domains (a domain covers its subdomains), and the company a work domain stands for.

The free-mail list is the data file `free_email_domains.txt` shipped in this package, read once per process.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import cache
from importlib import resources

FREE_EMAIL_DOMAINS_FILE = "free_email_domains.txt"
# Second-level labels under which country domains register names ("acme.co.uk", "acme.com.au"): the company is the
# label before them. A heuristic, enough to name a company; it decides nothing else.
_SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gv", "ltd", "plc"}


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def normalize_email(email: str) -> str:
    """The form emails are stored and compared in: stripped and lower-cased."""
    return email.strip().lower()


def normalize_domain(text: str) -> str:
    """A domain in the one form Overture stores and compares, whoever typed it and where: lower case, without a
    leading @ or *., a scheme, a path, "www." or a trailing dot ("@Acme.com", "*.acme.com", "acme.com." and
    "https://www.acme.com/about" are all "acme.com"). Never refuses: see `parse_domain` for that."""
    domain = _SCHEME.sub("", text.strip().lower().lstrip("@")).split("/", 1)[0]
    return domain.removeprefix("*.").removeprefix("www.").strip(".")


class NotADomain(ValueError):
    """The text is no domain name; the message says so in a sentence."""


def parse_domain(text: str) -> str:
    """`normalize_domain`, refusing what is not then a domain name like acme.com (raises NotADomain)."""
    domain = normalize_domain(text)
    if not _DOMAIN.match(domain):
        raise NotADomain(f"'{text.strip()}' is not a domain name like acme.com.")
    return domain


def domain_of(email: str) -> str:
    """The domain of an address (what follows the last @), normalised; "" when there is none."""
    _, at, domain = email.rpartition("@")
    return normalize_domain(domain) if at else ""


def within(domain: str, domains: Collection[str]) -> bool:
    """True when `domain` is one of `domains` or a subdomain of one ("eu.acme.com" is within {"acme.com"})."""
    return any(suffix in domains for suffix in _suffixes(domain))


def _suffixes(domain: str) -> Iterable[str]:
    """ "a.b.c" -> "a.b.c", "b.c", "c"."""
    labels = domain.split(".")
    return (".".join(labels[index:]) for index in range(len(labels)))


@cache
def free_domains() -> frozenset[str]:
    """The maintained list of free-mail domains (the packaged data file), read once."""
    text = resources.files("overture.people").joinpath(FREE_EMAIL_DOMAINS_FILE).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(normalize_domain(line) for line in lines if line and not line.startswith("#"))


def is_free(domain: str) -> bool:
    return within(domain, free_domains())


def registrable(domain: str) -> str:
    """The name a company registered: "eu.mail.acme.com" -> "acme.com", "shop.acme.co.uk" -> "acme.co.uk"."""
    labels = domain.split(".")
    if len(labels) <= 2:
        return domain
    keep = 3 if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def company_domains(domain: str) -> list[str]:
    """The domains a company of this email domain may be known by, most specific first, down to the registrable
    one ("eu.acme.com" -> ["eu.acme.com", "acme.com"])."""
    top = registrable(domain)
    found = []
    for suffix in _suffixes(domain):
        found.append(suffix)
        if suffix == top:
            break
    return found


def company_name(domain: str) -> str:
    """A company name made from its domain: "acme.com" -> "Acme", "blue-sky.co.uk" -> "Blue Sky"."""
    label = registrable(domain).split(".")[0]
    words = label.replace("_", "-").split("-")
    return " ".join(word[:1].upper() + word[1:] for word in words if word) or domain


def blocklist(blocked: Iterable[str], block_free: bool) -> frozenset[str]:
    """The domains a site refuses email captures from: those its admins listed, and every free-mail domain when
    the site takes work emails only."""
    listed = {normalize_domain(domain) for domain in blocked} - {""}
    return frozenset(listed | free_domains()) if block_free else frozenset(listed)
