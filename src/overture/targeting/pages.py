"""Page rules (`pages: {include: [...], exclude: [...]}`), compiled once into matchers; the page's address is parsed
once per decision (`Address.parse`). docs/targeting.md is the user's side of these rules.

- `url: PATTERN` with `*` wildcards. `*` alone matches every page. A pattern starting with `/` matches the path
  (and query) only, on any host of the site. Otherwise it is a full address: `scheme://host/path`, where a missing
  scheme means http or https. In the host, a `*` standing for a whole label matches one or more labels, and a
  leading `*.` also matches the bare domain (`https://*.example.com/*` covers example.com and www.example.com); a
  `*` inside a label matches within that label. In the path `*` matches anything, `/` included. The query is
  ignored unless the pattern has a `?`, in which case the query must match what follows it.
- `url_contains: TEXT`: the address (query included) contains the text.
- `url_regex: PATTERN`: Python regular expression searched in the address without its query (anchor it with ^ and
  $), cut to its first 512 characters; validation refuses patterns that could take too long.
- `query: {name: value}`: every listed parameter is present with that value (`*` = any value; values ignore
  case). With `url`, `url_contains` or `url_regex` in the same rule, both must hold.

Scheme and host ignore case; the path and the query are case-sensitive. A trailing slash never matters for `url`
patterns: /pricing, /pricing/ and a pattern /pricing/* all cover https://example.com/pricing. The fragment (#...) is
always ignored; default ports (:443 for https, :80 for http) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qs, urlsplit

from overture.dialogues.document import PageRule, Pages
from overture.sites.addresses import lower_scheme_and_host

# The longest address a rule is tested against; longer ones are cut (bounds the cost of any regex).
MAX_ADDRESS = 2048
# The longest address (without query) a url_regex searches: even a quadratic pattern stays fast on it. Validation
# (dialogues/validation.py) times every pattern on adversarial addresses up to this length.
MAX_REGEX_SUBJECT = 512


class Address:
    """A page's address, split and normalised once for every rule of every dialogue."""

    __slots__ = ("url", "scheme", "host", "path", "raw_path", "query", "__dict__")

    def __init__(self, url: str) -> None:
        self.url = url[:MAX_ADDRESS]
        try:
            parts = urlsplit(lower_scheme_and_host(self.url.strip()))
        except ValueError:  # e.g. an unbalanced [ in the host: nothing but `*` and url_contains can match
            parts = urlsplit("")
        self.scheme = parts.scheme
        self.host = parts.netloc.rpartition("@")[2]
        self.raw_path = parts.path
        self.path = parts.path.rstrip("/")  # trailing slash tolerant; the root is ""
        self.query = parts.query

    @classmethod
    def parse(cls, url: str) -> Address:
        return cls(url)

    @cached_property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"

    @cached_property
    def whole(self) -> str:
        """scheme://host/path, trailing slash removed: what full `url` patterns match."""
        return self.origin + self.path

    @cached_property
    def with_query(self) -> str:
        """The address with its query: what `url_contains` looks in."""
        return self.origin + self.raw_path + (f"?{self.query}" if self.query else "")

    @cached_property
    def without_query(self) -> str:
        """The address without its query: what `url_regex` searches."""
        return (self.origin + self.raw_path)[:MAX_REGEX_SUBJECT]

    @cached_property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    @cached_property
    def segment(self) -> str:
        """The first segment of the path: "pricing" for /pricing/team, "" for the root."""
        return self.path[1:].partition("/")[0]


@dataclass(frozen=True)
class CompiledRule:
    """One page rule: `test` says whether an address matches; `text` is how explanations name it; `prefix` is how
    every path it can match starts, after the slash ("pricing" for /pricing*; None when it may match any path)."""

    test: Callable[[Address], bool]
    text: str
    prefix: str | None


@dataclass(frozen=True)
class PageMatcher:
    """A dialogue's compiled page rules. No include rule = every page; an exclude rule always wins."""

    include: tuple[CompiledRule, ...]
    exclude: tuple[CompiledRule, ...]

    @property
    def prefixes(self) -> frozenset[str] | None:
        """How every path this dialogue can show on starts (after the slash), or None when it may show on any."""
        if not self.include or any(rule.prefix is None for rule in self.include):
            return None
        return frozenset(rule.prefix for rule in self.include if rule.prefix is not None)

    def fits_segment(self, segment: str) -> bool:
        """False when no page whose path's first segment is `segment` can match: a cheap filter before `matches`."""
        prefixes = self.prefixes
        return prefixes is None or any(fits_segment(prefix, segment) for prefix in prefixes)

    def matches(self, address: Address) -> bool:
        if self.include:
            for rule in self.include:
                if rule.test(address):
                    break
            else:
                return False
        for rule in self.exclude:
            if rule.test(address):
                return False
        return True

    def why_not(self, address: Address) -> str | None:
        """None when the page matches; else why not, in a sentence."""
        if self.include and not any(rule.test(address) for rule in self.include):
            return f"page {address.url} is not in the include list"
        for rule in self.exclude:
            if rule.test(address):
                return f"excluded by {rule.text}"
        return None


def compile_pages(pages: Pages) -> PageMatcher:
    """Compiles a dialogue's page rules. Raises re.error for a url_regex that does not compile (validation refuses
    those first)."""
    return PageMatcher(tuple(compile_rule(rule) for rule in pages.include), tuple(map(compile_rule, pages.exclude)))


def compile_rule(rule: PageRule) -> CompiledRule:
    tests: list[Callable[[Address], bool]] = []
    texts: list[str] = []
    prefix: str | None = None
    if rule.url is not None:
        test, prefix = _url_test(rule.url)
        tests.append(test)
        texts.append(rule.url)
    elif rule.url_contains is not None:
        needle = rule.url_contains
        tests.append(lambda address: needle in address.with_query)
        texts.append(f"url containing {needle}")
    elif rule.url_regex is not None:
        search = re.compile(rule.url_regex).search
        tests.append(lambda address: search(address.without_query) is not None)
        texts.append(f"url matching {rule.url_regex}")
    if rule.query:
        tests.append(_query_test(rule.query))
        texts.append("query " + "&".join(f"{name}={value}" for name, value in rule.query.items()))
    if len(tests) == 1:
        return CompiledRule(tests[0], texts[0], prefix)
    first, second = tests
    return CompiledRule(lambda address: first(address) and second(address), " with ".join(texts), prefix)


# --- url patterns ------------------------------------------------------------------------------------------------


def _glob(text: str, star: str) -> str:
    return star.join(re.escape(piece) for piece in text.split("*"))


def _host_regex(host: str) -> str:
    if host == "*":
        return r"[^/]+"
    labels = host.lower().split(".")
    leading = ""
    if labels[0] == "*" and len(labels) > 1:
        leading, labels = r"(?:[^/]+\.)?", labels[1:]  # `*.example.com` also covers example.com itself
    return leading + r"\.".join(r"[^/]+" if label == "*" else _glob(label, r"[^./]*") for label in labels)


def _path_regex(path: str) -> tuple[str, str]:
    """The regex of a path pattern (trailing slash tolerant) and its literal start."""
    path = path.rstrip("/") if not path.endswith("/*") else path
    if path.endswith("/*"):
        base = path[:-2].rstrip("/")
        return _glob(base, ".*") + "(?:/.*)?", base.split("*")[0]
    return _glob(path, ".*"), path.split("*")[0]


def _url_test(pattern: str) -> tuple[Callable[[Address], bool], str | None]:
    """The test of a `url` pattern and the literal start of the paths it matches (see `prefix_of`)."""
    pattern = lower_scheme_and_host(pattern.strip())  # `HTTPS://Example.COM:443/*` is https://example.com/*
    if pattern == "*":
        return (lambda address: True), None
    path_only = pattern.startswith("/")
    if path_only:
        head, path = "", pattern
    else:
        scheme, sep, rest = pattern.partition("://")
        if not sep:
            scheme, rest = "", pattern
        host, slash, path = rest.partition("/")
        path = slash + path
        scheme_regex = _glob(scheme.lower(), "[^/]*") if scheme else "https?"
        head = f"{scheme_regex}://{_host_regex(host)}"
    path, has_query, query = path.partition("?")
    path_regex, literal = _path_regex(path)
    if has_query:
        matcher = re.compile(head + path_regex + r"\?" + _glob(query, ".*")).fullmatch
        subject: Callable[[Address], str] = (
            (lambda a: f"{a.path}?{a.query}") if path_only else (lambda a: f"{a.whole}?{a.query}")
        )
        test: Callable[[Address], bool] = lambda address: matcher(subject(address)) is not None  # noqa: E731
    elif path_only:
        path_matcher = re.compile(path_regex).fullmatch
        test = lambda address: path_matcher(address.path) is not None  # noqa: E731
    else:
        whole_matcher = re.compile(head + path_regex).fullmatch
        test = lambda address: whole_matcher(address.whole) is not None  # noqa: E731
    return test, prefix_of(literal)


def prefix_of(literal_path: str) -> str | None:
    """The literal start of a path pattern after its slash ("pricing" for /pricing*), or None when it has none."""
    if literal_path.startswith("/") and len(literal_path) > 1:
        return literal_path[1:]
    return None


def fits_segment(prefix: str, segment: str) -> bool:
    """Whether a path starting with /`prefix` can have `segment` as its first segment."""
    return segment.startswith(prefix) or prefix.startswith(segment + "/")


def _query_test(wanted: dict[str, str]) -> Callable[[Address], bool]:
    expected: Sequence[tuple[str, str]] = tuple((name, value.casefold()) for name, value in wanted.items())

    def test(address: Address) -> bool:
        params = address.params
        for name, value in expected:
            given = params.get(name)
            if given is None or (value != "*" and all(item.casefold() != value for item in given)):
                return False
        return True

    return test
